import { RetryableError } from '../../domain/errors.js';

/*
 * Which AWS SDK errors a retry can fix. The lists follow the SDK's own classification
 * (smithy-typescript `service-error-classification/constants.ts`, aws-sdk-js-v3): throttling
 * names, 429, HTTP 500/502/503/504, timeouts and Node network errors. The SDK has already retried
 * these (standard mode, 3 attempts) by the time they reach us; we turn what is left into a
 * RetryableError so the records go back to the stream, instead of failing the whole invocation.
 * Everything else (ValidationException, AccessDenied, ResourceNotFound, a missing table) is a
 * configuration or data error that a retry cannot fix, and propagates unchanged.
 */

const THROTTLING_NAMES = new Set([
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  // Server-side faults by name, for when the HTTP status is not on the error (e.g. a mocked error).
  'InternalServerException',
  'InternalServerError',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);

const NODE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

interface SdkErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  readonly $retryable?: unknown;
}

/** True when a retry can fix `error`: throttling, HTTP 429 or 5xx, a timeout, a dropped connection. */
export function isTransientAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (error instanceof RetryableError) return true;
  const e = error as SdkErrorLike;
  if (typeof e.name === 'string' && (THROTTLING_NAMES.has(e.name) || TRANSIENT_NAMES.has(e.name))) return true;
  if (typeof e.code === 'string' && NODE_NETWORK_CODES.has(e.code)) return true;
  if (e.$retryable !== undefined) return true;
  const status = e.$metadata?.httpStatusCode;
  return typeof status === 'number' && (status === 429 || status >= 500);
}

/**
 * `error` as a RetryableError saying where it happened when a retry can fix it; otherwise `error`
 * itself, unchanged, so the caller rethrows it and the whole invocation fails.
 */
export function retryableOr(error: unknown, where: string): unknown {
  if (error instanceof RetryableError) return error;
  if (!isTransientAwsError(error)) return error;
  const name = error instanceof Error ? error.name : 'error';
  const message = error instanceof Error ? error.message : String(error);
  return new RetryableError(`${where}: ${name}: ${message}`, { cause: error });
}
