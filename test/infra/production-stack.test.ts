/**
 * The production points of the stack (issue 11), pinned on the real synth: alerting reaches
 * people, nothing a brownout fails is lost, the offline check is watched, and the stack can be
 * updated, destroyed and deployed again.
 */
import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONSUMER_FAILURES_PREFIX,
  FAILURE_BUCKET_METRICS_FILTER,
  FAILURE_RETENTION_DAYS,
  TIMESTREAM_REJECTS_PREFIX,
} from '../../infra/aws/constructs/failure-bucket.js';
import { OPS_ALARM_NAME_PREFIX } from '../../infra/aws/constructs/operational-alarms.js';
import { DEFAULT_DEPLOYMENT_SETTINGS, DeploymentSettingsError } from '../../infra/aws/deployment-settings.js';
import { buildFleetTelemetryApp } from '../../infra/aws/fleet-app.js';
import { MAX_ITERATOR_AGE, OFFLINE_CHECK_MAX_DURATION } from '../../infra/aws/fleet-telemetry-stack.js';
import { REPO_ROOT } from '../../infra/aws/paths.js';
import { validateSettings as localValidateSettings } from '../../infra/local/event-source/index.js';
import { pipeline } from '../../infra/pipeline.js';
import { EventSourceMappingSettingsError, validateSettings } from '../../infra/pipeline-validation.js';
import { SYNTH_TIMEOUT_MS, cdkJsonContext, onlyResource, synthesize } from './synth.js';
import type { Synthesized } from './synth.js';

type Resource = { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string };

let synth: Synthesized;
let template: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  // With Timestream, the store that has the most to check here (magnetic rejects, two retained
  // resources); the default DynamoDB store's table is checked in readings-store.test.ts.
  synth = synthesize({ bundle: false, context: { timeSeriesStore: 'timestream' } });
  template = synth.template;
  resources = template.toJSON()['Resources'] as Record<string, Resource>;
}, SYNTH_TIMEOUT_MS);
afterAll(() => synth?.cleanup());

const logicalIdOf = (type: string, props: Record<string, unknown> = {}): string => onlyResource(template, type, props).logicalId;
const topicId = (name: 'alarms' | 'ops'): string => logicalIdOf('AWS::SNS::Topic', { TopicName: `${pipeline.name}-${name}` });
const functionId = (name: string): string => logicalIdOf('AWS::Lambda::Function', { FunctionName: `${pipeline.name}-${name}` });
const bucketId = (): string => logicalIdOf('AWS::S3::Bucket');

/** Statements of the resource policy of kind `policyType` attached to the resource `id`. */
function resourcePolicyStatements(policyType: string, listKey: string, id: string): Record<string, unknown>[] {
  const mentions = (value: unknown): boolean => JSON.stringify(value).includes(`"${id}"`);
  return Object.values(resources)
    .filter((r) => r.Type === policyType && mentions(r.Properties?.[listKey]))
    .flatMap((r) => (r.Properties?.['PolicyDocument'] as { Statement: Record<string, unknown>[] }).Statement);
}

/** The roles whose identity policies allow `action` on a resource that mentions the logical id. */
function rolesAllowed(action: string, id: string): string[] {
  const roles = new Set<string>();
  for (const policy of Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy')) {
    const statements = (policy.Properties?.['PolicyDocument'] as { Statement: Record<string, unknown>[] }).Statement;
    const grants = statements.some(
      (s) => s['Effect'] === 'Allow' && ([] as unknown[]).concat(s['Action']).includes(action) && JSON.stringify(s['Resource']).includes(`"${id}"`),
    );
    if (!grants) continue;
    for (const role of policy.Properties?.['Roles'] as { Ref: string }[]) roles.add(role.Ref);
  }
  return [...roles].sort();
}
const roleOfFunction = (name: string): string =>
  (resources[functionId(name)]!.Properties!['Role'] as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];

function alarms(): Record<string, unknown>[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
    .map((r) => r.Properties!);
}

