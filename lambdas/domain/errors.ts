/** Base of every error the pipeline raises on purpose. */
export class FleetTelemetryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A transient failure (throttling, 5xx, a timeout): the records involved are retried. */
export class RetryableError extends FleetTelemetryError {}

/** A configuration that cannot work (thresholds file, environment, flags): fail at start, naming it. */
export class ConfigError extends FleetTelemetryError {}

/** A broken invariant: a bug in our code, or a dependency that broke its contract. Never retried. */
export class InvariantError extends FleetTelemetryError {}
