import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { QueryCommand, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { mockClient } from 'aws-sdk-client-mock';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbAlarmStateStore, alarmStateDocumentClient } from '../../lambdas/adapters/aws/dynamodb-alarm-state.js';
import { ALARM_STATE_TABLE_KEYS, READINGS_TABLE_KEYS } from '../../lambdas/adapters/aws/dynamodb-readings-schema.js';
import { DynamoDbTimeSeriesStore } from '../../lambdas/adapters/aws/dynamodb-time-series.js';
import { SqliteStore } from '../../lambdas/adapters/local/sqlite-store.js';
import type { Reading } from '../../lambdas/domain/model.js';
import { UsageError } from '../../infra/cli/cli-support.js';
import { queryReadings, renderReadings, type ReadingsFormat, type ReadingsQueryOptions } from '../../infra/local/cli/readings-command.js';
import { StackOutputsError } from '../../infra/aws/stack-outputs.js';
import { aReading, T0 } from '../contract/fixtures.js';
import { startDynalite, type Dynalite } from '../helpers/dynalite.js';
import { tempDir } from '../unit/local-adapters/temp-dir.js';

// `npm run query -- readings --target aws` against a real DynamoDB implementation (dynalite on
// 127.0.0.1): the stack's outputs come from a mocked CloudFormation (no local implementation),
// the tables are real, and the output must be exactly what the same readings give locally.

const cloudFormation = mockClient(CloudFormationClient);
const timestream = mockClient(TimestreamQueryClient);

const READINGS: Reading[] = [
  aReading({ deviceId: 'sensor-0001', ts: T0, seq: 1, metrics: { temperature: 22.4, humidity: 41 } }),
  aReading({ deviceId: 'sensor-0001', ts: T0 + 1_000, seq: 2, metrics: { temperature: 22.5 } }),
  aReading({ deviceId: 'sensor-0001', ts: T0 + 1_000, seq: 3, metrics: { temperature: 22.6, name: 1 } }),
  aReading({ deviceId: 'sensor-0002', ts: T0 + 500, seq: undefined, type: undefined, metrics: { battery: 3.2 } }),
  aReading({ deviceId: 'sensor-0003', ts: T0 + 2_000, seq: 0, metrics: { battery: 3.1, 'with,comma': 1 } }),
];

let db: Dynalite;
let dir: ReturnType<typeof tempDir>;
let tables: { readings: string; alarmState: string };

function stackWith(outputs: Output[]): void {
  cloudFormation.on(DescribeStacksCommand, { StackName: 'FleetTelemetry' }).resolves({
    Stacks: [{ StackName: 'FleetTelemetry', CreationTime: new Date(0), StackStatus: 'CREATE_COMPLETE', Outputs: outputs }],
  });
}

const aws = () => ({ cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }), dynamodb: db.client, timestream: new TimestreamQueryClient({ region: 'eu-west-1' }) });
const base: ReadingsQueryOptions = { target: 'local', data: '', limit: 100 };

beforeAll(async () => {
  db = await startDynalite();
  dir = tempDir('fleet-query-aws-');
  const local = SqliteStore.open(join(dir.path, 'store.db'));
  await local.timeSeries.write(READINGS);
  local.close();
  tables = { readings: await db.createTable(READINGS_TABLE_KEYS), alarmState: await db.createTable(ALARM_STATE_TABLE_KEYS) };
  const outcome = await new DynamoDbTimeSeriesStore({ client: db.client, tableName: tables.readings }).write(READINGS);
  expect(outcome).toEqual({ rejected: [] });
  // The alarms consumer keeps one item per device that reported: the fleet the reader merges.
  const alarmStates = new DynamoDbAlarmStateStore({ client: alarmStateDocumentClient(db.client), tableName: tables.alarmState });
  for (const deviceId of new Set(READINGS.map((r) => r.deviceId))) {
    await alarmStates.save({ deviceId, version: 1, lastSeen: T0, state: {}, outbox: [] }, undefined);
  }
});

afterAll(async () => {
  await db?.stop();
  dir?.remove();
});

