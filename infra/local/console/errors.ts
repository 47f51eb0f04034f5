import { FleetTelemetryError } from '../../../lambdas/domain/errors.js';

/** Base of every error the local console raises on purpose. */
export class ConsoleError extends FleetTelemetryError {}

/** The console cannot start as configured (token, store schema, port): fail at start, naming it. */
export class ConsoleConfigError extends ConsoleError {}

/**
 * A request the console refuses: carries the HTTP status and a message safe to show to the caller
 * (it names the parameter or field, never internals).
 */
export class ConsoleRequestError extends ConsoleError {
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
