/**
 * Memory and timeout of the three functions: read by the stack and by the cost estimator, so the
 * estimate prices what is deployed. Plain data: no CDK imports.
 */

export interface FunctionSizing {
  /** MB. Lambda bills GB-seconds of configured memory. */
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
}

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