describe('operators are alerted', () => {
  it("lets CloudWatch publish to the ops topic only for this account's alarms named like the stack's own", () => {
    const statements = resourcePolicyStatements('AWS::SNS::TopicPolicy', 'Topics', topicId('ops'));
    const allow = statements.filter((s) => s['Effect'] === 'Allow');
    expect(allow).toEqual([
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId('ops') },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': expect.anything() },
        },
      }),
    ]);
    const sourceArn = JSON.stringify((allow[0]!['Condition'] as { ArnLike: unknown }).ArnLike);
    expect(sourceArn).toContain(':cloudwatch:');
    expect(sourceArn).toContain(`:alarm:${OPS_ALARM_NAME_PREFIX}*`);
    // The condition is only right if every alarm that sends there matches it.
    for (const alarm of alarms()) {
      expect(String(alarm['AlarmName']).startsWith(OPS_ALARM_NAME_PREFIX)).toBe(true);
      expect(alarm['AlarmActions']).toEqual([{ Ref: topicId('ops') }]);
      expect(alarm['OKActions']).toEqual([{ Ref: topicId('ops') }]);
    }
  });

  it("lets CloudWatch use the topics' key under the same account and alarm conditions", () => {
    const key = onlyResource(template, 'AWS::KMS::Key').properties['KeyPolicy'] as { Statement: Record<string, unknown>[] };
    const forCloudWatch = key.Statement.filter((s) => JSON.stringify(s['Principal']).includes('cloudwatch.amazonaws.com'));
    expect(forCloudWatch).toHaveLength(1);
    expect(forCloudWatch[0]!['Condition']).toEqual({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: { 'aws:SourceArn': expect.anything() },
    });
  });

  it('lets exactly the intended writers send to every other topic, queue and bucket, by their roles, and denies plain HTTP', () => {
    const ruleRole = (
      (onlyResource(template, 'AWS::IoT::TopicRule', { RuleName: pipeline.rule.name }).properties['TopicRulePayload'] as { Actions: { Kinesis: { RoleArn: { 'Fn::GetAtt': [string] } } }[] })
        .Actions[0]!.Kinesis.RoleArn
    )['Fn::GetAtt'][0];
    const commandRuleErrorRole = (
      (onlyResource(template, 'AWS::IoT::TopicRule', { RuleName: pipeline.commandRule.name }).properties['TopicRulePayload'] as {
        ErrorAction: { Sqs: { RoleArn: { 'Fn::GetAtt': [string] } } };
      }).ErrorAction.Sqs.RoleArn
    )['Fn::GetAtt'][0];
    const expected: { id: string; policy: [string, string]; action: string; writers: string[] }[] = [
      {
        id: topicId('alarms'),
        policy: ['AWS::SNS::TopicPolicy', 'Topics'],
        action: 'sns:Publish',
        // Every writer of alarm state publishes the transitions it decides.
        writers: [roleOfFunction('alarms'), roleOfFunction('offline'), roleOfFunction('alarm-commands')],
      },
      {
        id: logicalIdOf('AWS::SQS::Queue', { QueueName: `${pipeline.name}-rejects` }),
        policy: ['AWS::SQS::QueuePolicy', 'Queues'],
        action: 'sqs:SendMessage',
        writers: [roleOfFunction('ingest')],
      },
      {
        id: logicalIdOf('AWS::SQS::Queue', { QueueName: `${pipeline.name}-rule-errors` }),
        policy: ['AWS::SQS::QueuePolicy', 'Queues'],
        action: 'sqs:SendMessage',
        // Both topic rules' error actions: telemetry and alarm commands.
        writers: [ruleRole, commandRuleErrorRole],
      },
      { id: bucketId(), policy: ['AWS::S3::BucketPolicy', 'Bucket'], action: 's3:PutObject', writers: [roleOfFunction('ingest'), roleOfFunction('alarms')] },
    ];
    for (const { id, policy, action, writers } of expected) {
      expect(rolesAllowed(action, id), `${action} on ${id}`).toEqual([...writers].sort());
      const statements = resourcePolicyStatements(policy[0], policy[1], id);
      // Same-account roles need no Allow in the resource policy; it only refuses requests without TLS.
      expect(statements.length, `${policy[0]} of ${id}`).toBeGreaterThan(0);
      for (const s of statements) {
        expect(s['Effect']).toBe('Deny');
        expect(s['Condition']).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
      }
    }
  });

  it('outputs a dashboard with ingest rate, iterator age per mapping, function errors and duration, rejects, the failure destination and alarm transitions', () => {
    const dashboardId = logicalIdOf('AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(resources[dashboardId]!.Properties!['DashboardBody']);
    for (const fragment of [
      'IncomingRecords',
      'IteratorAge',
      'Errors',
      'Duration',
      'ReadingsRejected',
      'PutRequests',
      'NumberOfObjects',
      'ApproximateNumberOfMessagesVisible',
      'AlarmsRaised',
      'AlarmsCleared',
    ]) {
      expect(body, fragment).toContain(fragment);
    }
    for (const name of ['ingest', 'alarms', 'offline']) expect(body).toContain(functionId(name));
    for (const alarmId of Object.keys(template.findResources('AWS::CloudWatch::Alarm'))) expect(body).toContain(alarmId);
    const output = template.toJSON()['Outputs']['DashboardUrl'];
    expect(JSON.stringify(output['Value'])).toContain(dashboardId);
  });
});

