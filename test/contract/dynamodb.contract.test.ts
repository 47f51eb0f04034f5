import { afterAll } from 'vitest';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbAlarmStateStore, alarmStateDocumentClient } from '../../lambdas/adapters/aws/dynamodb-alarm-state.js';
import { DynamoDbReadingsReader, alarmStateDeviceIds, fromReadingItem } from '../../lambdas/adapters/aws/dynamodb-readings-reader.js';
import { ALARM_HISTORY_TABLE_KEYS, ALARM_STATE_TABLE_KEYS, READINGS_TABLE_KEYS } from '../../lambdas/adapters/aws/dynamodb-readings-schema.js';
import { DynamoDbAlarmHistory, DynamoDbAlarmReader } from '../../lambdas/adapters/aws/dynamodb-alarm-history.js';
import { DynamoDbTimeSeriesStore } from '../../lambdas/adapters/aws/dynamodb-time-series.js';
import { startDynalite, type Dynalite } from '../helpers/dynalite.js';
import { HISTORY_CONTRACT_RULES, alarmHistoryContract } from './alarm-history.contract.js';
import { alarmStateStoreContract } from './alarm-state-store.contract.js';
import { readingsReaderContract } from './readings-reader.contract.js';
import { timeSeriesStoreContract } from './time-series-store.contract.js';

// The DynamoDB adapters against dynalite, a real DynamoDB implementation on 127.0.0.1, with tables
// made from the key schemas the CDK stack deploys: DynamoDB itself checks what a mock would not.

let server: Promise<Dynalite> | undefined;
const dynalite = (): Promise<Dynalite> => (server ??= startDynalite());
afterAll(async () => {
  if (server !== undefined) await (await server).stop();
});

timeSeriesStoreContract('DynamoDbTimeSeriesStore over dynalite', async () => {
  const db = await dynalite();
  const tableName = await db.createTable(READINGS_TABLE_KEYS);
  return {
    store: new DynamoDbTimeSeriesStore({ client: db.client, tableName }),
    stored: async () => {
      const { Items = [], LastEvaluatedKey } = await db.client.send(new ScanCommand({ TableName: tableName }));
      if (LastEvaluatedKey !== undefined) throw new Error('test table larger than one Scan page');
      return Items.map((item) => {
        const row = fromReadingItem(item, tableName);
        return {
          deviceId: row.deviceId,
          ts: row.ts,
          ...(row.seq === null ? {} : { seq: row.seq }),
          ...(row.type === null ? {} : { type: row.type }),
          metrics: row.metrics,
        };
      });
    },
    dispose: async () => undefined,
  };
});

alarmStateStoreContract('DynamoDbAlarmStateStore over dynalite', async () => {
  const db = await dynalite();
  const tableName = await db.createTable(ALARM_STATE_TABLE_KEYS);
  return { store: new DynamoDbAlarmStateStore({ client: alarmStateDocumentClient(db.client), tableName }), dispose: async () => undefined };
});

readingsReaderContract('DynamoDbReadingsReader over dynalite', async () => {
  const db = await dynalite();
  const tableName = await db.createTable(READINGS_TABLE_KEYS);
  const alarmTable = await db.createTable(ALARM_STATE_TABLE_KEYS);
  const store = new DynamoDbTimeSeriesStore({ client: db.client, tableName });
  const alarmStates = new DynamoDbAlarmStateStore({ client: alarmStateDocumentClient(db.client), tableName: alarmTable });
  return {
    // The fleet comes from the alarm-state table, as in the query CLI: the alarms consumer saves an item per device.
    reader: new DynamoDbReadingsReader({ client: db.client, tableName, devices: alarmStateDeviceIds(db.client, alarmTable) }),
    write: async (readings) => {
      const outcome = await store.write(readings);
      if (outcome.rejected.length > 0 || outcome.retry !== undefined) throw new Error(`write refused: ${JSON.stringify(outcome)}`);
      for (const deviceId of new Set(readings.map((r) => r.deviceId))) {
        await alarmStates.save({ deviceId, version: 1, lastSeen: 0, state: {}, outbox: [] }, undefined);
      }
    },
    dispose: async () => undefined,
  };
});

alarmHistoryContract('DynamoDbAlarmHistory + DynamoDbAlarmReader over dynalite', async () => {
  const db = await dynalite();
  const documents = alarmStateDocumentClient(db.client);
  const stateTableName = await db.createTable(ALARM_STATE_TABLE_KEYS);
  const historyTableName = await db.createTable(ALARM_HISTORY_TABLE_KEYS);
  return {
    states: new DynamoDbAlarmStateStore({ client: documents, tableName: stateTableName }),
    history: new DynamoDbAlarmHistory({ client: documents, tableName: historyTableName, ttlDays: 90 }),
    reader: new DynamoDbAlarmReader({ client: documents, stateTableName, historyTableName, rules: HISTORY_CONTRACT_RULES }),
    dispose: async () => undefined,
  };
});
