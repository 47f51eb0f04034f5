/**
 * The simulator's errors. Each is a decision its caller makes differently: a bad option is the
 * user's to fix (usage, exit 2), an unreachable broker or a failed verification ends the run
 * (exit 1).
 */
import { ConfigError, FleetTelemetryError } from '../lambdas/domain/errors.js';

/** Base of every error the simulator raises on purpose. */
export class SimulatorError extends FleetTelemetryError {}

/** An option, flag or scenario that cannot work. `field` names the option (e.g. `--rate`, `anomalies[1].share`). */
export class SimulatorUsageError extends ConfigError {
  readonly field: string;
  constructor(field: string, reason: string, options?: { cause?: unknown }) {
    super(`${field}: ${reason}`, options);
    this.field = field;
  }
}

/** The broker could not be reached (or refused us) within the bounded connection attempts. */
export class BrokerUnreachableError extends SimulatorError {
  readonly endpoint: string;
  readonly attempts: number;
  constructor(endpoint: string, attempts: number, options?: { cause?: unknown }) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`cannot connect to ${endpoint} after ${attempts} attempt${attempts === 1 ? '' : 's'}${why}`, options);
    this.endpoint = endpoint;
    this.attempts = attempts;
  }
}

/** Registering the simulated devices in the local registry failed (`<dataDir>/devices.db`). */
export class RegistrationError extends SimulatorError {}

/** `--verify` could not read the local store. (Missing readings are a result, not this error.) */
export class VerifyError extends SimulatorError {}
