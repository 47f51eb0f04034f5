import {
  BatchWriteItemCommand,
  DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CapturingLog, CountingMetrics, FakeClock, InMemoryRejectSink } from '../../../lambdas/adapters/memory/index.js';
import { fromReadingItem } from '../../../lambdas/adapters/aws/dynamodb-readings-reader.js';
import { DynamoDbTimeSeriesStore, toReadingItem } from '../../../lambdas/adapters/aws/dynamodb-time-series.js';
import { storeReadings } from '../../../lambdas/app/store-readings.js';
import { RetryableError } from '../../../lambdas/domain/errors.js';
import { METRIC } from '../../../lambdas/ports/observability.js';
import { reading, readings } from '../../fixtures/aws/readings.js';
import { BASE_TIME, makeRecord } from '../../fixtures/domain/records.js';

// Exact request shapes, UnprocessedItems (dynalite never returns any), throttling and 5xx: what no
// local DynamoDB shows. What DynamoDB accepts is tested over dynalite (test/integration/dynamodb-dynalite.test.ts).

const dynamo = mockClient(DynamoDBClient);
const THIRTY_DAYS = 30 * 86_400;

function store(waits: number[] = []): DynamoDbTimeSeriesStore {
  return new DynamoDbTimeSeriesStore({
    client: new DynamoDBClient({ region: 'eu-west-1' }),
    tableName: 'readings',
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
  });
}

const requests = (): WriteRequest[][] => dynamo.commandCalls(BatchWriteItemCommand).map((call) => call.args[0].input.RequestItems?.['readings'] ?? []);

describe('DynamoDbTimeSeriesStore', () => {
  beforeEach(() => {
    dynamo.reset();
    dynamo.on(BatchWriteItemCommand).resolves({ UnprocessedItems: {} });
  });

  it('puts one item per reading: key deviceId + zero-padded ts#seq, numbers as N, TTL in epoch seconds', async () => {
    await store().write([reading(), reading({ ts: 1_764_028_801_123, seq: undefined, type: undefined, metrics: { temperature: -3.5 } })]);

    expect(requests()).toEqual([
      [
        {
          PutRequest: {
            Item: {
              deviceId: { S: 'sensor-0001' },
              at: { S: `${String(reading().ts).padStart(16, '0')}#${String(reading().seq).padStart(16, '0')}` },
              ts: { N: String(reading().ts) },
              seq: { N: String(reading().seq) },
              type: { S: 'env-sensor' },
              metrics: { M: Object.fromEntries(Object.entries(reading().metrics).map(([k, v]) => [k, { N: String(v) }])) },
              receivedAt: { N: String(reading().receivedAt) },
              expiresAt: { N: String(Math.floor(reading().ts / 1_000) + THIRTY_DAYS) },
            },
          },
        },
        {
          PutRequest: {
            Item: {
              deviceId: { S: 'sensor-0001' },
              at: { S: '0001764028801123#-' },
              ts: { N: '1764028801123' },
              metrics: { M: { temperature: { N: '-3.5' } } },
              receivedAt: { N: String(reading().receivedAt) },
              expiresAt: { N: String(1_764_028_801 + THIRTY_DAYS) },
            },
          },
        },
      ],
    ]);
  });

  it('keeps a metric named __proto__ as a map key on the way in and an own property on the way out', () => {
    const metrics = JSON.parse('{"__proto__": 1, "constructor": 2}') as Record<string, number>;

    const item = toReadingItem(reading({ metrics }), THIRTY_DAYS);
    const read = fromReadingItem(JSON.parse(JSON.stringify(item)) as typeof item, 'readings');

    expect(JSON.stringify(item['metrics'])).toBe('{"M":{"__proto__":{"N":"1"},"constructor":{"N":"2"}}}');
    expect(Object.entries(read.metrics)).toEqual([['__proto__', 1], ['constructor', 2]]);
    expect(Object.getPrototypeOf(read.metrics)).toBe(Object.prototype);
  });

  it('writes in BatchWriteItem requests of at most 25', async () => {
    await store().write(readings(60));

    expect(requests().map((r) => r.length)).toEqual([25, 25, 10]);
  });

  it('resends unprocessed items alone, after a jittered backoff, until DynamoDB takes them', async () => {
    const batch = readings(5);
    const leftOver = [toReadingItem(batch[1]!, THIRTY_DAYS), toReadingItem(batch[3]!, THIRTY_DAYS)].map((Item) => ({ PutRequest: { Item } }));
    dynamo.on(BatchWriteItemCommand).resolvesOnce({ UnprocessedItems: { readings: leftOver } }).resolves({ UnprocessedItems: {} });
    const waits: number[] = [];

    const outcome = await store(waits).write(batch);

    expect(outcome).toEqual({ rejected: [] });
    expect(requests().map((r) => r.length)).toEqual([5, 2]);
    expect(requests()[1]).toEqual(leftOver);
    expect(waits).toEqual([25]); // half (random 0.5) of the first cap, 50 ms
  });

  it('returns the items still unprocessed after every resend to be retried, with growing capped waits', async () => {
    const batch = readings(3);
    const stuck = { PutRequest: { Item: toReadingItem(batch[2]!, THIRTY_DAYS) } };
    dynamo.on(BatchWriteItemCommand).resolves({ UnprocessedItems: { readings: [stuck] } });
    const waits: number[] = [];

    const outcome = await store(waits).write(batch);

    expect(outcome).toEqual({ rejected: [], retry: [2] });
    expect(requests().map((r) => r.length)).toEqual([3, 1, 1, 1, 1, 1]);
    expect(waits).toEqual([25, 50, 100, 200, 400]);
  });

  it('turns throttling and a 5xx into RetryableError', async () => {
    dynamo
      .on(BatchWriteItemCommand)
      .rejectsOnce(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }))
      .rejectsOnce(new InternalServerError({ message: 'oops', $metadata: { httpStatusCode: 500 } }));

    await expect(store().write(readings(2))).rejects.toBeInstanceOf(RetryableError);
    await expect(store().write(readings(2))).rejects.toBeInstanceOf(RetryableError);
  });

  it('makes the ingest use case report only the readings DynamoDB never took as batch item failures', async () => {
    const records = Array.from({ length: 4 }, (_, i) => makeRecord({ deviceId: 'd1', payload: { ts: BASE_TIME + i, seq: i, metrics: { t: i } } }));
    const stuck = { PutRequest: { Item: toReadingItem({ deviceId: 'd1', ts: BASE_TIME + 2, seq: 2, metrics: { t: 2 }, receivedAt: 0 }, THIRTY_DAYS) } };
    dynamo.on(BatchWriteItemCommand).resolves({ UnprocessedItems: { readings: [stuck] } });
    const metrics = new CountingMetrics();

    const outcome = await storeReadings(records, {
      store: store(),
      rejects: new InMemoryRejectSink(),
      clock: new FakeClock(BASE_TIME),
      metrics,
      log: new CapturingLog(),
    });

    expect(outcome.failed).toEqual([records[2]!.ref]);
    expect(metrics.total(METRIC.readingsStored)).toBe(3);
  });
});
