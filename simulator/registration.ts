/**
 * Against the local stack, the simulator registers its own devices (and one operator account
 * that counts alarm events) in `<dataDir>/devices.db`, with new passwords for this run, so
 * `npm start` then `npm run simulate -- --devices 100` just works. On AWS, devices are things
 * with certificates and nothing is registered here.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DeviceRegistry } from '../infra/local/registry/index.js';
import type { DeviceEntry } from '../infra/local/registry/index.js';
import { RegistrationError } from './errors.js';

/** Credentials by device id (username = client id = device id). */
export type CredentialMap = ReadonlyMap<string, string>;

/** What to register. */
export interface RegistrationRequest {
  readonly dataDir: string;
  readonly devices: readonly { readonly deviceId: string; readonly type: string }[];
  /** The operator account's id; absent: none. */
  readonly operatorId?: string;
}

/** The registry file of a local stack's data folder. */
export function registryFile(dataDir: string): string {
  return join(dataDir, 'devices.db');
}

/**
 * Registers (or re-keys) every device and the operator in one transaction and returns their new
 * passwords. The registry generates 256-bit secrets, which it hashes with its fast scrypt setting
 * (see infra/local/registry/password-hash.ts), so 10,000 devices take seconds.
 */
export async function registerFleet(request: RegistrationRequest): Promise<CredentialMap> {
  const file = registryFile(request.dataDir);
  if (!existsSync(request.dataDir)) {
    throw new RegistrationError(`no data folder ${request.dataDir}: start the local stack (npm start) or pass --data DIR`);
  }
  const entries: DeviceEntry[] = request.devices.map((d) => ({ deviceId: d.deviceId, type: d.type, role: 'device' }));
  if (request.operatorId !== undefined) entries.push({ deviceId: request.operatorId, role: 'operator' });
  let registry: DeviceRegistry | undefined;
  try {
    registry = DeviceRegistry.open(file);
    const credentials = await registry.upsertMany(entries);
    return new Map(credentials.map((c) => [c.deviceId, c.password]));
  } catch (err) {
    throw new RegistrationError(`cannot register ${entries.length} devices in ${file}: ${(err as Error).message}`, { cause: err });
  } finally {
    registry?.close();
  }
}
