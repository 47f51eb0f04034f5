import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ConfigError, FleetTelemetryError } from '../../domain/errors.js';
import type { AlarmEvent } from '../../domain/model.js';
import type { AlarmStateStore, DeviceAlarmRecord } from '../../ports/alarm-state-store.js';
import { retryableOr } from './aws-errors.js';
import { ALARM_STATE_WAKE_INDEX } from './dynamodb-readings-schema.js';

/** A stored alarm-state item that does not have the shape we write: names the device and the field. */
export class CorruptAlarmStateError extends FleetTelemetryError {}

/**
 * The DocumentClient this store needs. `removeUndefinedValues`: the engine's state may carry
 * optional fields set to undefined, which DocumentClient otherwise refuses ("Pass options.
 * removeUndefinedValues=true to remove undefined values"), failing the whole write.
 */
export function alarmStateDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * The sparse index of devices the scheduled check must visit without a reading (a snooze ends, a
 * reminder is due): only items with `wakeAt` carry its partition key, so it holds just those.
 */
export const WAKE_INDEX = {
  name: ALARM_STATE_WAKE_INDEX.name,
  partitionKey: ALARM_STATE_WAKE_INDEX.partitionKey.name,
  sortKey: ALARM_STATE_WAKE_INDEX.sortKey.name,
  partition: 'due',
} as const;

interface DynamoDbAlarmStateStoreOptions {
  /** Build it with alarmStateDocumentClient(): it must remove undefined values. */
  readonly client: DynamoDBDocumentClient;
  /** Partition key `deviceId` (string), no sort key. */
  readonly tableName: string;
  /**
   * Segments of the offline check's parallel Scan (TotalSegments), read at once. @default
   * DEFAULT_SCAN_SEGMENTS (infra/aws/function-sizing.ts's OFFLINE_CHECK_SCAN.totalSegments, kept equal by a test)
   */
  readonly scanSegments?: number;
}

/** Segments of the parallel Scan: 8 read a 100,000-device table (80 MB, 80 pages) in 10 pages each. */
export const DEFAULT_SCAN_SEGMENTS = 8;

/**
 * Alarm state in DynamoDB: one item per device `{ deviceId, version, lastSeen, state, outbox }`
 * (state a map, outbox a list), written with optimistic concurrency on `version`.
 *
 * - save: PutItem conditioned on `attribute_not_exists(deviceId)` for a first save, else on
 *   `#version = :expected`; a ConditionalCheckFailedException means another writer won: false.
 * - load: strongly consistent GetItem, so a retry after a lost race reads the winner's write.
 * - listDueBy: a Query of the sparse index {@link WAKE_INDEX} (`wakeAt <= :now`): items get its
 *   partition key only while something is pending, so it never reads the resting fleet. Eventually
 *   consistent like every index read: a stale item only makes the conditional save fail and reload.
 * - listSeenBefore: a parallel Scan (Segment / TotalSegments, every segment at once, each paginated)
 *   filtered on `lastSeen < :before` and projected on the record's attributes (eventually consistent:
 *   a stale item only makes the checker's conditional save fail and reload). It reads the whole
 *   table each run; docs/capacity.md gives the fleet sizes this carries and what comes after.
 * - throttling and 5xx become RetryableError; other errors propagate unchanged.
 */
