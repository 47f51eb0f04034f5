/**
 * The DynamoDB readings table's key schema and item layout: one definition read by the adapter
 * (dynamodb-time-series.ts), the readers, the CDK construct (infra/aws/constructs/readings-table.ts)
 * and the tests' dynalite tables (test/helpers/dynalite.ts), so a test that passes over dynalite
 * proves the deployed table's keys work. Plain data: no SDK, no CDK.
 */

/** DynamoDB's scalar key attribute types: S string, N number, B binary. */
export type KeyAttributeType = 'S' | 'N' | 'B';

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyAttributeType;
}

/** A table's primary key: a partition key and, optionally, a sort key. */
export interface TableKeySchema {
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}

/**
 * One item per reading. Partition key: the deviceId, so one device's readings over any time range
 * are one Query (no LSI, so the item collection has no size limit). Sort key: `at`, the event time
 * and seq zero-padded so that string order is (ts, seq) order; a reading without seq sorts before
 * seq 0, as the local store's −1 does.
 */
export const READINGS_TABLE_KEYS = {
  partitionKey: { name: 'deviceId', type: 'S' },
  sortKey: { name: 'at', type: 'S' },
} as const satisfies TableKeySchema;

/** The TTL attribute: epoch seconds after which DynamoDB may delete the item. */
export const READINGS_TTL_ATTRIBUTE = 'expiresAt';

/** The alarm-state table (DynamoDbAlarmStateStore): one item per device. */
export const ALARM_STATE_TABLE_KEYS = {
  partitionKey: { name: 'deviceId', type: 'S' },
} as const satisfies TableKeySchema;

/** Digits of Number.MAX_SAFE_INTEGER: every safe non-negative integer fits, so padding keeps order. */
const KEY_DIGITS = 16;
const NO_SEQ_MARK = '-';

/** The sort key of a reading: `0001764028800000#0000000000000017`, or `…#-` without seq. */
export function readingSortKey(ts: number, seq: number | undefined): string {
  return `${timeKey(ts)}#${seq === undefined ? NO_SEQ_MARK : String(seq).padStart(KEY_DIGITS, '0')}`;
}

/** The sort-key prefix of a time: every reading at `ts` sorts at or after it and before timeKey(ts + 1). */
export function timeKey(ts: number): string {
  return String(ts).padStart(KEY_DIGITS, '0');
}
