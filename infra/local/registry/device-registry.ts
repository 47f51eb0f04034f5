/**
 * The local stand-in for IoT Core's thing registry and credentials: one SQLite file
 * (`<dataDir>/devices.db`) shared by the running stack (the broker reads it at every CONNECT) and the
 * `npm run devices` command line (which writes it at any time, from another process).
 */
import Database from 'better-sqlite3';
import { TELEMETRY_LIMITS } from '../../../lambdas/domain/model.js';
import {
  CorruptCredentialError,
  DeviceExistsError,
  InvalidDeviceIdError,
  InvalidDeviceOptionError,
} from './errors.js';
import {
  FAST_SCRYPT,
  digestsEqual,
  fastDigest,
  generatePassword,
  hashPassword,
  hashPasswordSync,
  saltOf,
  verifyPassword,
} from './password-hash.js';
import { RegistryError } from './errors.js';

export const DEVICE_ROLES = ['device', 'operator'] as const;
/** `device`: publishes its own telemetry, reads its own alarms. `operator`: reads every device's alarms. */
export type DeviceRole = (typeof DEVICE_ROLES)[number];

/** What the registry tells about a device. Never its password or hash. */
export interface DeviceInfo {
  readonly deviceId: string;
  readonly type?: string;
  readonly role: DeviceRole;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** A device that just proved its password, with a stamp of the credential it used. */
interface AuthenticatedDevice extends DeviceInfo {
  /** Opaque; changes whenever the device's password is set. Compare with `credentialStamp()`. */
  readonly credentialStamp: string;
}

interface DeviceOptions {
  /** Device type, used to scope threshold rules. 1 to 128 characters. */
  readonly type?: string;
  /** @default 'device' (on `upsert` of an existing device: its current role) */
  readonly role?: DeviceRole;
  /** @default a new 256-bit random secret, base64url */
  readonly password?: string;
}

export interface DeviceEntry extends DeviceOptions {
  readonly deviceId: string;
}

/** What `add`/`upsert` return: the only time the password is available in clear. */
export interface DeviceCredentials {
  readonly deviceId: string;
  /** Equal to the device id, which is also the MQTT client id. */
  readonly username: string;
  readonly password: string;
}

interface RegistryOpenOptions {
  /** How long a write waits for another process's write lock. @default 5000 (ms) */
  readonly busyTimeoutMs?: number;
}

interface DeviceRow {
  device_id: string;
  type: string | null;
  role: DeviceRole;
  password_hash: string;
  created_at: number;
}

interface CacheEntry {
  /** The stored hash the cached password was verified against: a new password changes it. */
  readonly storedHash: string;
  readonly digest: Buffer;
}

interface PreparedEntry {
  readonly deviceId: string;
  readonly type: string | null;
  readonly role: DeviceRole | null;
  readonly password: string;
}

const SCHEMA_VERSION = 1;
const MAX_TYPE_LENGTH = 128;
/** Hashes computed at once by addMany/upsertMany: enough to keep libuv's 4 threads busy, bounded memory. */
const HASH_CONCURRENCY = 16;

/**
 * The device registry: ids, roles, types and scrypt password hashes in SQLite (WAL, so the broker
 * reads while the CLI writes).
 *
 * @example
 * const registry = DeviceRegistry.open('data/devices.db');
 * const { password } = registry.add('sensor-0001', { type: 'env-sensor' });
 * await registry.verify('sensor-0001', password); // { deviceId: 'sensor-0001', role: 'device', ... }
 */
export class DeviceRegistry {
  private readonly verified = new Map<string, CacheEntry>();
  private readonly dummyHash = hashPasswordSync(generatePassword(), FAST_SCRYPT);
  private lastDataVersion: number;
  private localWrites = 0;
  private lastLocalWrites = 0;
  private closed = false;

  private readonly statements: {
    readonly get: Database.Statement<[string], DeviceRow>;
    readonly list: Database.Statement<[], DeviceRow>;
    readonly exists: Database.Statement<[string], { one: number }>;
    readonly insert: Database.Statement<[string, string | null, DeviceRole, string, number, number]>;
    readonly update: Database.Statement<[string | null, DeviceRole | null, string, number, string]>;
    readonly remove: Database.Statement<[string]>;
  };

  private constructor(private readonly db: Database.Database) {
    this.statements = {
      get: db.prepare('SELECT device_id, type, role, password_hash, created_at FROM devices WHERE device_id = ?'),
      list: db.prepare('SELECT device_id, type, role, password_hash, created_at FROM devices ORDER BY device_id'),
      exists: db.prepare('SELECT 1 AS one FROM devices WHERE device_id = ?'),
      insert: db.prepare(
        'INSERT INTO devices (device_id, type, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      update: db.prepare(
        'UPDATE devices SET type = coalesce(?, type), role = coalesce(?, role), password_hash = ?, updated_at = ? WHERE device_id = ?',
      ),
      remove: db.prepare('DELETE FROM devices WHERE device_id = ?'),
    };
    this.lastDataVersion = this.dataVersion();
  }

