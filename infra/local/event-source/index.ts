/** The local Lambda event source mapping for Kinesis: batches, lanes, retries, bisection and the failure destination. */
export { EventSourceMapping, laneOf } from './event-source-mapping.js';
export type { KinesisBatchHandler } from './event-source-mapping.js';
export { interpretResponse } from './response.js';
export { validateSettings } from './settings.js';
export { EventSourceMappingNotIdleError, EventSourceMappingSettingsError } from './errors.js';
export { MAX_EVENT_BYTES } from './event.js';
export type { ConsumerStream } from './consumer-stream.js';
