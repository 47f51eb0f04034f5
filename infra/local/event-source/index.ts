export { EventSourceMapping, defaultRetryDelayMs, laneOf } from './event-source-mapping.js';
export type { EventSourceMappingOptions, KinesisBatchHandler } from './event-source-mapping.js';
export { interpretResponse } from './response.js';
export type { BatchOutcome, InterpretOptions } from './response.js';
export { validateSettings } from './settings.js';
export { MAX_EVENT_BYTES, toKinesisStreamRecord } from './event.js';
export { LOCAL_AWS, executionRoleArn, kinesisStreamArn, lambdaFunctionArn } from './arn.js';
export { EventSourceMappingError, EventSourceMappingNotIdleError, EventSourceMappingSettingsError } from './errors.js';
export type { ConsumerStream } from './consumer-stream.js';