describe('nothing is lost in a brownout', () => {
  it('keeps stream records for the retention the context sets, seven days by default', () => {
    expect(DEFAULT_DEPLOYMENT_SETTINGS.streamRetentionHours).toBe(168);
    expect(onlyResource(template, 'AWS::Kinesis::Stream').properties['RetentionPeriodHours']).toBe(168);
  });

  it.each(['ingest', 'alarms'] as const)(
    'retries the %s mapping until a record age well below the retention, and alarms on its iterator age long before that age',
    (name) => {
      const mapping = onlyResource(template, 'AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: functionId(name) } }).properties;
      expect(mapping['MaximumRetryAttempts']).toBe(-1);
      const maxAge = mapping['MaximumRecordAgeInSeconds'] as number;
      expect(maxAge).toBeLessThanOrEqual(168 * 3_600 * 0.75);
      const alarm = alarms().find((a) => a['AlarmName'] === `${OPS_ALARM_NAME_PREFIX}${name}-iterator-age`)!;
      expect(alarm['Threshold']).toBe(MAX_ITERATOR_AGE[name].toMilliseconds());
      const alarmFiresAfterMs = (alarm['Threshold'] as number) + (alarm['EvaluationPeriods'] as number) * 60_000;
      expect(alarmFiresAfterMs).toBeLessThan((maxAge * 1_000) / 100);
    },
  );

  it('sends both mappings\' failed batches whole to an encrypted, TLS-only, private, lifecycle-managed bucket that is kept', () => {
    const bucket = resources[bucketId()]!;
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: {
        Rules: [expect.objectContaining({ Status: 'Enabled', ExpirationInDays: FAILURE_RETENTION_DAYS, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } })],
      },
    });
    for (const mapping of Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))) {
      expect(mapping['Properties']['DestinationConfig']).toEqual({ OnFailure: { Destination: { 'Fn::GetAtt': [bucketId(), 'Arn'] } } });
    }
    // Lambda needs s3:ListBucket too for an S3 destination.
    expect(rolesAllowed('s3:ListBucket', bucketId())).toEqual([roleOfFunction('ingest'), roleOfFunction('alarms')].sort());
    template.resourceCountIs('AWS::SQS::Queue', 2);
    expect(CONSUMER_FAILURES_PREFIX).toBe('aws/lambda/');
  });

  it("writes Timestream's magnetic-store rejects to the failure bucket under their own prefix", () => {
    const table = onlyResource(template, 'AWS::Timestream::Table').properties;
    expect(table['MagneticStoreWriteProperties']).toEqual({
      EnableMagneticStoreWrites: true,
      MagneticStoreRejectedDataLocation: {
        S3Configuration: { BucketName: { Ref: bucketId() }, ObjectKeyPrefix: TIMESTREAM_REJECTS_PREFIX, EncryptionOption: 'SSE_S3' },
      },
    });
  });

  it('alarms on the first object written to the failure bucket, through the request metrics the bucket publishes', () => {
    const configurations = resources[bucketId()]!.Properties!['MetricsConfigurations'];
    expect(configurations).toEqual([{ Id: FAILURE_BUCKET_METRICS_FILTER }]);
    const alarm = alarms().find((a) => a['AlarmName'] === `${OPS_ALARM_NAME_PREFIX}failure-bucket-writes`)!;
    expect(alarm).toMatchObject({ Namespace: 'AWS/S3', MetricName: 'PutRequests', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(alarm['Dimensions']).toEqual(
      expect.arrayContaining([
        { Name: 'BucketName', Value: { Ref: bucketId() } },
        { Name: 'FilterId', Value: FAILURE_BUCKET_METRICS_FILTER },
      ]),
    );
  });
});

describe('the offline check', () => {
  it('alarms when a run takes more than half its schedule', () => {
    expect(OFFLINE_CHECK_MAX_DURATION.toSeconds()).toBe((pipeline.offlineCheck.everyMinutes * 60) / 2);
    const alarm = alarms().find((a) => a['AlarmName'] === `${OPS_ALARM_NAME_PREFIX}offline-duration`)!;
    expect(alarm).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Statistic: 'Maximum',
      Threshold: OFFLINE_CHECK_MAX_DURATION.toMilliseconds(),
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId('offline') } }],
    });
  });
});