export class DynamoDbAlarmStateStore implements AlarmStateStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #scanSegments: number;

  constructor(options: DynamoDbAlarmStateStoreOptions) {
    const segments = options.scanSegments ?? DEFAULT_SCAN_SEGMENTS;
    // DynamoDB's own bounds for TotalSegments.
    if (!Number.isInteger(segments) || segments < 1 || segments > 1_000_000) {
      throw new ConfigError(`scanSegments: expected an integer from 1 to 1000000, got ${segments}`);
    }
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#scanSegments = segments;
  }

  async load(deviceId: string): Promise<DeviceAlarmRecord | undefined> {
    try {
      const { Item } = await this.#client.send(
        new GetCommand({ TableName: this.#tableName, Key: { deviceId }, ConsistentRead: true }),
      );
      return Item === undefined ? undefined : toDeviceAlarmRecord(Item, `${this.#tableName}[${deviceId}]`);
    } catch (error) {
      throw retryableOr(error, `DynamoDB GetItem ${this.#tableName} device ${deviceId}`);
    }
  }

  async save(next: DeviceAlarmRecord, expectedVersion: number | undefined): Promise<boolean> {
    const condition =
      expectedVersion === undefined
        ? { ConditionExpression: 'attribute_not_exists(deviceId)' }
        : {
            ConditionExpression: '#version = :expected',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':expected': expectedVersion },
          };
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: {
            deviceId: next.deviceId,
            version: next.version,
            lastSeen: next.lastSeen,
            state: next.state,
            outbox: next.outbox,
            ...(next.wakeAt === undefined ? {} : { [WAKE_INDEX.partitionKey]: WAKE_INDEX.partition, [WAKE_INDEX.sortKey]: next.wakeAt }),
          },
          ...condition,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw retryableOr(error, `DynamoDB PutItem ${this.#tableName} device ${next.deviceId}`);
    }
  }

  async listDueBy(now: number): Promise<readonly DeviceAlarmRecord[]> {
    const found: DeviceAlarmRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      try {
        const page = await this.#client.send(
          new QueryCommand({
            TableName: this.#tableName,
            IndexName: WAKE_INDEX.name,
            KeyConditionExpression: '#partition = :due AND #wakeAt <= :now',
            ExpressionAttributeNames: { '#partition': WAKE_INDEX.partitionKey, '#wakeAt': WAKE_INDEX.sortKey },
            ExpressionAttributeValues: { ':due': WAKE_INDEX.partition, ':now': now },
            ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
          }),
        );
        for (const item of page.Items ?? []) {
          found.push(toDeviceAlarmRecord(item, `${this.#tableName}[${String(item['deviceId'])}]`));
        }
        startKey = page.LastEvaluatedKey;
      } catch (error) {
        throw retryableOr(error, `DynamoDB Query ${this.#tableName} ${WAKE_INDEX.name}`);
      }
    } while (startKey !== undefined);
    return found;
  }

  async listSeenBefore(before: number): Promise<readonly DeviceAlarmRecord[]> {
    const segments = Array.from({ length: this.#scanSegments }, (_, segment) => this.#scanSegment(segment, before));
    return (await Promise.all(segments)).flat();
  }

  /**
   * One segment of the parallel Scan, every page. Only the record's own attributes are asked for and
   * only items matching the filter come back, so the function unmarshals the silent candidates, not
   * the table (DynamoDB still reads, and bills, every item: docs bp-query-scan).
   */
  async #scanSegment(segment: number, before: number): Promise<DeviceAlarmRecord[]> {
    const found: DeviceAlarmRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      try {
        const page = await this.#client.send(
          new ScanCommand({
            TableName: this.#tableName,
            FilterExpression: '#lastSeen < :before',
            ProjectionExpression: '#deviceId, #version, #lastSeen, #state, #outbox, #wakeAt',
            ExpressionAttributeNames: RECORD_ATTRIBUTE_NAMES,
            ExpressionAttributeValues: { ':before': before },
            ...(this.#scanSegments > 1 ? { Segment: segment, TotalSegments: this.#scanSegments } : {}),
            ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
          }),
        );
        for (const item of page.Items ?? []) {
          found.push(toDeviceAlarmRecord(item, `${this.#tableName}[${String(item['deviceId'])}]`));
        }
        startKey = page.LastEvaluatedKey;
      } catch (error) {
        throw retryableOr(error, `DynamoDB Scan ${this.#tableName} segment ${segment + 1} of ${this.#scanSegments}`);
      }
    } while (startKey !== undefined);
    return found;
  }
}

/** Placeholders for every attribute the record reads (STATE is one of DynamoDB's reserved words). */
const RECORD_ATTRIBUTE_NAMES = {
  '#deviceId': 'deviceId',
  '#version': 'version',
  '#lastSeen': 'lastSeen',
  '#state': 'state',
  '#outbox': 'outbox',
  '#wakeAt': WAKE_INDEX.sortKey,
} as const;

/** Reads one item back into the port's record, checking the fields we rely on. */
function withWakeAt(record: DeviceAlarmRecord, item: Record<string, unknown>): DeviceAlarmRecord {
  const wakeAt = item[WAKE_INDEX.sortKey];
  return typeof wakeAt === 'number' ? { ...record, wakeAt } : record;
}

function toDeviceAlarmRecord(item: Record<string, unknown>, where: string): DeviceAlarmRecord {
  const { deviceId, version, lastSeen, state, outbox } = item;
  if (typeof deviceId !== 'string') throw new CorruptAlarmStateError(`${where}.deviceId: not a string`);
  if (typeof version !== 'number') throw new CorruptAlarmStateError(`${where}.version: not a number`);
  if (typeof lastSeen !== 'number') throw new CorruptAlarmStateError(`${where}.lastSeen: not a number`);
  if (outbox !== undefined && !Array.isArray(outbox)) {
    throw new CorruptAlarmStateError(`${where}.outbox: not a list`);
  }
  return withWakeAt({ deviceId, version, lastSeen, state, outbox: (outbox ?? []) as AlarmEvent[] }, item);
}
