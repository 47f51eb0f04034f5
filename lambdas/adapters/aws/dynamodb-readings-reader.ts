import { QueryCommand, ScanCommand, type AttributeValue, type DynamoDBClient, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { FleetTelemetryError } from '../../domain/errors.js';
import type { DeviceReadingsQuery, LatestReadingsQuery, NewestReadingsQuery, ReadingRow, ReadingsReader } from '../../ports/readings-reader.js';
import { byDevice, newestFirst } from '../../ports/readings-reader.js';
import { mapWithLimit } from '../../app/concurrency.js';
import { ALARM_STATE_TABLE_KEYS, READINGS_TABLE_KEYS, timeKey } from './dynamodb-readings-schema.js';
import { ownProperty } from './dynamodb-time-series.js';

/** A stored reading item that does not have the shape we write: names the table, the key and the field. */
class CorruptReadingItemError extends FleetTelemetryError {}

/** Lists the devices whose readings `newestReadings` merges. */
type DeviceSource = () => Promise<readonly string[]>;

interface DynamoDbReadingsReaderOptions {
  readonly client: DynamoDBClient;
  /** The readings table (READINGS_TABLE_KEYS), as DynamoDbTimeSeriesStore writes it. */
  readonly tableName: string;
  /**
   * The fleet, for `newestReadings`: a table keyed by device has no query across devices. The query
   * CLI passes alarmStateDeviceIds (every device that ever reported has an alarm-state item).
   */
  readonly devices?: DeviceSource;
  /** Device queries in flight at once for `newestReadings`. @default 8 */
  readonly concurrency?: number;
}

const PK = READINGS_TABLE_KEYS.partitionKey.name;
const SK = READINGS_TABLE_KEYS.sortKey.name;
/** Sorts after every seq suffix (`#-`, `#0…`): the end of a time's keys. */
const AFTER_ANY_SEQ = '#~';

/**
 * The readings read port on the DynamoDB readings table. One device's readings over a range are one
 * Query on its partition (key condition on the sort key, paginated until `limit`), eventually
 * consistent (half the read cost; a reading written a second ago may be missing, as on a replica).
 * Every attribute name is a placeholder, so no reserved word can break an expression.
 * `newestReadings` queries each device's newest `limit` readings and merges them: N queries for N
 * devices, fine for a command line over thousands of devices, not for a dashboard over 100,000.
 * Items that expired but are not yet deleted by TTL (DynamoDB deletes within days) can still appear.
 */
export class DynamoDbReadingsReader implements ReadingsReader {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #devices: DeviceSource | undefined;
  readonly #concurrency: number;

  constructor(options: DynamoDbReadingsReaderOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#devices = options.devices;
    this.#concurrency = options.concurrency ?? 8;
  }

  async deviceReadings(q: DeviceReadingsQuery): Promise<ReadingRow[]> {
    const rows: ReadingRow[] = [];
    if (q.limit !== undefined && q.limit <= 0) return rows;
    if (q.since !== undefined && q.until !== undefined && q.until <= q.since) return rows;
    const input: QueryCommandInput = {
      TableName: this.#tableName,
      ...keyCondition(q),
      ScanIndexForward: (q.order ?? 'desc') === 'asc',
    };
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({
          ...input,
          ...(q.limit === undefined ? {} : { Limit: q.limit - rows.length }),
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      for (const item of page.Items ?? []) rows.push(fromReadingItem(item, this.#tableName));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && (q.limit === undefined || rows.length < q.limit));
    return rows;
  }

  async newestReadings(q: NewestReadingsQuery): Promise<ReadingRow[]> {
    const devices = await this.#fleet();
    const perDevice = await mapWithLimit([...devices], this.#concurrency, (deviceId) =>
      this.deviceReadings({ ...q, deviceId, order: 'desc' }),
    );
    return perDevice.flat().sort(newestFirst).slice(0, q.limit);
  }

  /** One Query per device, newest item first, Limit 1. */
  async latestReadings(q: LatestReadingsQuery = {}): Promise<ReadingRow[]> {
    const devices = q.deviceIds ?? (await this.#fleet());
    const perDevice = await mapWithLimit([...devices], this.#concurrency, (deviceId) =>
      this.deviceReadings({ deviceId, ...(q.since === undefined ? {} : { since: q.since }), limit: 1, order: 'desc' }),
    );
    return perDevice.flat().sort(byDevice);
  }

  async #fleet(): Promise<readonly string[]> {
    if (this.#devices === undefined) {
      throw new FleetTelemetryError('reading across devices needs a device list (or name the devices)');
    }
    return this.#devices();
  }
}

/** The key condition of one device's partition, narrowed to the time range (since inclusive, until exclusive). */
function keyCondition(q: DeviceReadingsQuery): Pick<QueryCommandInput, 'KeyConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> {
  // DynamoDB refuses a name placeholder the expression does not use.
  const names: Record<string, string> = { '#pk': PK };
  const values: Record<string, AttributeValue> = { ':pk': { S: q.deviceId } };
  let condition = '#pk = :pk';
  if (q.since !== undefined && q.until !== undefined) {
    condition += ' AND #sk BETWEEN :from AND :to';
    names['#sk'] = SK;
    values[':from'] = { S: timeKey(q.since) };
    values[':to'] = { S: timeKey(q.until - 1) + AFTER_ANY_SEQ };
  } else if (q.since !== undefined) {
    condition += ' AND #sk >= :from';
    names['#sk'] = SK;
    values[':from'] = { S: timeKey(q.since) };
  } else if (q.until !== undefined) {
    condition += ' AND #sk < :to';
    names['#sk'] = SK;
    values[':to'] = { S: timeKey(q.until) };
  }
  return { KeyConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

/** Reads an item written by DynamoDbTimeSeriesStore back into a row, checking the fields we rely on. */
export function fromReadingItem(item: Record<string, AttributeValue>, tableName: string): ReadingRow {
  const where = `${tableName}[${item[PK]?.S ?? '?'} ${item[SK]?.S ?? '?'}]`;
  const deviceId = item[PK]?.S;
  const ts = numberOf(item['ts']);
  const metricsMap = item['metrics']?.M;
  if (deviceId === undefined) throw new CorruptReadingItemError(`${where}.${PK}: not a string`);
  if (ts === undefined) throw new CorruptReadingItemError(`${where}.ts: not a number`);
  if (metricsMap === undefined) throw new CorruptReadingItemError(`${where}.metrics: not a map`);
  const metrics: Record<string, number> = {};
  for (const [name, value] of Object.entries(metricsMap)) {
    const n = numberOf(value);
    if (n === undefined) throw new CorruptReadingItemError(`${where}.metrics.${name}: not a number`);
    ownProperty(metrics, name, n);
  }
  const seq = item['seq'] === undefined ? null : (numberOf(item['seq']) ?? null);
  return { deviceId, ts, seq, type: item['type']?.S ?? null, metrics };
}

function numberOf(value: AttributeValue | undefined): number | undefined {
  if (value?.N === undefined) return undefined;
  const n = Number(value.N);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Every deviceId in the alarm-state table (a paginated Scan projecting only the key): the fleet as
 * the alarms consumer has seen it, since every device that sent a valid reading has an item there.
 */
export function alarmStateDeviceIds(client: DynamoDBClient, tableName: string): DeviceSource {
  return async () => {
    const ids: string[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: tableName,
          ProjectionExpression: '#id',
          ExpressionAttributeNames: { '#id': ALARM_STATE_TABLE_KEYS.partitionKey.name },
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      for (const item of page.Items ?? []) {
        const id = item[ALARM_STATE_TABLE_KEYS.partitionKey.name]?.S;
        if (id !== undefined) ids.push(id);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return ids;
  };
}
