/**
 * Password hashing for the local broker's credentials: scrypt (node:crypto) with a per-password random
 * salt, the parameters stored beside the key so they can change without invalidating stored hashes.
 *
 * Stored format (one string): `scrypt$<N>$<r>$<p>$<salt base64url>$<key base64url>`.
 *
 * Why two cost levels:
 * - Generated passwords are 256-bit random secrets. Guessing one costs 2^255 tries on average whatever
 *   the hash cost, so for them scrypt's work factor buys nothing; it only has to be a one-way function
 *   with a salt. What matters is throughput: a 10,000-device simulation registers and then connects
 *   every device, and each of those costs one hash. `FAST` (N=2^8, r=8, p=1: 256 KiB, about 0.6 to
 *   1 ms per hash on this project's 2-core machines, measured) keeps 10,000 devices at a few seconds
 *   of hashing, spread over libuv's thread pool so the event loop stays free.
 * - A password someone chose (the `password` option, shorter than 32 characters) may be guessable,
 *   so it gets `STRONG` (N=2^14, r=8, p=1: 16 MiB, tens of ms), the interactive-login cost scrypt's
 *   paper recommends. Only such passwords pay it.
 */
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { RegistryError } from './errors.js';

/** scrypt cost parameters (RFC 7914): CPU/memory cost N (a power of two), block size r, parallelism p. */
interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** For high-entropy (generated) secrets: throughput matters, guessing is hopeless anyway. */
export const FAST_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 8, r: 8, p: 1 });
/** For passwords a person may have chosen. */
const STRONG_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 14, r: 8, p: 1 });
/** A password at least this long is treated as a high-entropy secret (a generated one is 43). */
const HIGH_ENTROPY_MIN_LENGTH = 32;

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Upper bound on what a stored hash may ask for, so a tampered devices.db cannot exhaust memory. */
const MAX_N = 2 ** 20;

/** The parameters a new hash of this password gets (see the module comment). */
export function paramsFor(password: string): ScryptParams {
  return password.length >= HIGH_ENTROPY_MIN_LENGTH ? FAST_SCRYPT : STRONG_SCRYPT;
}

/** A new 256-bit random password, base64url (43 characters). */
export function generatePassword(): string {
  return randomBytes(32).toString('base64url');
}

interface ParsedHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly key: Buffer;
}

/** Reads a stored hash; throws a plain Error naming what is wrong (the caller adds the device). */
export function parseHash(stored: string): ParsedHash {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw new RegistryError('not an scrypt$N$r$p$salt$key string');
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const isPowerOfTwo = Number.isInteger(N) && N > 1 && N <= MAX_N && (N & (N - 1)) === 0;
  if (!isPowerOfTwo || !Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) {
    throw new RegistryError(`unsupported scrypt parameters N=${parts[1]} r=${parts[2]} p=${parts[3]}`);
  }
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const key = Buffer.from(parts[5] ?? '', 'base64url');
  if (salt.length === 0 || key.length === 0) throw new RegistryError('empty salt or key');
  return { params: { N, r, p }, salt, key };
}

/** The salt of a stored hash: random per password set, so it identifies one credential. */
export function saltOf(stored: string): string {
  return stored.split('$')[4] ?? '';
}

function format(params: ScryptParams, salt: Buffer, key: Buffer): string {
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** scrypt needs 128 * N * r bytes; Node refuses above `maxmem` (32 MiB by default). */
function maxmem(params: ScryptParams): number {
  return 256 * params.N * params.r;
}

function derive(password: string | Buffer, salt: Buffer, params: ScryptParams, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, { ...params, maxmem: maxmem(params) }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** Hashes on libuv's thread pool: the event loop is not blocked. */
export async function hashPassword(password: string, params: ScryptParams = paramsFor(password)): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  return format(params, salt, await derive(password, salt, params, KEY_BYTES));
}

/** Blocks for one hash (about 1 ms with FAST_SCRYPT): for one-off registrations such as the CLI's. */
export function hashPasswordSync(password: string, params: ScryptParams = paramsFor(password)): string {
  const salt = randomBytes(SALT_BYTES);
  return format(params, salt, scryptSync(password, salt, KEY_BYTES, { ...params, maxmem: maxmem(params) }));
}

/** Whether `password` matches `stored`, compared in constant time. Throws if `stored` is unreadable. */
export async function verifyPassword(password: string | Buffer, stored: string): Promise<boolean> {
  const { params, salt, key } = parseHash(stored);
  const candidate = await derive(password, salt, params, key.length);
  return timingSafeEqual(candidate, key);
}

/** A fast digest of a presented password, to recognise it again without scrypt (the verification cache). */
export function fastDigest(password: string | Buffer): Buffer {
  return createHash('sha256').update(password).digest();
}

/** Constant-time equality of two digests of equal length. */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
