import { QueryCommand, TimestreamQueryClient, ThrottlingException, type ColumnInfo } from '@aws-sdk/client-timestream-query';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { TimestreamReadingsReader, UnexpectedTimestreamRowError, timestreamTime } from '../../../lambdas/adapters/aws/timestream-readings-reader.js';

// Timestream for LiveAnalytics has no local implementation: the exact SQL and the parsing of
// Timestream's answer (ColumnInfo, Rows of ScalarValue/NullValue, NextToken pages) are pinned here.

const timestream = mockClient(TimestreamQueryClient);

function reader(): TimestreamReadingsReader {
  return new TimestreamReadingsReader({ client: new TimestreamQueryClient({ region: 'eu-west-1' }), databaseName: 'FleetDb-1', tableName: 'readings' });
}

const COLUMNS: ColumnInfo[] = [
  { Name: 'deviceId', Type: { ScalarType: 'VARCHAR' } },
  { Name: 'type', Type: { ScalarType: 'VARCHAR' } },
  { Name: 'measure_name', Type: { ScalarType: 'VARCHAR' } },
  { Name: 'time', Type: { ScalarType: 'TIMESTAMP' } },
  { Name: 'humidity', Type: { ScalarType: 'DOUBLE' } },
  { Name: 'temperature', Type: { ScalarType: 'DOUBLE' } },
];

const row = (deviceId: string, type: string, time: string, humidity: string | null, temperature: string | null) => ({
  Data: [deviceId, type, 'reading', time, humidity, temperature].map((v) => (v === null ? { NullValue: true } : { ScalarValue: v })),
});

const sql = (): string[] => timestream.commandCalls(QueryCommand).map((c) => c.args[0].input.QueryString ?? '');

describe('TimestreamReadingsReader', () => {
  beforeEach(() => {
    timestream.reset();
    timestream.on(QueryCommand).resolves({ ColumnInfo: COLUMNS, Rows: [], QueryId: 'q' });
  });

  it("asks for one device's readings over a range with the exact SQL, newest first by default", async () => {
    await reader().deviceReadings({ deviceId: 'sensor-0001', since: 1_764_028_800_000, until: 1_764_032_400_000, limit: 50 });
    await reader().deviceReadings({ deviceId: "o'brien", order: 'asc' });

    expect(sql()).toEqual([
      `SELECT * FROM "FleetDb-1"."readings" WHERE measure_name = 'reading' AND deviceId = 'sensor-0001' AND time >= from_milliseconds(1764028800000) AND time < from_milliseconds(1764032400000) ORDER BY time DESC LIMIT 50`,
      `SELECT * FROM "FleetDb-1"."readings" WHERE measure_name = 'reading' AND deviceId = 'o''brien' ORDER BY time ASC`,
    ]);
  });

  it("asks for the fleet's newest readings ordered by time then deviceId", async () => {
    await reader().newestReadings({ limit: 10, since: 1_764_028_800_000 });

    expect(sql()).toEqual([
      `SELECT * FROM "FleetDb-1"."readings" WHERE measure_name = 'reading' AND time >= from_milliseconds(1764028800000) ORDER BY time DESC, deviceId DESC LIMIT 10`,
    ]);
  });

  it("asks for each device's newest record with a window function, and reads it back without the row number", async () => {
    timestream.on(QueryCommand).resolves({
      ColumnInfo: [...COLUMNS, { Name: 'newest_rank', Type: { ScalarType: 'BIGINT' } }],
      Rows: [{ Data: [...row('a', 'env-sensor', '2025-11-25 00:00:01.000000000', null, '1').Data, { ScalarValue: '1' }] }],
    });

    const rows = await reader().latestReadings({ deviceIds: ['a', "b'c"], since: 1_764_028_800_000 });
    const none = await reader().latestReadings({ deviceIds: [] });

    expect(sql()).toEqual([
      `SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY deviceId ORDER BY time DESC) AS newest_rank FROM "FleetDb-1"."readings" WHERE measure_name = 'reading' AND deviceId IN ('a', 'b''c') AND time >= from_milliseconds(1764028800000)) WHERE newest_rank = 1 ORDER BY deviceId`,
    ]);
    expect(rows).toEqual([{ deviceId: 'a', ts: 1_764_028_801_000, seq: null, type: 'env-sensor', metrics: { temperature: 1 } }]);
    expect(none).toEqual([]);
  });

  it('reads rows back: time to epoch ms, metrics from the non-null columns, no seq, unknown type as none', async () => {
    timestream.on(QueryCommand).resolves({
      ColumnInfo: COLUMNS,
      Rows: [row('sensor-0001', 'env-sensor', '2025-11-25 00:00:01.123000000', '41.0', '22.4'), row('sensor-0001', 'unknown', '2025-11-25 00:00:00.000000000', null, '-3.5')],
    });

    expect(await reader().deviceReadings({ deviceId: 'sensor-0001' })).toEqual([
      { deviceId: 'sensor-0001', ts: 1_764_028_801_123, seq: null, type: 'env-sensor', metrics: { humidity: 41, temperature: 22.4 } },
      { deviceId: 'sensor-0001', ts: 1_764_028_800_000, seq: null, type: null, metrics: { temperature: -3.5 } },
    ]);
  });

  it('follows NextToken until the query is done (pages may be empty)', async () => {
    timestream
      .on(QueryCommand)
      .resolvesOnce({ ColumnInfo: COLUMNS, Rows: [row('a', 'x', '2025-11-25 00:00:02.000000000', null, '1')], NextToken: 't1' })
      .resolvesOnce({ ColumnInfo: COLUMNS, Rows: [], NextToken: 't2' })
      .resolvesOnce({ ColumnInfo: COLUMNS, Rows: [row('b', 'x', '2025-11-25 00:00:01.000000000', null, '2')] });

    const rows = await reader().newestReadings({ limit: 5 });

    expect(rows.map((r) => r.deviceId)).toEqual(['a', 'b']);
    expect(timestream.commandCalls(QueryCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 't1', 't2']);
  });

  it('passes a throttling error on to the caller', async () => {
    timestream.on(QueryCommand).rejects(new ThrottlingException({ message: 'slow down', $metadata: {} }));

    await expect(reader().newestReadings({ limit: 1 })).rejects.toBeInstanceOf(ThrottlingException);
  });

  it('refuses a time that is not a Timestream timestamp', () => {
    expect(timestreamTime('2025-11-25 00:00:00')).toBe(1_764_028_800_000);
    expect(() => timestreamTime('1764028800000')).toThrow(UnexpectedTimestreamRowError);
  });
});