  /** Opens (creating if needed) the registry file. The directory must exist. */
  static open(file: string, options: RegistryOpenOptions = {}): DeviceRegistry {
    const db = new Database(file);
    try {
      // busy_timeout first: switching to WAL and migrating take locks another process may hold.
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      db.pragma('journal_mode = WAL');
      // Registrations are rare and batched (addMany is one transaction), so FULL costs little and a
      // registered device survives a power cut too.
      db.pragma('synchronous = FULL');
      migrate(db);
      return new DeviceRegistry(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Registers a new device; throws DeviceExistsError if the id is taken. Hashes synchronously (~1 ms). */
  add(deviceId: string, options: DeviceOptions = {}): DeviceCredentials {
    const entry = prepare({ deviceId, ...options });
    const hash = hashPasswordSync(entry.password);
    this.write(() => this.insertRow(entry, hash, Date.now()));
    return credentials(entry);
  }

  /**
   * Registers many new devices in one transaction: all or none (DeviceExistsError names the first
   * taken id). Hashes on the thread pool, so thousands take seconds, not minutes, and the event loop
   * stays free.
   */
  async addMany(entries: readonly DeviceEntry[]): Promise<DeviceCredentials[]> {
    const prepared = prepareAll(entries);
    for (const entry of prepared) {
      if (this.statements.exists.get(entry.deviceId)) throw new DeviceExistsError(entry.deviceId);
    }
    const hashes = await hashAll(prepared);
    const now = Date.now();
    this.write(() =>
      this.db.transaction(() => {
        prepared.forEach((entry, i) => this.insertRow(entry, hashes[i] as string, now));
      })(),
    );
    return prepared.map(credentials);
  }

  /**
   * Registers the device, or sets a new password on it if it exists (keeping its creation time, and its
   * type and role unless given). A device connected with the old password is disconnected by the broker.
   */
  upsert(deviceId: string, options: DeviceOptions = {}): DeviceCredentials {
    const entry = prepare({ deviceId, ...options });
    const hash = hashPasswordSync(entry.password);
    this.write(() => this.db.transaction(() => this.upsertRow(entry, hash, Date.now()))());
    return credentials(entry);
  }

  /** `upsert` for many devices in one transaction, hashing on the thread pool. */
  async upsertMany(entries: readonly DeviceEntry[]): Promise<DeviceCredentials[]> {
    const prepared = prepareAll(entries);
    const hashes = await hashAll(prepared);
    const now = Date.now();
    this.write(() =>
      this.db.transaction(() => {
        prepared.forEach((entry, i) => this.upsertRow(entry, hashes[i] as string, now));
      })(),
    );
    return prepared.map(credentials);
  }

  /** Deletes the device; false if there was none. The broker disconnects it within its poll interval. */
  remove(deviceId: string): boolean {
    const { changes } = this.write(() => this.statements.remove.run(deviceId));
    return changes > 0;
  }

  /** Every device, by id. */
  list(): DeviceInfo[] {
    return this.statements.list.all().map(toInfo);
  }

  get(deviceId: string): DeviceInfo | undefined {
    const row = this.statements.get.get(deviceId);
    return row ? toInfo(row) : undefined;
  }

  /** The device if `password` is its password, else undefined. See `authenticate`. */
  async verify(username: string, password: string | Buffer): Promise<DeviceInfo | undefined> {
    const device = await this.authenticate(username, password);
    if (!device) return undefined;
    const { credentialStamp: _stamp, ...info } = device;
    return info;
  }

  /**
   * Checks a username/password pair against the file as it is now (so a device added a moment ago by
   * another process is found). Constant-time comparisons; an unknown username costs the same scrypt as
   * a known one. A success is cached by (deviceId, SHA-256 of the password) until the stored hash
   * changes, so a reconnect storm costs one row read per device, not one scrypt.
   */
  async authenticate(username: string, password: string | Buffer): Promise<AuthenticatedDevice | undefined> {
    const row = TELEMETRY_LIMITS.deviceId.test(username) ? this.statements.get.get(username) : undefined;
    if (!row) {
      await verifyPassword(password, this.dummyHash);
      return undefined;
    }
    const digest = fastDigest(password);
    const cached = this.verified.get(row.device_id);
    if (cached && cached.storedHash === row.password_hash && digestsEqual(cached.digest, digest)) {
      return authenticated(row);
    }
    let matches: boolean;
    try {
      matches = await verifyPassword(password, row.password_hash);
    } catch (error) {
      throw new CorruptCredentialError(row.device_id, error instanceof Error ? error.message : String(error));
    }
    if (!matches) return undefined;
    this.verified.set(row.device_id, { storedHash: row.password_hash, digest });
    return authenticated(row);
  }

  /** The stamp of the device's current credential, or undefined if it is not registered. */
  credentialStamp(deviceId: string): string | undefined {
    const row = this.statements.get.get(deviceId);
    return row ? saltOf(row.password_hash) : undefined;
  }

  /**
   * True if the registry changed since the last call, by this connection or by any other process
   * (`PRAGMA data_version`, which only moves for other connections' commits, plus a local counter).
   * Also drops cached verifications of devices that were removed or got a new password.
   */
  pollChanges(): boolean {
    const version = this.dataVersion();
    const changed = version !== this.lastDataVersion || this.localWrites !== this.lastLocalWrites;
    this.lastDataVersion = version;
    this.lastLocalWrites = this.localWrites;
    if (changed) this.pruneCache();
    return changed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.verified.clear();
    this.db.close();
  }

  private dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  private pruneCache(): void {
    for (const [deviceId, entry] of this.verified) {
      if (this.statements.get.get(deviceId)?.password_hash !== entry.storedHash) this.verified.delete(deviceId);
    }
  }

  private write<T>(action: () => T): T {
    const result = action();
    this.localWrites += 1;
    return result;
  }

  private insertRow(entry: PreparedEntry, hash: string, now: number): void {
    try {
      this.statements.insert.run(entry.deviceId, entry.type, entry.role ?? 'device', hash, now, now);
    } catch (error) {
      if (isPrimaryKeyViolation(error)) throw new DeviceExistsError(entry.deviceId, { cause: error });
      throw error;
    }
  }

  private upsertRow(entry: PreparedEntry, hash: string, now: number): void {
    const { changes } = this.statements.update.run(entry.type, entry.role, hash, now, entry.deviceId);
    if (changes === 0) this.insertRow(entry, hash, now);
    this.verified.delete(entry.deviceId);
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new RegistryError(`devices.db schema version ${version} is newer than this code (${SCHEMA_VERSION})`);
  }
  if (version === SCHEMA_VERSION) return;
  db.exec(`
    CREATE TABLE IF NOT EXISTS devices (
      device_id     TEXT PRIMARY KEY,
      type          TEXT,
      role          TEXT NOT NULL CHECK (role IN ('device', 'operator')),
      password_hash TEXT NOT NULL,
      created_at    INTEGER NOT NULL,
      updated_at    INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    PRAGMA user_version = ${SCHEMA_VERSION};
  `);
}

function prepare(entry: DeviceEntry): PreparedEntry {
  const { deviceId, type, role, password } = entry;
  if (typeof deviceId !== 'string' || !TELEMETRY_LIMITS.deviceId.test(deviceId)) {
    throw new InvalidDeviceIdError(String(deviceId));
  }
  if (role !== undefined && !(DEVICE_ROLES as readonly string[]).includes(role)) {
    throw new InvalidDeviceOptionError(deviceId, 'role', `expected one of ${DEVICE_ROLES.join(', ')}, got ${JSON.stringify(role)}`);
  }
  if (type !== undefined && (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE_LENGTH)) {
    throw new InvalidDeviceOptionError(deviceId, 'type', `expected 1 to ${MAX_TYPE_LENGTH} characters`);
  }
  if (password !== undefined && (typeof password !== 'string' || password.length === 0)) {
    throw new InvalidDeviceOptionError(deviceId, 'password', 'must not be empty');
  }
  return { deviceId, type: type ?? null, role: role ?? null, password: password ?? generatePassword() };
}

function prepareAll(entries: readonly DeviceEntry[]): PreparedEntry[] {
  const seen = new Set<string>();
  return entries.map((entry) => {
    const prepared = prepare(entry);
    if (seen.has(prepared.deviceId)) {
      throw new InvalidDeviceOptionError(prepared.deviceId, 'deviceId', 'appears twice in one batch');
    }
    seen.add(prepared.deviceId);
    return prepared;
  });
}

async function hashAll(entries: readonly PreparedEntry[]): Promise<string[]> {
  const hashes = new Array<string>(entries.length);
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const i = next++;
      hashes[i] = await hashPassword((entries[i] as PreparedEntry).password);
    }
  };
  await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, entries.length) }, worker));
  return hashes;
}

function credentials(entry: PreparedEntry): DeviceCredentials {
  return { deviceId: entry.deviceId, username: entry.deviceId, password: entry.password };
}

function toInfo(row: DeviceRow): DeviceInfo {
  return {
    deviceId: row.device_id,
    ...(row.type === null ? {} : { type: row.type }),
    role: row.role,
    createdAt: row.created_at,
  };
}

function authenticated(row: DeviceRow): AuthenticatedDevice {
  return { ...toInfo(row), credentialStamp: saltOf(row.password_hash) };
}

function isPrimaryKeyViolation(error: unknown): boolean {
  return (
    error instanceof Error &&
    'code' in error &&
    (error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || error.code === 'SQLITE_CONSTRAINT_UNIQUE')
  );
}
