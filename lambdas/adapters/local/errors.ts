import { FleetTelemetryError, RetryableError } from '../../domain/errors.js';

/** Base of the errors the local adapters raise on purpose. */
export class LocalAdapterError extends FleetTelemetryError {}

/**
 * The store file cannot be used as it is: written by a newer schema, not a store at all, or opened
 * read-only before any writer created its schema. Fatal: fix the file or the code, retrying won't.
 */
export class StoreSchemaError extends LocalAdapterError {}

/**
 * SQLite result codes (better-sqlite3 `SqliteError.code`) that a later attempt can succeed on: another
 * connection holds the lock past busy_timeout, or the disk was full / failed for a moment.
 * https://www.sqlite.org/rescode.html
 */
const TRANSIENT_SQLITE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|PROTOCOL)/;

/** True when `err` is a SQLite error that a retry can fix. */
function isTransientSqliteError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_SQLITE.test(code);
}

/**
 * Runs one store call, turning a transient SQLite failure into a RetryableError naming `where`, so the
 * use case reports the records as batch item failures. Anything else is rethrown as it is.
 */
export function sqliteCall<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isTransientSqliteError(err)) {
      throw new RetryableError(`${where}: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
}
