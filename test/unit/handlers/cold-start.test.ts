import { AppConfigDataClient, GetLatestConfigurationCommand, StartConfigurationSessionCommand, ThrottlingException } from '@aws-sdk/client-appconfigdata';
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { TimestreamWriteClient, WriteRecordsCommand } from '@aws-sdk/client-timestream-write';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, KinesisStreamBatchResponse } from 'aws-lambda';
import { Uint8ArrayBlobAdapter } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ALARM_COMMANDS_ENV } from '../../../lambdas/alarm-commands/env.js';
import { ALARMS_ENV } from '../../../lambdas/alarms/env.js';
import { ConfigError } from '../../../lambdas/domain/errors.js';
import { ingestEnv } from '../../../lambdas/ingest/env.js';
import { OFFLINE_ENV } from '../../../lambdas/offline/env.js';
import { installAlarmTable } from '../../fixtures/aws/dynamodb-table.js';
import { telemetryEvent } from '../../fixtures/aws/kinesis-events.js';

/*
 * The three AWS composition roots, imported fresh (a cold start) with a given environment. The SDK
 * clients they build are mocked at the class, so the real handler runs end to end.
 */

const FIXTURES = fileURLToPath(new URL('../../fixtures/aws/', import.meta.url));
const VALID_ENV: Record<string, string> = {
  TIME_SERIES_STORE: 'timestream',
  TIMESTREAM_DATABASE: 'fleet_telemetry',
  TIMESTREAM_TABLE: 'readings',
  REJECT_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/fleet-telemetry-rejects',
  ALARM_STATE_TABLE: 'fleet-telemetry-alarm-state',
  ALARM_HISTORY_TABLE: 'fleet-telemetry-alarm-history',
  ALARM_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:fleet-telemetry-alarms',
  IOT_DATA_ENDPOINT: 'abc123-ats.iot.eu-west-1.amazonaws.com',
  THRESHOLDS_FILE: 'thresholds.json',
  THRESHOLDS_APPCONFIG_APPLICATION: 'app1234',
  THRESHOLDS_APPCONFIG_ENVIRONMENT: 'env1234',
  THRESHOLDS_APPCONFIG_PROFILE: 'prof123',
  LAMBDA_TASK_ROOT: FIXTURES,
  POWERTOOLS_SERVICE_NAME: 'fleet-telemetry-test',
  POWERTOOLS_METRICS_NAMESPACE: 'FleetTelemetryTest',
  POWERTOOLS_LOG_LEVEL: 'WARN',
  POWERTOOLS_DEV: '',
  AWS_REGION: 'eu-west-1',
};

type LambdaHandler = (event: unknown, context?: Context) => Promise<unknown>;

const modules = {
  ingest: { path: '../../../lambdas/ingest/handler.js', names: ingestEnv('timestream') },
  alarms: { path: '../../../lambdas/alarms/handler.js', names: ALARMS_ENV },
  offline: { path: '../../../lambdas/offline/handler.js', names: OFFLINE_ENV },
  'alarm-commands': { path: '../../../lambdas/alarm-commands/handler.js', names: ALARM_COMMANDS_ENV },
} as const;

/** Imports a composition root as Lambda would on a cold start, with `env` set. */
async function coldStart(name: keyof typeof modules, env: Record<string, string | undefined>): Promise<LambdaHandler> {
  vi.resetModules();
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  const module = (await import(modules[name].path)) as { handler: LambdaHandler };
  return module.handler;
}