describe('deploy, update, destroy, deploy again', () => {
  it('looks the IoT endpoint up on update exactly as on create', () => {
    const lookup = onlyResource(template, 'Custom::AWS').properties;
    expect(lookup['Update']).toBeDefined();
    expect(lookup['Update']).toEqual(lookup['Create']);
  });

  it('gives no retained resource a fixed physical name, so a deploy after a destroy does not collide with what was kept', () => {
    const NAME_PROPERTIES = ['TableName', 'DatabaseName', 'BucketName', 'QueueName', 'TopicName', 'Name', 'StreamName'];
    const retained = Object.entries(resources).filter(([, r]) => r.DeletionPolicy === 'Retain');
    expect(retained.map(([, r]) => r.Type).sort()).toEqual(
      [
        // Alarm state and alarm history.
        'AWS::DynamoDB::Table',
        'AWS::DynamoDB::Table',
        'AWS::S3::Bucket',
        'AWS::Timestream::Database',
        'AWS::Timestream::Table',
        // aws-cdk-lib keeps its custom-resource provider's log group, named after the provider
        // function's generated name: a new deploy gets a new function and so a new name.
        'AWS::Logs::LogGroup',
        // aws-cdk-lib keeps each hosted AppConfig version when a changed thresholds file replaces it
        // (the history of the rules); it has no name.
        'AWS::AppConfig::HostedConfigurationVersion',
      ].sort(),
    );
    for (const [id, resource] of retained) {
      // A literal string is a fixed name; a reference to another generated name is not.
      for (const property of NAME_PROPERTIES) expect(typeof resource.Properties?.[property], `${id}.${property}`).not.toBe('string');
    }
  });

  it('outputs the names the CLIs and people need instead', () => {
    const outputs = template.toJSON()['Outputs'] as Record<string, { Value: unknown }>;
    expect(outputs['FailureBucketName']!.Value).toEqual({ Ref: bucketId() });
    expect(outputs['AlarmStateTableName']!.Value).toEqual({ Ref: logicalIdOf('AWS::DynamoDB::Table', { KeySchema: [{ AttributeName: 'deviceId', KeyType: 'HASH' }] }) });
    expect(outputs['AlarmHistoryTableName']!.Value).toEqual({
      Ref: logicalIdOf('AWS::DynamoDB::Table', { KeySchema: [{ AttributeName: 'deviceId', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }] }),
    });
    expect(outputs['TimestreamDatabaseName']!.Value).toEqual({ Ref: logicalIdOf('AWS::Timestream::Database') });
    expect(outputs['TimestreamTableName']!.Value).toEqual({ 'Fn::GetAtt': [logicalIdOf('AWS::Timestream::Table'), 'Name'] });
    expect(outputs['StreamName']).toBeDefined();
  });

  it('outputs no Timestream names without Timestream', () => {
    const none = synthesize({ bundle: false, context: { timeSeriesStore: 'none' } });
    try {
      const outputs = none.template.toJSON()['Outputs'] as Record<string, unknown>;
      expect(outputs).not.toHaveProperty('TimestreamDatabaseName');
      expect(outputs).not.toHaveProperty('TimestreamTableName');
      expect(outputs).toHaveProperty('FailureBucketName');
    } finally {
      none.cleanup();
    }
  }, SYNTH_TIMEOUT_MS);
});

describe('context and mapping settings are checked at synth', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-context-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const build = (context: Record<string, unknown>): void => {
    buildFleetTelemetryApp(new App({ context: { ...cdkJsonContext(), ...context }, outdir: dir }));
  };

  it('refuses a context key the app does not know, naming it and the key it probably meant', () => {
    expect(() => build({ timeSeriesStre: 'none' })).toThrow(DeploymentSettingsError);
    expect(() => build({ timeSeriesStre: 'none' })).toThrow(/context timeSeriesStre: not a setting of this app \(did you mean timeSeriesStore\?\)/);
  });

  it("accepts the CDK's own context keys (feature flags, aws:cdk switches, cached lookups)", () => {
    expect(() =>
      build({ 'aws:cdk:enable-path-metadata': true, 'availability-zones:account=1:region=eu-west-1': ['a'], 'cli-telemetry': false }),
    ).not.toThrow();
  });

  it('fails `cdk synth` on a typo with one line on stderr and exit code 1, no stack trace', () => {
    const outdir = join(dir, 'cdk.out');
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'infra/aws/app.ts')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJsonContext(), timeSeriesStre: 'none' }), CDK_OUTDIR: outdir },
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^fleet-telemetry: context timeSeriesStre: not a setting of this app/)]);
  }, 60_000);

  it('refuses a stream retention too short for the mappings\' record age, naming the mapping', () => {
    expect(() => build({ streamRetentionHours: 24 })).toThrow(EventSourceMappingSettingsError);
    expect(() => build({ streamRetentionHours: 24 })).toThrow(/event source mapping "(ingest|alarms)": maximumRecordAgeInSeconds \d+ must be at most 64800/);
  });

  it('validates the mapping settings with the very check the local event source mapping runs', () => {
    expect(localValidateSettings).toBe(validateSettings);
    const alarmsMapping = pipeline.consumers.alarms as { batchSize: number };
    const batchSize = alarmsMapping.batchSize;
    alarmsMapping.batchSize = 10_001;
    try {
      expect(() => build({})).toThrow(/event source mapping "alarms": batchSize must be an integer from 1 to 10000, got 10001/);
    } finally {
      alarmsMapping.batchSize = batchSize;
    }
  });
});
