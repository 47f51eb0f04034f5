import {
  InternalServerException,
  RejectedRecordsException,
  ThrottlingException,
  TimestreamWriteClient,
  ValidationException,
  WriteRecordsCommand,
} from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { TimestreamStore } from '../../../lambdas/adapters/aws/timestream-store.js';
import { RetryableError } from '../../../lambdas/domain/errors.js';
import { reading, readings } from '../../fixtures/aws/readings.js';

const timestream = mockClient(TimestreamWriteClient);

function store(): TimestreamStore {
  return new TimestreamStore({
    client: new TimestreamWriteClient({ region: 'eu-west-1' }),
    databaseName: 'fleet_telemetry',
    tableName: 'readings',
  });
}

function writeInputs() {
  return timestream.commandCalls(WriteRecordsCommand).map((call) => call.args[0].input);
}

describe('TimestreamStore', () => {
  beforeEach(() => {
    timestream.reset();
    timestream.on(WriteRecordsCommand).resolves({ RecordsIngested: { Total: 1 } });
  });

  it('writes one multi-measure record per reading, common attributes shared, Version from seq', async () => {
    const outcome = await store().write([
      reading(),
      reading({ ts: 1_764_028_801_123, seq: 0, type: undefined, metrics: { temperature: -3.5 } }),
    ]);

    expect(outcome).toEqual({ rejected: [] });
    expect(writeInputs()).toEqual([
      {
        DatabaseName: 'fleet_telemetry',
        TableName: 'readings',
        CommonAttributes: { MeasureName: 'reading', MeasureValueType: 'MULTI', TimeUnit: 'MILLISECONDS' },
        Records: [
          {
            Dimensions: [
              { Name: 'deviceId', Value: 'sensor-0001' },
              { Name: 'type', Value: 'env-sensor' },
            ],
            MeasureValues: [
              { Name: 'temperature', Value: '22.4', Type: 'DOUBLE' },
              { Name: 'humidity', Value: '41', Type: 'DOUBLE' },
              { Name: 'battery', Value: '3.61', Type: 'DOUBLE' },
            ],
            Time: '1764028800123',
            Version: 18,
          },
          {
            Dimensions: [
              { Name: 'deviceId', Value: 'sensor-0001' },
              { Name: 'type', Value: 'unknown' },
            ],
            MeasureValues: [{ Name: 'temperature', Value: '-3.5', Type: 'DOUBLE' }],
            Time: '1764028801123',
            Version: 1,
          },
        ],
      },
    ]);
  });

  it('writes a reading without seq with Version 1, so a replay is the same record at the same version', async () => {
    await store().write([reading({ seq: undefined })]);
    await store().write([reading({ seq: undefined })]);

    const [first, second] = writeInputs();
    expect(first?.Records?.[0]?.Version).toBe(1);
    expect(second).toEqual(first);
  });

  it('splits 250 readings into WriteRecords requests of 100, 100 and 50', async () => {
    const batch = readings(250);

    const outcome = await store().write(batch);

    expect(outcome.rejected).toEqual([]);
    const inputs = writeInputs();
    expect(inputs.map((input) => input.Records?.length)).toEqual([100, 100, 50]);
    expect(inputs[1]?.Records?.[0]?.Time).toBe(String(batch[100]?.ts));
    expect(inputs[2]?.Records?.[49]).toMatchObject({ Time: String(batch[249]?.ts), Version: 250 });
  });

  it('rejects a reading whose metric is a reserved Timestream name without sending it, and writes the rest', async () => {
    const batch = [reading({ seq: 1 }), reading({ seq: 2, metrics: { time: 5 } }), reading({ seq: 3 })];

    const outcome = await store().write(batch);

    expect(outcome.rejected).toEqual([{ index: 1, reason: 'metrics.time: reserved column name in Timestream' }]);
    expect(writeInputs()[0]?.Records?.map((record) => record.Version)).toEqual([2, 4]);
  });

  it('rejects a metric named like a dimension', async () => {
    const outcome = await store().write([reading({ metrics: { deviceId: 1 } })]);

    expect(outcome.rejected).toEqual([
      { index: 0, reason: 'metrics.deviceId: clashes with the Timestream dimension of the same name' },
    ]);
    expect(writeInputs()).toEqual([]);
  });

  it('maps RejectedRecords back to the readings given, with Timestream reasons, across requests', async () => {
    const batch = readings(103);
    batch[1] = reading({ seq: 1000, metrics: { ts_local: 1 } }); // screened: shifts request indexes by one
    timestream
      .on(WriteRecordsCommand)
      .rejectsOnce(
        new RejectedRecordsException({
          message: 'One or more records have been rejected. See RejectedRecords for details.',
          $metadata: { httpStatusCode: 419 },
          RejectedRecords: [
            { RecordIndex: 1, Reason: 'The record timestamp is outside the time range of the data ingestion window.' },
            {
              RecordIndex: 4,
              Reason: 'A record with the same time, dimensions and measure name exists with a higher version.',
              ExistingVersion: 9,
            },
          ],
        }),
      )
      .rejectsOnce(
        new RejectedRecordsException({
          message: 'One or more records have been rejected.',
          $metadata: {},
          RejectedRecords: [{ RecordIndex: 2, Reason: 'Measure value too long.' }],
        }),
      );

    const outcome = await store().write(batch);

    expect(outcome.rejected).toEqual([
      { index: 1, reason: 'metrics.ts_local: reserved column name in Timestream' },
      { index: 2, reason: 'The record timestamp is outside the time range of the data ingestion window.' },
      { index: 5, reason: 'A record with the same time, dimensions and measure name exists with a higher version.' },
      { index: 102, reason: 'Measure value too long.' },
    ]);
    expect(writeInputs().map((input) => input.Records?.length)).toEqual([99, 3]);
  });

  it.each([
    ['ThrottlingException', new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } })],
    ['InternalServerException', new InternalServerException({ message: 'Internal error', Message: 'Internal error', $metadata: {} })],
    ['HTTP 503', Object.assign(new Error('Service Unavailable'), { name: 'Unknown', $metadata: { httpStatusCode: 503 } })],
    ['a timeout', Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError' })],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ])('throws a RetryableError carrying the cause on %s', async (_label, cause) => {
    timestream.on(WriteRecordsCommand).rejects(cause);

    const error = await store().write([reading()]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).cause).toBe(cause);
    expect((error as RetryableError).message).toContain('fleet_telemetry.readings');
  });

  it('lets a ValidationException through unchanged, failing the whole write', async () => {
    const cause = new ValidationException({ message: 'Invalid time', Message: 'Invalid time', $metadata: { httpStatusCode: 400 } });
    timestream.on(WriteRecordsCommand).rejects(cause);

    await expect(store().write([reading()])).rejects.toBe(cause);
  });

  it('sends nothing for no readings', async () => {
    await expect(store().write([])).resolves.toEqual({ rejected: [] });
    expect(writeInputs()).toEqual([]);
  });
});

describe('TimestreamStore with duplicates in one write', () => {
  beforeEach(() => timestream.reset());

  it('sends a reading delivered twice once, and a rejection of it applies to both copies', async () => {
    const twice = reading({ seq: 5 });
    timestream.on(WriteRecordsCommand).rejects(
      new RejectedRecordsException({
        message: 'rejected',
        $metadata: {},
        RejectedRecords: [{ RecordIndex: 0, Reason: 'The record timestamp is outside the time range of the data ingestion window.' }],
      }),
    );

    const outcome = await store().write([twice, reading({ seq: 6, ts: twice.ts + 1 }), { ...twice }]);

    expect(writeInputs()[0]?.Records?.map((record) => record.Version)).toEqual([6, 7]);
    expect(outcome.rejected.map((r) => r.index)).toEqual([0, 2]);
  });

  it('sends both readings when they share a time but differ in value, so Timestream decides', async () => {
    timestream.on(WriteRecordsCommand).resolves({});

    await store().write([reading({ metrics: { temperature: 1 } }), reading({ metrics: { temperature: 2 } })]);

    expect(writeInputs()[0]?.Records).toHaveLength(2);
  });
});
