/**
 * Memory and timeout of the three functions: read by the stack and by the cost estimator, so the
 * estimate prices what is deployed. Plain data: no CDK imports.
 */

export interface FunctionSizing {
  /** MB. Lambda bills GB-seconds of configured memory. */
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
}

/**
 * 256 MB each (0.145 of a vCPU: 1,769 MB is one). Measured CPU per record (`npm run bench -- --only
 * use-cases`: ingest 8.2 µs, alarms 14.1 µs at one vCPU) makes a full batch 28 ms (ingest, 500) and
 * 10 ms (alarms, 100) of CPU here, 2 to 6% of a batch's time, the rest waiting on DynamoDB or
 * Timestream: more memory would buy nothing, and 128 MB leaves little beside the Node.js runtime and
 * the bundled SDK for about $5 a month saved at 10,000 devices (docs/capacity.md).
 */
export const FUNCTION_SIZING = {
  /** Up to 500 records per batch, written 100 per Timestream WriteRecords call. */
  ingest: { memoryMb: 256, timeoutSeconds: 60 },
  /** Up to 100 records per batch: one conditional DynamoDB write per device. */
  alarms: { memoryMb: 256, timeoutSeconds: 30 },
  /**
   * Runs every pipeline.offlineCheck.everyMinutes; the timeout stays under that period so two runs
   * rarely overlap (reserved concurrency would guarantee it, but fails to deploy in new accounts,
   * whose total concurrency quota can be as low as 10).
   */
  offline: { memoryMb: 256, timeoutSeconds: 50 },
} as const satisfies Record<'ingest' | 'alarms' | 'offline', FunctionSizing>;

/**
 * How the offline check reads the alarm-state table (lambdas/adapters/aws/dynamodb-alarm-state.ts,
 * lambdas/app/check-silence.ts): a parallel Scan in `totalSegments` segments, then the silent devices
 * `concurrentDevices` at a time, and it stops starting new devices once `budgetMs` has passed, leaving
 * the rest to the next run (they are still silent then). The offline function's environment carries
 * these (docs/capacity.md).
 */
export const OFFLINE_CHECK_SCAN = {
  totalSegments: 8,
  concurrentDevices: 32,
  /** Under the stack's offline-duration alarm (half the schedule), the schedule and the timeout. */
  budgetMs: 25_000,
} as const;
