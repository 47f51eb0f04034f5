import { PutCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describeAlarms } from '../../domain/alarm-engine.js';
import { FleetTelemetryError } from '../../domain/errors.js';
import type { ThresholdRules } from '../../domain/thresholds.js';
import type { AlarmHistory, AlarmHistoryEntry } from '../../ports/alarm-history.js';
import type { AlarmNotifier } from '../../ports/alarm-notifier.js';
import type { AlarmHistoryQuery, AlarmListFilter, AlarmReader, AlarmView } from '../../ports/alarm-reader.js';
import { retryableOr } from './aws-errors.js';
import { ALARM_HISTORY_TABLE_KEYS, ALARM_HISTORY_TTL_ATTRIBUTE, timeKey } from './dynamodb-readings-schema.js';

/** A stored history item that does not have the shape we write. */
class CorruptAlarmHistoryError extends FleetTelemetryError {}

const PK = ALARM_HISTORY_TABLE_KEYS.partitionKey.name;
const SK = ALARM_HISTORY_TABLE_KEYS.sortKey.name;
const DAY_SECONDS = 86_400;

interface DynamoDbAlarmHistoryOptions {
  /** Built with alarmStateDocumentClient() (it removes undefined values). */
  readonly client: DynamoDBDocumentClient;
  /** ALARM_HISTORY_TABLE_KEYS, TTL on ALARM_HISTORY_TTL_ATTRIBUTE. */
  readonly tableName: string;
  /** How long DynamoDB keeps an entry: its TTL is the entry's time plus this. */
  readonly ttlDays: number;
}

/**
 * The sort key of an entry: its time zero-padded (so string order is time order), then what makes it
 * itself. The same entry recorded twice (an outbox published again, a retried command) has the same
 * key and overwrites itself: kept once, without a condition.
 */
function historySortKey(entry: AlarmHistoryEntry): string {
  if (entry.kind === 'transition') {
    const e = entry.event;
    return [timeKey(e.ts), 't', e.ruleId, e.previousState, e.state, e.action ?? ''].join('#');
  }
  const c = entry.command;
  return [timeKey(c.at), 'c', c.ruleId ?? '', c.by, c.action ?? ''].join('#');
}

/**
 * The alarm history in DynamoDB: one item per transition or command `{ deviceId, sk, ruleId, kind,
 * entry, expiresAt }`, partitioned by device so that a device's history, newest first, is one Query
 * (never a Scan), and expiring by TTL (DynamoDB deletes expired items within a few days, and a Query
 * may still return them until then). Throttling and 5xx become RetryableError.
 */
export class DynamoDbAlarmHistory implements AlarmHistory {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #ttlSeconds: number;

  constructor(options: DynamoDbAlarmHistoryOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#ttlSeconds = options.ttlDays * DAY_SECONDS;
  }

  async record(entries: readonly AlarmHistoryEntry[]): Promise<void> {
    for (const entry of entries) {
      const deviceId = entry.kind === 'transition' ? entry.event.deviceId : entry.command.deviceId;
      const at = entry.kind === 'transition' ? entry.event.ts : entry.command.at;
      const sk = historySortKey(entry);
      try {
        await this.#client.send(
          new PutCommand({
            TableName: this.#tableName,
            Item: {
              [PK]: deviceId,
              [SK]: sk,
              kind: entry.kind,
              ruleId: (entry.kind === 'transition' ? entry.event.ruleId : entry.command.ruleId) ?? '',
              entry,
              [ALARM_HISTORY_TTL_ATTRIBUTE]: Math.floor(at / 1000) + this.#ttlSeconds,
            },
          }),
        );
      } catch (error) {
        throw retryableOr(error, `DynamoDB PutItem ${this.#tableName} ${deviceId} ${sk}`);
      }
    }
  }
}

/** Records each transition in the history as it is published: one of the notifiers of the fan-out. */
export function historyNotifier(history: AlarmHistory): AlarmNotifier {
  return { notify: (events) => history.record(events.map((event) => ({ kind: 'transition', event }))) };
}

interface DynamoDbAlarmReaderOptions {
  readonly client: DynamoDBDocumentClient;
  /** The alarm-state table (ALARM_STATE_TABLE_KEYS). */
  readonly stateTableName: string;
  readonly historyTableName: string;
  /** The rules in force: the states are read as the engine reads them. */
  readonly rules: ThresholdRules;
}

/**
 * The read side of alarms on AWS. `listAlarms` scans the alarm-state table for items with a rule not
 * at rest (a projected, filtered Scan: a command line's occasional listing, not a hot path); `history`
 * is one Query on the device's partition, newest first, eventually consistent.
 */
export class DynamoDbAlarmReader implements AlarmReader {
  constructor(private readonly options: DynamoDbAlarmReaderOptions) {}

  async listAlarms(filter: AlarmListFilter = {}): Promise<AlarmView[]> {
    const { client, stateTableName, rules } = this.options;
    const views: AlarmView[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      let page;
      try {
        page = await client.send(
          new ScanCommand({
            TableName: stateTableName,
            ProjectionExpression: '#deviceId, #state',
            FilterExpression: `size(#state.#rules) > :zero${filter.deviceId === undefined ? '' : ' AND #deviceId = :deviceId'}`,
            ExpressionAttributeNames: { '#deviceId': 'deviceId', '#state': 'state', '#rules': 'rules' },
            ExpressionAttributeValues: { ':zero': 0, ...(filter.deviceId === undefined ? {} : { ':deviceId': filter.deviceId }) },
            ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
          }),
        );
      } catch (error) {
        throw retryableOr(error, `DynamoDB Scan ${stateTableName}`);
      }
      for (const item of page.Items ?? []) {
        const deviceId = item['deviceId'];
        if (typeof deviceId !== 'string') throw new CorruptAlarmHistoryError(`${stateTableName}: an item without a string deviceId`);
        views.push(...describeAlarms(deviceId, item['state'], rules));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    views.sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
    return filter.state === undefined ? views : views.filter((view) => view.state === filter.state);
  }

  async history(query: AlarmHistoryQuery): Promise<AlarmHistoryEntry[]> {
    const { client, historyTableName } = this.options;
    const limit = query.limit ?? 100;
    const entries: AlarmHistoryEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      let page;
      try {
        page = await client.send(
          new QueryCommand({
            TableName: historyTableName,
            KeyConditionExpression: '#pk = :deviceId',
            ExpressionAttributeNames: { '#pk': PK, ...(query.ruleId === undefined ? {} : { '#ruleId': 'ruleId' }) },
            ExpressionAttributeValues: { ':deviceId': query.deviceId, ...(query.ruleId === undefined ? {} : { ':ruleId': query.ruleId }) },
            ...(query.ruleId === undefined ? {} : { FilterExpression: '#ruleId = :ruleId' }),
            ScanIndexForward: false,
            Limit: limit,
            ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
          }),
        );
      } catch (error) {
        throw retryableOr(error, `DynamoDB Query ${historyTableName} ${query.deviceId}`);
      }
      for (const item of page.Items ?? []) {
        const entry = item['entry'] as AlarmHistoryEntry | undefined;
        if (entry === undefined || (entry.kind !== 'transition' && entry.kind !== 'command')) {
          throw new CorruptAlarmHistoryError(`${historyTableName}[${query.deviceId}, ${String(item[SK])}].entry: not a history entry`);
        }
        entries.push(entry);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && entries.length < limit);
    return entries.slice(0, limit);
  }
}
