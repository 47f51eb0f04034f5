import { Annotations, Match } from 'aws-cdk-lib/assertions';
import type { Template } from 'aws-cdk-lib/assertions';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POWERTOOLS_ENV } from '../../infra/aws/constructs/fleet-function.js';
import { operationalAlarmCount } from '../../infra/aws/cost/estimate.js';
import { DEFAULT_DEPLOYMENT_SETTINGS } from '../../infra/aws/deployment-settings.js';
import { FUNCTION_SIZING } from '../../infra/aws/function-sizing.js';
import { ALARM_COMMANDS_SIZING } from '../../infra/aws/constructs/alarm-commands.js';
import { REPO_ROOT } from '../../infra/aws/paths.js';
import { pipeline } from '../../infra/pipeline.js';
import type { EventSourceMappingSettings } from '../../infra/pipeline.js';
import { ALARMS_ENV } from '../../lambdas/alarms/env.js';
import { INGEST_ENV, INGEST_STORE_ENV } from '../../lambdas/ingest/env.js';
import { OFFLINE_ENV } from '../../lambdas/offline/env.js';
import { ALARM_COMMANDS_ENV } from '../../lambdas/alarm-commands/env.js';
import { SYNTH_TIMEOUT_MS, onlyResource, synthesize } from './synth.js';
import type { Synthesized } from './synth.js';

let synth: Synthesized;
let template: Template;
/** A `docker` first on PATH during the synth, which leaves a mark if anything runs it. */
let fakeDocker: { dir: string; mark: string };

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-no-docker-'));
  fakeDocker = { dir, mark: join(dir, 'docker-was-called') };
  writeFileSync(join(dir, 'docker'), `#!/bin/sh\ntouch '${fakeDocker.mark}'\nexit 1\n`, { mode: 0o755 });
  const path = process.env['PATH'];
  process.env['PATH'] = `${dir}:${path ?? ''}`;
  try {
    // The Timestream variant: today's stack for accounts that have Timestream. The default store
    // (DynamoDB) is pinned by readings-store.test.ts; everything else here is the same in both.
    synth = synthesize({ context: { timeSeriesStore: 'timestream' } });
  } finally {
    process.env['PATH'] = path;
  }
  template = synth.template;
}, SYNTH_TIMEOUT_MS);

afterAll(() => {
  synth?.cleanup();
  if (fakeDocker !== undefined) rmSync(fakeDocker.dir, { recursive: true, force: true });
});

it('bundles the functions with the local esbuild, never running docker', () => {
  expect(existsSync(fakeDocker.mark)).toBe(false);
  template.resourceCountIs('AWS::Lambda::Function', 5);
});

const FUNCTIONS = {
  ingest: { env: [...INGEST_ENV, ...INGEST_STORE_ENV.timestream], list: 'INGEST_ENV', thresholds: false },
  alarms: { env: ALARMS_ENV, list: 'ALARMS_ENV', thresholds: true },
  offline: { env: OFFLINE_ENV, list: 'OFFLINE_ENV', thresholds: true },
  'alarm-commands': { env: ALARM_COMMANDS_ENV, list: 'ALARM_COMMANDS_ENV', thresholds: true },
} as const;
type FunctionName = keyof typeof FUNCTIONS;
/** What each function is given: the cost estimator's table, and the alarm-commands construct's own. */
const SIZING = { ...FUNCTION_SIZING, 'alarm-commands': ALARM_COMMANDS_SIZING } as const;

function fn(name: FunctionName): ReturnType<typeof onlyResource> {
  return onlyResource(template, 'AWS::Lambda::Function', { FunctionName: `${pipeline.name}-${name}` });
}

/** Every (action, resource) pair the role's inline policies allow. */
function allowed(roleLogicalId: string): { action: string; resource: unknown }[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleLogicalId }]) },
  });
  const pairs: { action: string; resource: unknown }[] = [];
  for (const policy of Object.values(policies)) {
    for (const s of policy['Properties']['PolicyDocument']['Statement'] as Record<string, unknown>[]) {
      expect(s['Effect']).toBe('Allow');
      for (const action of ([] as string[]).concat(s['Action'] as string | string[])) {
        for (const resource of ([] as unknown[]).concat(s['Resource'])) pairs.push({ action, resource });
      }
    }
  }
  return pairs;
}

