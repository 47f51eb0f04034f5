import { FleetTelemetryError } from '../../../lambdas/domain/errors.js';

/**
 * A rule SQL statement or substitution template that is malformed or outside the subset we evaluate.
 * Raised at compile time only: a compiled rule never throws while evaluating a message.
 *
 * The message ends with `at <offset>`: the 0-based character offset in the source text where the
 * problem starts, e.g. `unsupported function principal() at 7`.
 */
export class IotSqlError extends FleetTelemetryError {
  /** 0-based character offset in {@link IotSqlError.source} where the problem starts. */
  readonly offset: number;
  /** The SQL statement or template that failed to compile. */
  readonly source: string;

  constructor(reason: string, where: { offset: number; source: string }, options?: { cause?: unknown }) {
    super(`${reason} at ${where.offset}`, options);
    this.offset = where.offset;
    this.source = where.source;
  }
}
