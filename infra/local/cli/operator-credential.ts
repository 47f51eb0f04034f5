/**
 * Where a local operator's MQTT credential is kept for the command lines that act as that operator
 * (`npm run alarms`): `<data>/credentials/<operatorId>.json`, written by
 * `npm run devices -- add <operatorId> --role operator --save-credential`. The registry keeps only a
 * hash, so the clear password must be saved at the one moment it exists; the folder is 0700 and the
 * file 0600, like an SSH key, so only the account that runs the stack can read it.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TELEMETRY_LIMITS } from '../../../lambdas/domain/model.js';
import type { DeviceCredentials } from '../registry/index.js';
import { UsageError } from '../../cli/cli-support.js';

export const CREDENTIALS_DIR = 'credentials';

/** The file holding `operatorId`'s credential in `dataDir`. */
export function credentialFile(dataDir: string, operatorId: string): string {
  if (!TELEMETRY_LIMITS.deviceId.test(operatorId)) throw new UsageError(`not a valid operator id: ${JSON.stringify(operatorId)}`);
  return join(resolve(dataDir), CREDENTIALS_DIR, `${operatorId}.json`);
}

/** Writes the credential (replacing an older one of the same id), readable by its owner only. */
export function saveCredential(dataDir: string, credentials: DeviceCredentials): string {
  const file = credentialFile(dataDir, credentials.deviceId);
  const dir = join(resolve(dataDir), CREDENTIALS_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  writeFileSync(file, `${JSON.stringify(credentials)}\n`, { mode: 0o600 });
  // `mode` applies only when the file is created: an older file keeps its mode otherwise.
  chmodSync(file, 0o600);
  return file;
}

/** Reads `operatorId`'s saved credential; a missing or unreadable one is a usage error naming the fix. */
export function readCredential(dataDir: string, operatorId: string): DeviceCredentials {
  const file = credentialFile(dataDir, operatorId);
  if (!existsSync(file)) {
    throw new UsageError(
      `no saved credential for operator ${operatorId} in ${resolve(dataDir)}: run npm run devices -- add ${operatorId} --role operator --save-credential --data ${dataDir}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new UsageError(`${file}: not a credential file (${(cause as Error).message})`, { cause });
  }
  const c = parsed as Partial<DeviceCredentials>;
  if (typeof c.username !== 'string' || typeof c.password !== 'string' || c.deviceId !== operatorId) {
    throw new UsageError(`${file}: not a credential of ${operatorId}`);
  }
  return { deviceId: c.deviceId, username: c.username, password: c.password };
}
