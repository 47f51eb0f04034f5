/** Where things are in the repository, resolved from this file so that any working directory works. */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (this file is infra/aws/paths.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The AWS composition root of one function: lambdas/<name>/handler.ts, exporting `handler`. */
export function handlerEntry(name: 'ingest' | 'alarms' | 'offline' | 'alarm-commands'): string {
  return join(REPO_ROOT, 'lambdas', name, 'handler.ts');
}
