import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../domain/errors.js';

/**
 * The named environment variables, read once into a frozen object. Throws a ConfigError naming
 * every variable that is missing or empty, so a cold start fails with the fix in its message.
 *
 * @example
 * const env = readEnv(INGEST_ENV); // env.REJECT_QUEUE_URL: string
 */
export function readEnv<const Name extends string>(
  names: readonly Name[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Readonly<Record<Name, string>> {
  const missing = names.filter((name) => env[name] === undefined || env[name]?.trim() === '');
  if (missing.length > 0) {
    throw new ConfigError(
      `environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing or empty`,
    );
  }
  const values = {} as Record<Name, string>;
  for (const name of names) values[name] = env[name] as string;
  return Object.freeze(values);
}

/**
 * A file bundled with the function: `file` itself when absolute, else relative to the function's
 * code directory LAMBDA_TASK_ROOT (set by Lambda, docs lambda/latest/dg/configuration-envvars),
 * or to the working directory when that is unset (tests, local runs).
 */
export function resolveFromTaskRoot(file: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (isAbsolute(file)) return file;
  const root = env['LAMBDA_TASK_ROOT'];
  return root === undefined || root === '' ? resolve(file) : resolve(root, file);
}
