/**
 * The environment the ingest function reads at cold start: the contract between its handler.ts and
 * the CDK stack (a test checks both sides). Powertools also reads POWERTOOLS_SERVICE_NAME,
 * POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_LOG_LEVEL.
 */
import { ConfigError } from '../domain/errors.js';

/** Read by every ingest function, whichever store it writes to. */
export const INGEST_ENV = ['TIME_SERIES_STORE', 'REJECT_QUEUE_URL'] as const;

/**
 * The time-series stores an ingest function can write to (TIME_SERIES_STORE). `none`: no store; the
 * function still decodes every record and keeps the malformed ones, with their reasons, in the
 * rejects queue.
 */
export const INGEST_STORES = ['dynamodb', 'timestream', 'none'] as const;
export type IngestStore = (typeof INGEST_STORES)[number];

/** The variables each store adds to INGEST_ENV. */
export const INGEST_STORE_ENV = {
  /** READINGS_RETENTION_DAYS: whole days after the event time until DynamoDB's TTL may delete a reading. */
  dynamodb: ['READINGS_TABLE', 'READINGS_RETENTION_DAYS'],
  timestream: ['TIMESTREAM_DATABASE', 'TIMESTREAM_TABLE'],
  none: [],
} as const satisfies Record<IngestStore, readonly string[]>;

/** Every variable an ingest function writing to `store` reads. */
export function ingestEnv(store: IngestStore): readonly string[] {
  return [...INGEST_ENV, ...INGEST_STORE_ENV[store]];
}

/** TIME_SERIES_STORE as a store, or a ConfigError naming the variable and the allowed values. */
export function ingestStoreOf(value: string): IngestStore {
  if ((INGEST_STORES as readonly string[]).includes(value)) return value as IngestStore;
  throw new ConfigError(`environment variable TIME_SERIES_STORE=${JSON.stringify(value)}: expected one of ${INGEST_STORES.join(', ')}`);
}

/** READINGS_RETENTION_DAYS as a positive integer, or a ConfigError naming it. */
export function retentionDaysOf(value: string): number {
  const days = Number(value);
  if (/^\d+$/.test(value.trim()) && Number.isSafeInteger(days) && days >= 1) return days;
  throw new ConfigError(`environment variable READINGS_RETENTION_DAYS=${JSON.stringify(value)}: expected a whole number of days, at least 1`);
}