/** Where the synth left the function's bundle. */
function assetDirOf(name: FunctionName): string {
  const code = fn(name).properties['Code'] as { S3Key: string };
  return join(synth.outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
}

/** The alarm-state table's key (the history table has a sort key too). */
const ALARM_STATE_KEYS = { KeySchema: [{ AttributeName: 'deviceId', KeyType: 'HASH' }] };

/** A plausible value for every variable a handler may read (nothing is called at import). */
const SAMPLE_ENV: Readonly<Record<string, string>> = {
  TIME_SERIES_STORE: 'timestream',
  TIMESTREAM_DATABASE: 'fleet_telemetry',
  TIMESTREAM_TABLE: 'readings',
  REJECT_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/fleet-telemetry-rejects',
  ALARM_STATE_TABLE: 'fleet-telemetry-alarm-state',
  ALARM_HISTORY_TABLE: 'fleet-telemetry-alarm-history',
  ALARM_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:fleet-telemetry-alarms',
  IOT_DATA_ENDPOINT: 'abc123-ats.iot.us-east-1.amazonaws.com',
  THRESHOLDS_FILE: 'thresholds.json',
  THRESHOLDS_APPCONFIG_APPLICATION: 'abc1234',
  THRESHOLDS_APPCONFIG_ENVIRONMENT: 'env1234',
  THRESHOLDS_APPCONFIG_PROFILE: 'prof123',
} satisfies Record<(typeof INGEST_ENV | typeof INGEST_STORE_ENV.timestream | typeof ALARMS_ENV | typeof OFFLINE_ENV | typeof ALARM_COMMANDS_ENV)[number], string>;

/** Imports the bundle the way the Lambda runtime does (an ES module by file URL). */
const LOAD_HANDLER =
  "const m = await import(new URL('./index.mjs', 'file://' + process.cwd() + '/')); console.log(typeof m.handler);";

function roleOf(name: FunctionName): string {
  const role = fn(name).properties['Role'] as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
}

function logicalIdOf(type: string, props: Record<string, unknown>): string {
  return onlyResource(template, type, props).logicalId;
}

/** EventSourceMappingSettings as the CloudFormation properties they are named after. */
function asCfnProperties(settings: EventSourceMappingSettings): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(settings).map(([key, value]) => [key[0]!.toUpperCase() + key.slice(1), value]),
  );
}

describe('the synthesized stack agrees with infra/pipeline.ts', () => {
  it('creates the stream with the pipeline name, shard count and retention', () => {
    const stream = onlyResource(template, 'AWS::Kinesis::Stream').properties;
    expect(stream).toMatchObject({
      Name: pipeline.stream.name,
      ShardCount: pipeline.stream.shardCount,
      RetentionPeriodHours: DEFAULT_DEPLOYMENT_SETTINGS.streamRetentionHours,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
    });
  });

  it('routes messages with the pipeline rule SQL, SQL version and partition key', () => {
    const rule = onlyResource(template, 'AWS::IoT::TopicRule', { RuleName: pipeline.rule.name }).properties;
    const payload = rule['TopicRulePayload'] as Record<string, unknown>;
    expect(rule['RuleName']).toBe(pipeline.rule.name);
    expect(payload['Sql']).toBe(pipeline.rule.sql);
    expect(payload['Sql']).toContain(`FROM '${pipeline.topics.telemetryFilter}'`);
    expect(payload['AwsIotSqlVersion']).toBe('2016-03-23');
    expect(payload['RuleDisabled']).toBe(false);
    expect(payload['Actions']).toEqual([
      {
        Kinesis: {
          StreamName: { Ref: logicalIdOf('AWS::Kinesis::Stream', {}) },
          PartitionKey: pipeline.rule.partitionKey,
          RoleArn: expect.anything(),
        },
      },
    ]);
  });

  it.each(['ingest', 'alarms'] as const)(
    'maps the stream to the %s function with exactly the pipeline settings and the S3 failure bucket as on-failure destination',
    (name) => {
      const mapping = onlyResource(template, 'AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: fn(name).logicalId },
      }).properties;
      const { FunctionName, EventSourceArn, DestinationConfig, ...settings } = mapping;
      expect(FunctionName).toBeDefined();
      expect(settings).toEqual(asCfnProperties(pipeline.consumers[name]));
      expect(EventSourceArn).toEqual({ 'Fn::GetAtt': [logicalIdOf('AWS::Kinesis::Stream', {}), 'Arn'] });
      const failures = logicalIdOf('AWS::S3::Bucket', {});
      expect(DestinationConfig).toEqual({ OnFailure: { Destination: { 'Fn::GetAtt': [failures, 'Arn'] } } });
    },
  );

  it('bisects, retries until a record age well below the retention, and reports batch item failures on both mappings', () => {
    for (const settings of Object.values(pipeline.consumers)) {
      expect(settings.bisectBatchOnFunctionError).toBe(true);
      expect(settings.maximumRetryAttempts).toBe(-1);
      expect(settings.maximumRecordAgeInSeconds).toBeGreaterThanOrEqual(60);
      expect(settings.maximumRecordAgeInSeconds).toBeLessThanOrEqual(DEFAULT_DEPLOYMENT_SETTINGS.streamRetentionHours * 3_600 * 0.75);
      expect(settings.functionResponseTypes).toEqual(['ReportBatchItemFailures']);
    }
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
  });

  it('has no DynamoDB readings table and no ReadingsTableName output with Timestream', () => {
    // Alarm state and alarm history only.
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
    expect(Object.keys(template.findOutputs('AlarmHistoryTableName'))).toHaveLength(1);
    expect(template.findOutputs('ReadingsTableName')).toEqual({});
  });

  it('puts the Timestream table in the stack\'s database, both named by CloudFormation', () => {
    expect(onlyResource(template, 'AWS::Timestream::Database').properties).not.toHaveProperty('DatabaseName');
    const table = onlyResource(template, 'AWS::Timestream::Table').properties;
    expect(table).not.toHaveProperty('TableName');
    expect(table['DatabaseName']).toEqual({ Ref: logicalIdOf('AWS::Timestream::Database', {}) });
  });

  it('runs the offline check on the pipeline schedule', () => {
    const rule = onlyResource(template, 'AWS::Events::Rule').properties;
    const minutes = pipeline.offlineCheck.everyMinutes;
    expect(rule['ScheduleExpression']).toBe(`rate(${minutes} minute${minutes === 1 ? '' : 's'})`);
    expect(rule['Targets']).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': [fn('offline').logicalId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } }),
    ]);
  });
});

