import { FleetTelemetryError } from '../../../lambdas/domain/errors.js';

/** Base of every error the local event source mapping raises on purpose. */
export class EventSourceMappingError extends FleetTelemetryError {}

/** A settings object the Lambda API would refuse: shared with the CDK app's synth-time check. */
export { EventSourceMappingSettingsError } from '../../pipeline-validation.js';

/** `whenIdle` gave up: the consumer did not catch up in time (e.g. a record keeps failing). */
export class EventSourceMappingNotIdleError extends EventSourceMappingError {}
