import { FleetTelemetryError } from '../../../lambdas/domain/errors.js';

/** The consumers' worker thread could not start, is restarting, or did not stop in time. */
export class ConsumersWorkerError extends FleetTelemetryError {}