/** The JSON lines written to stdout while `act` runs (Powertools writes EMF there). */
async function stdoutJson(act: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk));
    return true;
  });
  try {
    await act();
  } finally {
    spy.mockRestore();
  }
  return chunks
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const timestream = mockClient(TimestreamWriteClient);
const sqs = mockClient(SQSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const dynamoReadings = mockClient(DynamoDBClient);
const iot = mockClient(IoTDataPlaneClient);
const sns = mockClient(SNSClient);
const appConfig = mockClient(AppConfigDataClient);

/** The rules deployed in AppConfig: overheat at 50, where the bundled fixture file says 80. */
const DEPLOYED_RULES = {
  rules: [{ id: 'overheat', metric: 'temperature', match: { type: 'env-sensor' }, when: { above: 50 }, for: { samples: 2 }, severity: 'critical' }],
};

describe('AWS composition roots', () => {
  beforeEach(() => {
    for (const mock of [timestream, sqs, dynamo, iot, sns]) mock.reset();
    dynamoReadings.reset();
    dynamoReadings.on(BatchWriteItemCommand).resolves({ UnprocessedItems: {} });
    timestream.on(WriteRecordsCommand).resolves({});
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    iot.on(PublishCommand).resolves({});
    sns.on(PublishBatchCommand).resolves({ Successful: [], Failed: [] });
    appConfig.reset();
    appConfig.on(StartConfigurationSessionCommand).resolves({ InitialConfigurationToken: 'token-0' });
    appConfig.on(GetLatestConfigurationCommand).resolves({
      NextPollConfigurationToken: 'token-1',
      ContentType: 'application/json',
      Configuration: Uint8ArrayBlobAdapter.fromString(JSON.stringify(DEPLOYED_RULES)),
    });
  });
  afterEach(() => vi.unstubAllEnvs());

  describe.each(Object.keys(modules) as (keyof typeof modules)[])('%s', (name) => {
    it.each([...modules[name].names])('fails at cold start naming %s when it is missing', async (variable) => {
      const load = coldStart(name, { ...VALID_ENV, [variable]: undefined });

      // By name: a cold start loads its own copy of errors.js, so instanceof would compare two classes.
      await expect(load).rejects.toMatchObject({ name: ConfigError.name });
      await expect(load).rejects.toThrow(`environment variable ${variable} is missing or empty`);
    });
  });

  it('ingest: stores a batch through Timestream and publishes its metrics after the invocation', async () => {
    const handler = await coldStart('ingest', VALID_ENV);
    let response: unknown;

    const lines = await stdoutJson(async () => {
      response = await handler(telemetryEvent('sensor-0001', [{ ts: 1_764_028_800_123, seq: 1, metrics: { temperature: 22 } }]));
    });

    expect(response).toEqual({ batchItemFailures: [] } satisfies KinesisStreamBatchResponse);
    expect(timestream.commandCalls(WriteRecordsCommand)[0]?.args[0].input).toMatchObject({
      DatabaseName: 'fleet_telemetry',
      TableName: 'readings',
    });
    const emf = lines.find((line) => '_aws' in line);
    expect(emf).toMatchObject({ ReadingsStored: 1, service: 'fleet-telemetry-test' });
    expect(JSON.stringify(emf?.['_aws'])).toContain('"Namespace":"FleetTelemetryTest"');
  });

  describe('ingest with TIME_SERIES_STORE=dynamodb', () => {
    const DYNAMODB_ENV = {
      ...VALID_ENV,
      TIME_SERIES_STORE: 'dynamodb',
      TIMESTREAM_DATABASE: undefined,
      TIMESTREAM_TABLE: undefined,
      READINGS_TABLE: 'FleetTelemetry-ReadingsTable-1',
      READINGS_RETENTION_DAYS: '7',
    };

    it('stores a batch in the readings table, with the retention as the TTL', async () => {
      const handler = await coldStart('ingest', DYNAMODB_ENV);

      const response = await stdoutJson(() => handler(telemetryEvent('sensor-0001', [{ ts: 1_764_028_800_123, seq: 1, metrics: { temperature: 22 } }])));

      expect(response.find((line) => '_aws' in line)).toMatchObject({ ReadingsStored: 1 });
      const items = dynamoReadings.commandCalls(BatchWriteItemCommand)[0]?.args[0].input.RequestItems?.['FleetTelemetry-ReadingsTable-1'];
      expect(items?.[0]?.PutRequest?.Item?.['expiresAt']).toEqual({ N: String(1_764_028_800 + 7 * 86_400) });
      expect(timestream.commandCalls(WriteRecordsCommand)).toEqual([]);
    });

    it.each(['READINGS_TABLE', 'READINGS_RETENTION_DAYS'])('fails at cold start naming %s when it is missing', async (variable) => {
      const load = coldStart('ingest', { ...DYNAMODB_ENV, [variable]: undefined });

      await expect(load).rejects.toMatchObject({ name: ConfigError.name });
      await expect(load).rejects.toThrow(`environment variable ${variable} is missing or empty`);
    });

    it.each([
      ['TIME_SERIES_STORE', 'influx', 'environment variable TIME_SERIES_STORE="influx": expected one of dynamodb, timestream'],
      ['READINGS_RETENTION_DAYS', '0', 'environment variable READINGS_RETENTION_DAYS="0": expected a whole number of days, at least 1'],
    ])('fails at cold start on %s=%s, naming it', async (variable, value, message) => {
      const load = coldStart('ingest', { ...DYNAMODB_ENV, [variable]: value });

      await expect(load).rejects.toMatchObject({ name: ConfigError.name });
      await expect(load).rejects.toThrow(message);
    });
  });

  it('alarms: decides with the rules deployed in AppConfig and publishes to the IoT endpoint', async () => {
    installAlarmTable(dynamo);
    const handler = await coldStart('alarms', VALID_ENV);
    // Over AppConfig's 50, under the bundled file's 80.
    const readings = [61, 62].map((temperature, i) => ({ ts: 1_764_028_800_000 + i, seq: i, type: 'env-sensor', metrics: { temperature } }));

    await stdoutJson(() => handler(telemetryEvent('sensor-0001', readings)));

    expect(appConfig.commandCalls(StartConfigurationSessionCommand)[0]?.args[0].input).toEqual({
      ApplicationIdentifier: 'app1234',
      EnvironmentIdentifier: 'env1234',
      ConfigurationProfileIdentifier: 'prof123',
    });
    expect(iot.commandCalls(PublishCommand).map((call) => call.args[0].input.topic)).toEqual(['alarms/fleet/sensor-0001']);
    expect(sns.commandCalls(PublishBatchCommand)[0]?.args[0].input.TopicArn).toBe(VALID_ENV['ALARM_TOPIC_ARN']);
    const endpoint = await (iot.commandCalls(PublishCommand)[0]?.thisValue as IoTDataPlaneClient).config.endpoint?.();
    expect(endpoint).toMatchObject({ protocol: 'https:', hostname: 'abc123-ats.iot.eu-west-1.amazonaws.com' });
  });

  it("alarms: decides with the bundled thresholds file (relative to LAMBDA_TASK_ROOT) while AppConfig cannot be read, and counts it", async () => {
    installAlarmTable(dynamo);
    appConfig.on(GetLatestConfigurationCommand).rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
    const handler = await coldStart('alarms', VALID_ENV);
    const under = [61, 62].map((temperature, i) => ({ ts: 1_764_028_800_000 + i, seq: i, type: 'env-sensor', metrics: { temperature } }));
    const over = [81, 82].map((temperature, i) => ({ ts: 1_764_028_801_000 + i, seq: 10 + i, type: 'env-sensor', metrics: { temperature } }));

    const lines = await stdoutJson(() => handler(telemetryEvent('sensor-0001', under)));
    await stdoutJson(() => handler(telemetryEvent('sensor-0001', over)));

    expect(iot.commandCalls(PublishCommand)).toHaveLength(1);
    expect(lines.find((line) => '_aws' in line)).toMatchObject({ ThresholdsRefreshFailed: 1, ThresholdsFromBundledFile: 1 });
  });

  it.each(['alarms', 'offline'] as const)('%s: fails at cold start naming a thresholds file that is not there', async (name) => {
    const load = coldStart(name, { ...VALID_ENV, THRESHOLDS_FILE: 'missing.json' });

    await expect(load).rejects.toMatchObject({ name: ConfigError.name });
    await expect(load).rejects.toThrow(`thresholds file ${FIXTURES}missing.json: not found`);
  });

  it('alarm-commands: answers a command through the IoT data plane of the configured endpoint', async () => {
    installAlarmTable(dynamo);
    const handler = await coldStart('alarm-commands', VALID_ENV);
    const payload = Buffer.from(JSON.stringify({ action: 'acknowledge', ruleId: 'overheat', clientToken: 'c-1' })).toString('base64');

    await stdoutJson(() => handler({ payload, deviceId: 'sensor-0001', clientId: 'operator-1', receivedAt: 1_764_028_800_000 }));

    const reply = iot.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(reply?.topic).toBe('cmd/fleet/alarms/sensor-0001/rejected');
    expect(JSON.parse(new TextDecoder().decode(reply?.payload as Uint8Array))).toEqual({
      clientToken: 'c-1',
      deviceId: 'sensor-0001',
      ruleId: 'overheat',
      action: 'acknowledge',
      reason: 'device sensor-0001 has no alarm state yet (it has sent no reading)',
    });
    const endpoint = await (iot.commandCalls(PublishCommand)[0]?.thisValue as IoTDataPlaneClient).config.endpoint?.();
    expect(endpoint).toMatchObject({ protocol: 'https:', hostname: 'abc123-ats.iot.eu-west-1.amazonaws.com' });
  });

  it('offline: runs the check on a scheduled event', async () => {
    installAlarmTable(dynamo);
    const handler = await coldStart('offline', VALID_ENV);

    const outcome = await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });

    expect(outcome).toEqual({ checked: 0, raised: 0, deferred: 0, failed: [] });
  });
});
