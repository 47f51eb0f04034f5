/**
 * How every AWS SDK client of the functions talks to AWS: one place, so no client is built with the
 * SDK's defaults by accident. The defaults have no request timeout at all (the Node handler waits
 * on a socket until Lambda kills the invocation), so one hung connection would cost a whole
 * function timeout and then a retry of the whole batch.
 *
 * The choices:
 * - connection timeout 1 s: the endpoints are regional and in the same region as the function; a TCP
 *   and TLS handshake takes milliseconds, so a second means the path is broken, not slow.
 * - request timeout 5 s (request sent and response received): every call the functions make (DynamoDB
 *   GetItem/PutItem/Scan page, Timestream WriteRecords of 100 records, SQS and SNS batches, IoT
 *   Publish) answers in tens of milliseconds when healthy; 5 s leaves room for a slow Timestream
 *   write without letting a dead socket hold the invocation.
 * - retry: the SDK's `standard` mode (exponential backoff with full jitter, a retry quota that
 *   stops retrying when most calls fail) with 3 attempts in all. More attempts inside one
 *   invocation would only stack more waiting under a long outage; past these, our adapters turn a
 *   transient error into a batch item failure, and the event source mapping retries the records
 *   with its own backoff until their maximum record age (infra/pipeline.ts).
 * Worst case for one call (AWS_CLIENT_TIMEOUTS): 3 x (1 s + 5 s) plus the backoff between them,
 * about 20 s, under the smallest function timeout (alarms, 30 s).
 * SDK references: https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-maxsockets.html
 * (the requestHandler options shorthand, SDK 3.521+), https://docs.aws.amazon.com/AWSJavaScriptSDK/v3/latest/Package/-smithy-node-http-handler
 * (connectionTimeout, requestTimeout, throwOnRequestTimeout) and
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html (standard retry mode).
 */

interface AwsClientTimeouts {
  /** Milliseconds to establish the connection. */
  readonly connectionTimeoutMs: number;
  /** Milliseconds the request and its response may take before the attempt fails (and is retried). */
  readonly requestTimeoutMs: number;
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
}

export const AWS_CLIENT_TIMEOUTS: AwsClientTimeouts = Object.freeze({
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 5_000,
  maxAttempts: 3,
});

/** The part of an SDK v3 client configuration this module decides. */
interface AwsClientConfig {
  readonly maxAttempts: number;
  readonly retryMode: 'standard';
  readonly requestHandler: {
    readonly connectionTimeout: number;
    readonly requestTimeout: number;
    readonly throwOnRequestTimeout: true;
  };
}

/**
 * The configuration to spread into every SDK client a composition root builds:
 * `new DynamoDBClient({ ...awsClientConfig() })`.
 * @param timeouts other values, for tests that must not wait seconds. @default AWS_CLIENT_TIMEOUTS
 */
export function awsClientConfig(timeouts: AwsClientTimeouts = AWS_CLIENT_TIMEOUTS): AwsClientConfig {
  return {
    maxAttempts: timeouts.maxAttempts,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: timeouts.connectionTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      // Since @smithy/node-http-handler 4.4 an exceeded requestTimeout only logs a warning and
      // keeps waiting, unless this is set: without it the timeout above would not bound anything.
      throwOnRequestTimeout: true,
    },
  };
}

/**
 * The SDK's standard mode waits at most min(20 s, base x 2^retry) between attempts, base 500 ms for
 * throttling errors (100 ms for others); this bound takes the larger.
 */
const THROTTLING_BACKOFF_BASE_MS = 500;
const MAX_BACKOFF_MS = 20_000;

/** The longest one call can take with these settings, retries and backoff included. */
export function worstCaseCallMs(timeouts: AwsClientTimeouts = AWS_CLIENT_TIMEOUTS): number {
  let total = timeouts.maxAttempts * (timeouts.connectionTimeoutMs + timeouts.requestTimeoutMs);
  for (let retry = 1; retry < timeouts.maxAttempts; retry++) {
    total += Math.min(MAX_BACKOFF_MS, THROTTLING_BACKOFF_BASE_MS * 2 ** retry);
  }
  return total;
}
