import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbAlarmStateStore, alarmStateDocumentClient } from '../../lambdas/adapters/aws/dynamodb-alarm-state.js';
import { DynamoDbReadingsReader } from '../../lambdas/adapters/aws/dynamodb-readings-reader.js';
import { ALARM_STATE_TABLE_KEYS, READINGS_TABLE_KEYS, readingSortKey } from '../../lambdas/adapters/aws/dynamodb-readings-schema.js';
import { DynamoDbTimeSeriesStore } from '../../lambdas/adapters/aws/dynamodb-time-series.js';
import { aReading, T0 } from '../contract/fixtures.js';
import { startDynalite, type Dynalite } from '../helpers/dynalite.js';

// What only a real DynamoDB implementation shows: the requests are accepted, and DynamoDB's own
// refusals (size, number range, reserved words, conditions) reach the place they should.

let db: Dynalite;
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.stop();
});

async function readingsTable(): Promise<{ tableName: string; store: DynamoDbTimeSeriesStore; reader: DynamoDbReadingsReader }> {
  const tableName = await db.createTable(READINGS_TABLE_KEYS);
  return {
    tableName,
    store: new DynamoDbTimeSeriesStore({ client: db.client, tableName }),
    reader: new DynamoDbReadingsReader({ client: db.client, tableName }),
  };
}

describe('DynamoDbTimeSeriesStore over dynalite', () => {
  it("rejects an item over 400 KB with DynamoDB's reason and stores the rest of the batch", async () => {
    const { store, reader } = await readingsTable();
    // 100 metrics with 4 KB names: about 410 KB as an item (names count toward the size).
    const huge = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`m${String(i).padStart(3, '0')}${'x'.repeat(4_096)}`, i]));
    const readings = [aReading({ seq: 1 }), aReading({ seq: 2, metrics: huge }), aReading({ seq: 3 })];

    const outcome = await store.write(readings);

    expect(outcome.rejected).toEqual([{ index: 1, reason: 'DynamoDB refused the reading: Item size has exceeded the maximum allowed size' }]);
    expect(outcome.retry).toBeUndefined();
    expect((await reader.deviceReadings({ deviceId: 'sensor-0001', order: 'asc' })).map((r) => r.seq)).toEqual([1, 3]);
  });

  it('rejects a finite number beyond DynamoDB\'s range (it keeps 38 digits up to 1E+126), storing the others', async () => {
    const { store, reader } = await readingsTable();

    const outcome = await store.write([aReading({ seq: 1, metrics: { pressure: 1e200 } }), aReading({ seq: 2 })]);

    expect(outcome.rejected).toHaveLength(1);
    expect(outcome.rejected[0]?.index).toBe(0);
    expect(outcome.rejected[0]?.reason).toMatch(/^DynamoDB refused the reading: Number overflow/);
    expect((await reader.deviceReadings({ deviceId: 'sensor-0001' })).map((r) => r.seq)).toEqual([2]);
  });

  it('sends a key given twice in one write once (DynamoDB refuses duplicates in a batch), the later reading winning', async () => {
    const { store, reader } = await readingsTable();

    const outcome = await store.write([aReading({ metrics: { temperature: 1 } }), aReading({ seq: 2 }), aReading({ metrics: { temperature: 3 } })]);

    expect(outcome).toEqual({ rejected: [] });
    expect((await reader.deviceReadings({ deviceId: 'sensor-0001', order: 'asc' })).map((r) => [r.seq, r.metrics['temperature']])).toEqual([
      [1, 3],
      [2, 22.4],
    ]);
  });

  it('writes the TTL attribute as epoch seconds, retentionDays after the event time', async () => {
    const tableName = await db.createTable(READINGS_TABLE_KEYS);
    const store = new DynamoDbTimeSeriesStore({ client: db.client, tableName, retentionDays: 7 });

    await store.write([aReading({ ts: T0 + 1_999 })]);

    const { Item } = await db.client.send(
      new GetItemCommand({ TableName: tableName, Key: { deviceId: { S: 'sensor-0001' }, at: { S: readingSortKey(T0 + 1_999, 1) } } }),
    );
    expect(Item?.['expiresAt']).toEqual({ N: String(Math.floor((T0 + 1_999) / 1_000) + 7 * 86_400) });
  });

  it('fails loudly, rejecting nothing, when the table does not have our key schema', async () => {
    const wrongKeys = await db.createTable({ partitionKey: { name: 'id', type: 'S' } });
    const store = new DynamoDbTimeSeriesStore({ client: db.client, tableName: wrongKeys });

    await expect(store.write([aReading()])).rejects.toThrow(/key/i);
  });
});

describe('reserved words', () => {
  it('the sort key `at` is reserved: DynamoDB refuses it unescaped, so every name we send is a placeholder', async () => {
    const { tableName, store, reader } = await readingsTable();
    await store.write([aReading()]);

    const unescaped = db.client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'deviceId = :d AND at >= :a',
        ExpressionAttributeValues: { ':d': { S: 'sensor-0001' }, ':a': { S: '0' } },
      }),
    );

    await expect(unescaped).rejects.toThrow('Attribute name is a reserved keyword; reserved keyword: at');
    expect(await reader.deviceReadings({ deviceId: 'sensor-0001', since: T0 })).toHaveLength(1);
  });
});

describe('DynamoDbAlarmStateStore over dynalite', () => {
  it('lets exactly one of two writers racing from the same version win; the loser reloads the winner', async () => {
    const tableName = await db.createTable(ALARM_STATE_TABLE_KEYS);
    const writerA = new DynamoDbAlarmStateStore({ client: alarmStateDocumentClient(db.client), tableName });
    const writerB = new DynamoDbAlarmStateStore({ client: alarmStateDocumentClient(db.newClient()), tableName });
    await writerA.save({ deviceId: 'sensor-0001', version: 1, lastSeen: T0, state: {}, outbox: [] }, undefined);

    const results = await Promise.all([
      writerA.save({ deviceId: 'sensor-0001', version: 2, lastSeen: T0 + 1, state: { by: 'a' }, outbox: [] }, 1),
      writerB.save({ deviceId: 'sensor-0001', version: 2, lastSeen: T0 + 2, state: { by: 'b' }, outbox: [] }, 1),
    ]);

    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results[0] ? 'a' : 'b';
    expect(await writerB.load('sensor-0001')).toMatchObject({ version: 2, state: { by: winner } });
  });
});