describe('query readings --target aws over dynalite', () => {
  beforeEach(() => {
    cloudFormation.reset();
    timestream.reset();
    stackWith([
      { OutputKey: 'ReadingsTableName', OutputValue: tables.readings },
      { OutputKey: 'AlarmStateTableName', OutputValue: tables.alarmState },
    ]);
  });

  const cases: [string, Partial<ReadingsQueryOptions>][] = [
    ['one device', { device: 'sensor-0001' }],
    ['one device over a range', { device: 'sensor-0001', since: T0 + 1, until: T0 + 1_001 }],
    ['the fleet, limited', { limit: 3 }],
    ['the fleet since a time', { since: T0 + 500 }],
  ];
  for (const format of ['table', 'json', 'csv'] as ReadingsFormat[]) {
    it.each(cases)(`prints %s exactly as the local store does (${format})`, async (_name, options) => {
      const local = await queryReadings({ ...base, ...options, data: dir.path });
      const info: string[] = [];

      const remote = await queryReadings({ ...base, ...options, target: 'aws' }, { aws: aws(), info: (line) => info.push(line) });

      expect(local.length).toBeGreaterThan(0);
      expect(renderReadings(remote, format)).toBe(renderReadings(local, format));
      expect(info).toEqual([`reading DynamoDB table ${tables.readings} (stack FleetTelemetry, eu-west-1)`]);
    });
  }

  it('asks DescribeStacks for the stack named by --stack', async () => {
    cloudFormation.reset();
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Staging' }).resolves({
      Stacks: [{ StackName: 'Staging', CreationTime: new Date(0), StackStatus: 'CREATE_COMPLETE', Outputs: [{ OutputKey: 'ReadingsTableName', OutputValue: tables.readings }] }],
    });

    const rows = await queryReadings({ ...base, target: 'aws', stack: 'Staging', device: 'sensor-0002' }, { aws: aws() });

    expect(rows).toEqual([{ deviceId: 'sensor-0002', ts: T0 + 500, seq: null, type: null, metrics: { battery: 3.2 } }]);
  });

  it('asks for --device when the stack gives no alarm-state table to list the fleet', async () => {
    cloudFormation.reset();
    stackWith([{ OutputKey: 'ReadingsTableName', OutputValue: tables.readings }]);

    await expect(queryReadings({ ...base, target: 'aws' }, { aws: aws() })).rejects.toThrow(
      new UsageError('this stack has no alarm-state table output to list its devices: pass --device ID'),
    );
  });

  it('says the stack has no store when it was deployed without one', async () => {
    cloudFormation.reset();
    stackWith([{ OutputKey: 'AlarmStateTableName', OutputValue: tables.alarmState }]);

    await expect(queryReadings({ ...base, target: 'aws', device: 'x' }, { aws: aws() })).rejects.toThrow(StackOutputsError);
    await expect(queryReadings({ ...base, target: 'aws', device: 'x' }, { aws: aws() })).rejects.toThrow(/has no time-series store.*timeSeriesStore=none/);
  });

  it('reads a Timestream stack through Timestream SQL', async () => {
    cloudFormation.reset();
    stackWith([
      { OutputKey: 'TimestreamDatabaseName', OutputValue: 'FleetDb' },
      { OutputKey: 'TimestreamTableName', OutputValue: 'readings' },
    ]);
    timestream.on(QueryCommand).resolves({
      ColumnInfo: [
        { Name: 'deviceId', Type: { ScalarType: 'VARCHAR' } },
        { Name: 'time', Type: { ScalarType: 'TIMESTAMP' } },
        { Name: 'temperature', Type: { ScalarType: 'DOUBLE' } },
      ],
      Rows: [{ Data: [{ ScalarValue: 'sensor-0001' }, { ScalarValue: '2025-11-25 00:00:01.000000000' }, { ScalarValue: '22.5' }] }],
    });

    const rows = await queryReadings({ ...base, target: 'aws', device: 'sensor-0001', limit: 5 }, { aws: aws() });

    expect(rows).toEqual([{ deviceId: 'sensor-0001', ts: T0 + 1_000, seq: null, type: null, metrics: { temperature: 22.5 } }]);
    expect(timestream.commandCalls(QueryCommand)[0]?.args[0].input.QueryString).toContain(`FROM "FleetDb"."readings" WHERE measure_name = 'reading' AND deviceId = 'sensor-0001'`);
  });

  it('refuses --stack or --region without --target aws', async () => {
    await expect(queryReadings({ ...base, data: dir.path, region: 'eu-west-1' })).rejects.toThrow(new UsageError('--stack and --region need --target aws'));
  });
});
