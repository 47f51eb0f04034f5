import { App } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationalAlarmCount } from '../../infra/aws/cost/estimate.js';
import { DeploymentSettingsError } from '../../infra/aws/deployment-settings.js';
import { buildFleetTelemetryApp } from '../../infra/aws/fleet-app.js';
import { pipeline } from '../../infra/pipeline.js';
import { ConfigError } from '../../lambdas/domain/errors.js';
import { SYNTH_TIMEOUT_MS, cdkJsonContext, onlyResource, synthesize } from './synth.js';
import type { Synthesized } from './synth.js';

describe('the stack with every context setting changed', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize({
      bundle: false,
      context: {
        streamMode: 'on-demand',
        timeSeriesStore: 'none',
        alarmEmail: 'alarms@example.com',
        opsEmail: 'ops@example.com',
        iotDataEndpoint: 'abc123-ats.iot.eu-west-1.amazonaws.com',
        logRetentionDays: '90',
        logLevel: 'debug',
        alarmStateCapacity: 'on-demand',
      },
    });
  }, SYNTH_TIMEOUT_MS);
  afterAll(() => synth?.cleanup());

  it('keeps alarm state on demand, without auto scaling, when asked', () => {
    const t = synth.template;
    const table = onlyResource(t, 'AWS::DynamoDB::Table', { KeySchema: [{ AttributeName: 'deviceId', KeyType: 'HASH' }] }).properties;
    expect(table['BillingMode']).toBe('PAY_PER_REQUEST');
    expect(table).not.toHaveProperty('ProvisionedThroughput');
    t.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
  });

  it('creates an on-demand stream without a shard count', () => {
    const stream = onlyResource(synth.template, 'AWS::Kinesis::Stream').properties;
    expect(stream['StreamModeDetails']).toEqual({ StreamMode: 'ON_DEMAND' });
    expect(stream).not.toHaveProperty('ShardCount');
  });

  it('leaves out every store but keeps the ingest consumer, without a store, so malformed messages still reach the rejects queue', () => {
    const t = synth.template;
    t.resourceCountIs('AWS::Timestream::Database', 0);
    t.resourceCountIs('AWS::Timestream::Table', 0);
    t.resourceCountIs('AWS::DynamoDB::Table', 2); // alarm state and alarm history only
    const ingest = onlyResource(t, 'AWS::Lambda::Function', { FunctionName: `${pipeline.name}-ingest` });
    const rejects = onlyResource(t, 'AWS::SQS::Queue', { QueueName: `${pipeline.name}-rejects` }).logicalId;
    expect((ingest.properties['Environment'] as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      TIME_SERIES_STORE: 'none',
      REJECT_QUEUE_URL: { Ref: rejects },
    });
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    t.resourceCountIs('AWS::CloudWatch::Alarm', operationalAlarmCount('none'));
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `${pipeline.name}-rejects-queue-depth` });
  });

  it('subscribes the alarm and ops addresses to their own topics', () => {
    const topic = (name: string): string =>
      onlyResource(synth.template, 'AWS::SNS::Topic', { TopicName: `${pipeline.name}-${name}` }).logicalId;
    synth.template.resourceCountIs('AWS::SNS::Subscription', 2);
    synth.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'alarms@example.com',
      TopicArn: { Ref: topic('alarms') },
    });
    synth.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topic('ops') },
    });
  });

  it('uses the given IoT endpoint instead of looking it up, with the given log level and retention', () => {
    synth.template.resourceCountIs('Custom::AWS', 0);
    for (const name of ['alarms', 'offline']) {
      const fn = onlyResource(synth.template, 'AWS::Lambda::Function', { FunctionName: `${pipeline.name}-${name}` });
      expect(fn.properties['Environment']).toMatchObject({
        Variables: { IOT_DATA_ENDPOINT: 'abc123-ats.iot.eu-west-1.amazonaws.com', POWERTOOLS_LOG_LEVEL: 'DEBUG' },
      });
    }
    for (const logGroup of Object.values(synth.template.findResources('AWS::Logs::LogGroup'))) {
      expect(logGroup['Properties']['RetentionInDays']).toBe(90);
    }
  });

  it('still passes cdk-nag AwsSolutions with nothing unacknowledged', () => {
    const annotations = Annotations.fromStack(synth.stack);
    const nag = Match.stringLikeRegexp('AwsSolutions-.*');
    expect(annotations.findError('*', nag)).toEqual([]);
    expect(annotations.findWarning('*', nag)).toEqual([]);
  });
});

describe('Timestream retention from context', () => {
  it('sets the memory and magnetic retention the deployer chose', () => {
    const synth = synthesize({
      bundle: false,
      context: { timeSeriesStore: 'timestream', timestreamMemoryRetentionHours: 48, timestreamMagneticRetentionDays: '30' },
    });
    try {
      expect(onlyResource(synth.template, 'AWS::Timestream::Table').properties['RetentionProperties']).toEqual({
        MemoryStoreRetentionPeriodInHours: '48',
        MagneticStoreRetentionPeriodInDays: '30',
      });
    } finally {
      synth.cleanup();
    }
  }, SYNTH_TIMEOUT_MS);
});

describe('building the app with bad input', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-thresholds-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const build = (context: Record<string, unknown>): void => {
    buildFleetTelemetryApp(new App({ context: { ...cdkJsonContext(), ...context }, outdir: dir }));
  };

  it('refuses a context value it cannot use, naming the key', () => {
    expect(() => build({ streamMode: 'PROVISIONED' })).toThrow(DeploymentSettingsError);
    expect(() => build({ streamMode: 'PROVISIONED' })).toThrow(/streamMode/);
  });

  it('refuses a thresholds file that does not validate, naming the file, before building anything', () => {
    const bad = join(dir, 'thresholds.json');
    writeFileSync(bad, JSON.stringify({ rules: [{ id: 'x', metric: 'temperature', when: {} }] }));
    expect(() => build({ thresholdsFile: bad })).toThrow(ConfigError);
    expect(() => build({ thresholdsFile: bad })).toThrow(bad);
  });

  it('refuses a thresholds file that is missing', () => {
    expect(() => build({ thresholdsFile: join(dir, 'nope.json') })).toThrow(/not found/);
  });
});