describe('the functions', () => {
  it.each(Object.keys(FUNCTIONS) as FunctionName[])(
    '%s runs on nodejs24.x arm64 with the sizing the cost estimator prices and its own log group',
    (name) => {
      const { properties } = fn(name);
      expect(properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: SIZING[name].memoryMb,
        Timeout: SIZING[name].timeoutSeconds,
      });
      const logGroup = (properties['LoggingConfig'] as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(template.toJSON()['Resources'][logGroup]['Properties']['RetentionInDays']).toBe(
        DEFAULT_DEPLOYMENT_SETTINGS.logRetentionDays,
      );
    },
  );

  it.each(Object.keys(FUNCTIONS) as FunctionName[])(
    '%s receives exactly the variables its handler reads, plus the three Powertools settings',
    (name) => {
      const variables = (fn(name).properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
      expect(Object.keys(variables).sort()).toEqual([...FUNCTIONS[name].env, ...POWERTOOLS_ENV].sort());
      expect(variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: `${pipeline.name}-${name}`,
        POWERTOOLS_METRICS_NAMESPACE: 'FleetTelemetry',
        POWERTOOLS_LOG_LEVEL: DEFAULT_DEPLOYMENT_SETTINGS.logLevel,
      });
    },
  );

  it.each(Object.keys(FUNCTIONS) as FunctionName[])(
    "%s's handler reads its environment through its list, and no process.env variable outside it",
    (name) => {
      const source = readFileSync(join(REPO_ROOT, 'lambdas', name, 'handler.ts'), 'utf8');
      expect(source).toContain(`readEnv(${FUNCTIONS[name].list})`);
      const read = [...source.matchAll(/process\.env(?:\.([A-Z0-9_]+)|\[['"]([A-Z0-9_]+)['"]\])/g)].map(
        (m) => m[1] ?? m[2],
      );
      for (const variable of read) expect([...FUNCTIONS[name].env, ...POWERTOOLS_ENV]).toContain(variable);
    },
  );

  it("points the ingest function at the stack's Timestream table and the reject queue", () => {
    const variables = (fn('ingest').properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toEqual(
      expect.objectContaining({
        TIME_SERIES_STORE: 'timestream',
        TIMESTREAM_DATABASE: { Ref: logicalIdOf('AWS::Timestream::Database', {}) },
        TIMESTREAM_TABLE: { 'Fn::GetAtt': [logicalIdOf('AWS::Timestream::Table', {}), 'Name'] },
        REJECT_QUEUE_URL: { Ref: logicalIdOf('AWS::SQS::Queue', { QueueName: `${pipeline.name}-rejects` }) },
      }),
    );
  });

  it.each(['alarms', 'offline'] as const)(
    'points the %s function at the alarm table, the alarm topic, the looked-up endpoint and the bundled thresholds',
    (name) => {
      const variables = (fn(name).properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
      const endpoint = logicalIdOf('Custom::AWS', {});
      expect(variables).toEqual(
        expect.objectContaining({
          ALARM_STATE_TABLE: { Ref: logicalIdOf('AWS::DynamoDB::Table', ALARM_STATE_KEYS) },
          ALARM_TOPIC_ARN: { Ref: logicalIdOf('AWS::SNS::Topic', { TopicName: `${pipeline.name}-alarms` }) },
          IOT_DATA_ENDPOINT: { 'Fn::GetAtt': [endpoint, 'endpointAddress'] },
          THRESHOLDS_FILE: 'thresholds.json',
        }),
      );
    },
  );

  it.each(Object.keys(FUNCTIONS) as FunctionName[])(
    "%s's bundle loads as an ES module in a child Node process given only its environment, and exports handler",
    (name) => {
      const assetDir = assetDirOf(name);
      const env: Record<string, string> = {
        PATH: process.env['PATH'] ?? '',
        LAMBDA_TASK_ROOT: assetDir,
        AWS_REGION: 'us-east-1',
        POWERTOOLS_SERVICE_NAME: name,
        POWERTOOLS_METRICS_NAMESPACE: 'Test',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
      };
      for (const variable of FUNCTIONS[name].env) env[variable] = SAMPLE_ENV[variable] ?? 'unset';
      const load = (environment: Record<string, string>) =>
        spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', LOAD_HANDLER], {
          cwd: assetDir,
          env: environment,
          encoding: 'utf8',
          timeout: 60_000,
        });

      const loaded = load(env);
      expect(loaded.stderr).toBe('');
      expect(loaded.stdout.trim()).toBe('function');

      // And a cold start without its environment fails, naming what is missing.
      const first = FUNCTIONS[name].env[0];
      const { [first]: _dropped, ...without } = env;
      const failed = load(without);
      expect(failed.status).not.toBe(0);
      expect(failed.stderr).toContain(first);
    },
  );

  it('looks up the iot:Data-ATS endpoint at deploy time with IoT DescribeEndpoint', () => {
    const lookup = onlyResource(template, 'Custom::AWS').properties;
    const create = JSON.parse(JSON.stringify(lookup['Create'])) as unknown;
    // Create is a JSON string (maybe joined with tokens); the call it describes is what matters.
    const text = typeof create === 'string' ? create : JSON.stringify(create);
    expect(text).toContain('"service":"Iot"');
    expect(text).toContain('"action":"DescribeEndpoint"');
    expect(text).toContain('"endpointType":"iot:Data-ATS"');
  });

  it.each(Object.keys(FUNCTIONS) as FunctionName[])(
    "%s's bundle is ESM with the handler, and carries thresholds.json exactly when its handler reads THRESHOLDS_FILE",
    (name) => {
      const assetDir = assetDirOf(name);
      const bundle = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
      expect(bundle).toMatch(/export\s*\{[^}]*\bhandler\b/);
      for (const variable of FUNCTIONS[name].env) expect(bundle).toContain(variable);
      const shipped = join(assetDir, 'thresholds.json');
      expect(existsSync(shipped)).toBe(FUNCTIONS[name].thresholds);
      if (FUNCTIONS[name].thresholds) {
        expect(readFileSync(shipped, 'utf8')).toBe(readFileSync(join(REPO_ROOT, 'config', 'thresholds.json'), 'utf8'));
      }
    },
  );
});

describe('least privilege', () => {
  it('lets the rule role put records on the one stream and send to its error queue, nothing else', () => {
    const rule = onlyResource(template, 'AWS::IoT::TopicRule', { RuleName: pipeline.rule.name }).properties;
    const roleArn = (rule['TopicRulePayload'] as { Actions: { Kinesis: { RoleArn: { 'Fn::GetAtt': [string] } } }[] })
      .Actions[0]!.Kinesis.RoleArn;
    const role = roleArn['Fn::GetAtt'][0];
    expect(allowed(role)).toEqual([
      { action: 'kinesis:PutRecord', resource: { 'Fn::GetAtt': [logicalIdOf('AWS::Kinesis::Stream', {}), 'Arn'] } },
      {
        action: 'sqs:SendMessage',
        resource: { 'Fn::GetAtt': [logicalIdOf('AWS::SQS::Queue', { QueueName: `${pipeline.name}-rule-errors` }), 'Arn'] },
      },
    ]);
  });

  it('trusts only this account and this rule to assume the rule role', () => {
    const rule = onlyResource(template, 'AWS::IoT::TopicRule', { RuleName: pipeline.rule.name }).properties;
    const role = (rule['TopicRulePayload'] as { Actions: { Kinesis: { RoleArn: { 'Fn::GetAtt': [string] } } }[] })
      .Actions[0]!.Kinesis.RoleArn['Fn::GetAtt'][0];
    const trust = template.toJSON()['Resources'][role]['Properties']['AssumeRolePolicyDocument']['Statement'];
    expect(trust).toEqual([
      expect.objectContaining({
        Principal: { Service: 'iot.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': expect.anything() },
        },
      }),
    ]);
  });

  it('grants each function only the actions its adapters call', () => {
    const actions = (name: FunctionName): string[] => [...new Set(allowed(roleOf(name)).map((p) => p.action))].sort();
    const logs = ['logs:CreateLogStream', 'logs:PutLogEvents'];
    const kinesisRead = [
      'kinesis:DescribeStream',
      'kinesis:DescribeStreamConsumer',
      'kinesis:DescribeStreamSummary',
      'kinesis:GetRecords',
      'kinesis:GetShardIterator',
      'kinesis:ListShards',
      'kinesis:ListStreams',
      'kinesis:SubscribeToShard',
    ];
    const notify = ['sns:Publish', 'kms:GenerateDataKey', 'kms:Decrypt', 'iot:Publish'];
    const failureWrites = ['s3:PutObject', 's3:ListBucket'];
    const readRules = ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'];
    expect(actions('ingest')).toEqual(
      [...logs, ...kinesisRead, ...failureWrites, 'timestream:WriteRecords', 'timestream:DescribeEndpoints', 'sqs:SendMessage'].sort(),
    );
    expect(actions('alarms')).toEqual(
      [...logs, ...kinesisRead, ...failureWrites, ...notify, ...readRules, 'dynamodb:GetItem', 'dynamodb:PutItem'].sort(),
    );
    expect(actions('offline')).toEqual([...logs, ...notify, ...readRules, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan', 'dynamodb:Query'].sort());
    expect(actions('alarm-commands')).toEqual([...logs, ...notify, ...readRules, 'dynamodb:GetItem', 'dynamodb:PutItem'].sort());
  });

  it('allows "*" as a resource only for the two actions that have no resource scope', () => {
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      const star = allowed(roleOf(name)).filter((p) => p.resource === '*');
      expect(star.map((p) => p.action)).toEqual(name === 'ingest' ? ['timestream:DescribeEndpoints'] : []);
    }
  });

  it('lets the notifiers publish only on the alarm topics', () => {
    for (const name of ['alarms', 'offline'] as const) {
      const publish = allowed(roleOf(name)).filter((p) => p.action === 'iot:Publish');
      expect(publish).toHaveLength(1);
      expect(JSON.stringify(publish[0]!.resource)).toContain(':topic/alarms/fleet/*');
    }
  });
});

describe('secure and kept by default', () => {
  it('encrypts the stream with the AWS managed Kinesis key, and deletes it with the stack', () => {
    const stream = onlyResource(template, 'AWS::Kinesis::Stream');
    expect(stream.properties['StreamEncryption']).toEqual({ EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' });
    expect(stream.resource['DeletionPolicy']).toBe('Delete');
  });

  it('keeps a message the rule could not deliver, original payload included, in the rule-errors queue', () => {
    const payload = onlyResource(template, 'AWS::IoT::TopicRule', { RuleName: pipeline.rule.name }).properties['TopicRulePayload'] as Record<string, unknown>;
    const queue = logicalIdOf('AWS::SQS::Queue', { QueueName: `${pipeline.name}-rule-errors` });
    expect(payload['ErrorAction']).toEqual({
      Sqs: { QueueUrl: { Ref: queue }, RoleArn: expect.anything(), UseBase64: false },
    });
  });

  it('encrypts every queue, keeps messages 14 days and refuses requests without TLS', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(2);
    for (const [id, queue] of Object.entries(queues)) {
      expect(queue['Properties']).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('keeps alarm state on provisioned capacity auto scaled at 70% (table and wake index), with point-in-time recovery, keyed by deviceId, and retains it', () => {
    const table = onlyResource(template, 'AWS::DynamoDB::Table', ALARM_STATE_KEYS);
    expect(table.properties['BillingMode']).not.toBe('PAY_PER_REQUEST');
    expect(table.properties['ProvisionedThroughput']).toEqual({ ReadCapacityUnits: 5, WriteCapacityUnits: 5 });
    const targets = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalableTarget')).map(
      (t) => t['Properties'] as Record<string, unknown>,
    );
    const dimensions = targets.map((t) => t['ScalableDimension']).sort();
    expect(dimensions).toEqual([
      'dynamodb:index:ReadCapacityUnits',
      'dynamodb:index:WriteCapacityUnits',
      'dynamodb:table:ReadCapacityUnits',
      'dynamodb:table:WriteCapacityUnits',
    ]);
    for (const t of targets) expect(t).toMatchObject({ MinCapacity: 5, MaxCapacity: DEFAULT_DEPLOYMENT_SETTINGS.alarmStateMaxCapacity });
    const policies = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')).map(
      (p) => (p['Properties'] as { TargetTrackingScalingPolicyConfiguration: { TargetValue: number } }).TargetTrackingScalingPolicyConfiguration.TargetValue,
    );
    expect(policies).toEqual([70, 70, 70, 70]);
    expect(table.properties).toMatchObject({
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      KeySchema: [{ AttributeName: 'deviceId', KeyType: 'HASH' }],
    });
    expect(table.properties['AttributeDefinitions']).toContainEqual({ AttributeName: 'deviceId', AttributeType: 'S' });
    expect(table.resource['DeletionPolicy']).toBe('Retain');
  });

  it('sets the Timestream retention from the context defaults, writes late data to the magnetic store, and retains it', () => {
    const table = onlyResource(template, 'AWS::Timestream::Table');
    expect(table.properties).toMatchObject({
      RetentionProperties: {
        MemoryStoreRetentionPeriodInHours: String(DEFAULT_DEPLOYMENT_SETTINGS.timestreamMemoryRetentionHours),
        MagneticStoreRetentionPeriodInDays: String(DEFAULT_DEPLOYMENT_SETTINGS.timestreamMagneticRetentionDays),
      },
      MagneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
    });
    expect(table.resource['DeletionPolicy']).toBe('Retain');
    expect(onlyResource(template, 'AWS::Timestream::Database').resource['DeletionPolicy']).toBe('Retain');
  });

  it('encrypts both topics with a rotating key that CloudWatch may use, and subscribes no one by default', () => {
    const key = logicalIdOf('AWS::KMS::Key', {});
    expect(onlyResource(template, 'AWS::KMS::Key').properties['EnableKeyRotation']).toBe(true);
    for (const topic of ['alarms', 'ops']) {
      template.hasResourceProperties('AWS::SNS::Topic', {
        TopicName: `${pipeline.name}-${topic}`,
        KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
      });
    }
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('alarms on iterator age, function errors, kept messages, failure-bucket writes, the offline check\'s duration and write throttles, to the ops topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a['Properties'] as Record<string, unknown>,
    );
    expect(alarms.map((a) => a['AlarmName']).sort()).toEqual(
      [
        'ingest-iterator-age',
        'alarms-iterator-age',
        'ingest-errors',
        'alarms-errors',
        'offline-errors',
        'alarm-commands-errors',
        'rejects-queue-depth',
        'rule-errors-queue-depth',
        'failure-bucket-writes',
        'offline-duration',
        'stream-write-throttles',
        'alarm-state-throttled',
        'thresholds-stale',
      ]
        .map((n) => `${pipeline.name}-${n}`)
        .sort(),
    );
    // The cost estimator prices this many alarms.
    expect(alarms).toHaveLength(operationalAlarmCount('timestream'));
    const ops = logicalIdOf('AWS::SNS::Topic', { TopicName: `${pipeline.name}-ops` });
    for (const alarm of alarms) {
      expect(alarm['AlarmActions']).toEqual([{ Ref: ops }]);
      expect(alarm['TreatMissingData']).toBe('notBreaching');
    }
    expect(alarms.find((a) => a['AlarmName'] === `${pipeline.name}-alarms-iterator-age`)).toMatchObject({
      MetricName: 'IteratorAge',
      Namespace: 'AWS/Lambda',
      Threshold: 60_000,
    });
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('leaves no unacknowledged error or warning', () => {
    const annotations = Annotations.fromStack(synth.stack);
    const nag = Match.stringLikeRegexp('AwsSolutions-.*');
    expect(annotations.findError('*', nag)).toEqual([]);
    expect(annotations.findWarning('*', nag)).toEqual([]);
  });

  it('gives every acknowledgement a reason that says why', () => {
    const suppressions = Object.values(template.toJSON()['Resources'] as Record<string, Record<string, unknown>>)
      .flatMap((r) => ((r['Metadata'] as { cdk_nag?: { rules_to_suppress: unknown[] } })?.cdk_nag?.rules_to_suppress ?? []))
      .map((s) => s as { id: string; reason: string });
    expect(suppressions.length).toBeGreaterThan(0);
    for (const s of suppressions) {
      expect(s.id).toMatch(/^AwsSolutions-/);
      expect(s.reason.length, `${s.id}: ${s.reason}`).toBeGreaterThanOrEqual(60);
    }
  });
});

describe('IoT access', () => {
  const arn = (resource: string): unknown => ({
    'Fn::Join': [
      '',
      ['arn:', { Ref: 'AWS::Partition' }, ':iot:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`],
    ],
  });

  it('lets a device connect only as its own attached thing, publish its telemetry and hear its own alarms', () => {
    const policy = onlyResource(template, 'AWS::IoT::Policy', { PolicyName: `${pipeline.name}-device` }).properties;
    expect(policy['PolicyDocument']).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'iot:Connect',
          Resource: arn('client/${iot:Connection.Thing.ThingName}'),
          Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
        },
        {
          Effect: 'Allow',
          Action: 'iot:Publish',
          Resource: [
            arn('topic/dt/fleet/${iot:Connection.Thing.ThingName}/telemetry'),
            arn('topic/$aws/rules/fleet_telemetry_to_stream/dt/fleet/${iot:Connection.Thing.ThingName}/telemetry'),
          ],
        },
        { Effect: 'Allow', Action: 'iot:Subscribe', Resource: arn('topicfilter/alarms/fleet/${iot:Connection.Thing.ThingName}') },
        { Effect: 'Allow', Action: 'iot:Receive', Resource: arn('topic/alarms/fleet/${iot:Connection.Thing.ThingName}') },
      ],
    });
  });

  it("builds the device's topics from the pipeline's topic templates", () => {
    expect(pipeline.topics.telemetry.replace('{deviceId}', '${iot:Connection.Thing.ThingName}')).toBe(
      'dt/fleet/${iot:Connection.Thing.ThingName}/telemetry',
    );
    expect(pipeline.topics.alarms.replace('{deviceId}', '${iot:Connection.Thing.ThingName}')).toBe(
      'alarms/fleet/${iot:Connection.Thing.ThingName}',
    );
  });

  it("lets an operator subscribe to and receive every device's alarms, and publish only alarm commands", () => {
    const policy = onlyResource(template, 'AWS::IoT::Policy', { PolicyName: `${pipeline.name}-operator` }).properties;
    const statements = (policy['PolicyDocument'] as { Statement: { Effect: string; Action: string; Resource: unknown }[] }).Statement;
    expect(statements.map((s) => `${s.Effect} ${s.Action}`)).toEqual([
      'Allow iot:Connect',
      'Allow iot:Subscribe',
      'Allow iot:Receive',
      'Allow iot:Publish',
      'Deny iot:Publish',
      'Allow iot:Subscribe',
      'Allow iot:Receive',
    ]);
    expect(statements[1]!.Resource).toEqual(arn('topicfilter/alarms/fleet/*'));
    expect(statements[2]!.Resource).toEqual(arn('topic/alarms/fleet/*'));
  });

  it('declares the device thing type with a searchable deviceType attribute', () => {
    expect(onlyResource(template, 'AWS::IoT::ThingType').properties).toMatchObject({
      ThingTypeName: `${pipeline.name}-device`,
      ThingTypeProperties: { SearchableAttributes: ['deviceType'] },
    });
  });
});
