import { FleetTelemetryError } from '../../../lambdas/domain/errors.js';

/** Base of every error the local stream raises on purpose. */
export class StreamError extends FleetTelemetryError {}

/**
 * A record the stream refuses before anything is written (partition key, size, explicit hash key),
 * as Kinesis PutRecord answers ValidationException / InvalidArgumentException. Never retry it as is.
 */
export class StreamRecordInvalidError extends StreamError {}

/** The stream file was created with another name or shard count; local streams cannot be resharded. */
export class StreamConfigMismatchError extends StreamError {}

/** An append, read or checkpoint on a stream that has been closed. */
export class StreamClosedError extends StreamError {}
