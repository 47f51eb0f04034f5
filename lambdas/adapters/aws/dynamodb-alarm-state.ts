import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { FleetTelemetryError } from '../../domain/errors.js';
import type { AlarmEvent } from '../../domain/model.js';
import type { AlarmStateStore, DeviceAlarmRecord } from '../../ports/alarm-state-store.js';
import { retryableOr } from './aws-errors.js';

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
export const WAKE_INDEX = { name: 'byWakeAt', partitionKey: 'wakePartition', sortKey: 'wakeAt', partition: 'due' } as const;

export interface DynamoDbAlarmStateStoreOptions {
  /** Build it with alarmStateDocumentClient(): it must remove undefined values. */
  readonly client: DynamoDBDocumentClient;
  /** Partition key `deviceId` (string), no sort key. */
  readonly tableName: string;
}

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
 * - listSeenBefore: a paginated Scan filtered on `lastSeen < :before` (eventually consistent: a stale
 *   item only makes the checker's conditional save fail and reload). It reads the whole table each
 *   run, fine for fleets up to tens of thousands of devices; a sparse index is the next step.
 * - throttling and 5xx become RetryableError; other errors propagate unchanged.
 */
export class DynamoDbAlarmStateStore implements AlarmStateStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(options: DynamoDbAlarmStateStoreOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
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
    const found: DeviceAlarmRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      try {
        const page = await this.#client.send(
          new ScanCommand({
            TableName: this.#tableName,
            FilterExpression: 'lastSeen < :before',
            ExpressionAttributeValues: { ':before': before },
            ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
          }),
        );
        for (const item of page.Items ?? []) {
          found.push(toDeviceAlarmRecord(item, `${this.#tableName}[${String(item['deviceId'])}]`));
        }
        startKey = page.LastEvaluatedKey;
      } catch (error) {
        throw retryableOr(error, `DynamoDB Scan ${this.#tableName}`);
      }
    } while (startKey !== undefined);
    return found;
  }
}

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
