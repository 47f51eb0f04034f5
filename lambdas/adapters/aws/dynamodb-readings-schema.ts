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

/** A global secondary index, projecting every attribute. */
export interface GlobalIndexSchema {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}

/** A table's primary key: a partition key and, optionally, a sort key; and its global indexes. */
export interface TableKeySchema {
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalIndexes?: readonly GlobalIndexSchema[];
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

/**
 * The sparse index of devices the scheduled check must visit without a reading (a snooze ends, a
 * reminder is due): only items with `wakeAt` carry its partition key `wakePartition` (always `due`).
 */
export const ALARM_STATE_WAKE_INDEX = {
  name: 'byWakeAt',
  partitionKey: { name: 'wakePartition', type: 'S' },
  sortKey: { name: 'wakeAt', type: 'N' },
} as const satisfies GlobalIndexSchema;

/** The alarm-state table (DynamoDbAlarmStateStore): one item per device. */
export const ALARM_STATE_TABLE_KEYS = {
  partitionKey: { name: 'deviceId', type: 'S' },
  globalIndexes: [ALARM_STATE_WAKE_INDEX],
} as const satisfies TableKeySchema;

/**
 * The alarm-history table (DynamoDbAlarmHistory): partition key the deviceId, sort key `sk` =
 * zero-padded event time, then what makes the entry itself, so one device's history newest first is
 * one Query and recording an entry again overwrites it with the same item.
 */
export const ALARM_HISTORY_TABLE_KEYS = {
  partitionKey: { name: 'deviceId', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
} as const satisfies TableKeySchema;

/** The alarm-history TTL attribute: epoch seconds after which DynamoDB may delete the entry. */
export const ALARM_HISTORY_TTL_ATTRIBUTE = 'expiresAt';

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
