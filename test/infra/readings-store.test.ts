import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POWERTOOLS_ENV } from '../../infra/aws/constructs/fleet-function.js';
import { DEFAULT_DEPLOYMENT_SETTINGS } from '../../infra/aws/deployment-settings.js';
import { STACK_OUTPUT } from '../../infra/aws/stack-outputs.js';
import { pipeline } from '../../infra/pipeline.js';
import { ALARM_STATE_TABLE_KEYS, READINGS_TABLE_KEYS, READINGS_TTL_ATTRIBUTE } from '../../lambdas/adapters/aws/dynamodb-readings-schema.js';
import { ingestEnv } from '../../lambdas/ingest/env.js';
import { SYNTH_TIMEOUT_MS, onlyResource, synthesize } from './synth.js';
import type { Synthesized } from './synth.js';

// The default stack (timeSeriesStore=dynamodb): the readings table and the ingest function wired to
// it, no Timestream. The key schema asserted here is the constant the dynalite tests create their
// tables from, so those tests prove these keys work.

/** The readings table: the one DynamoDB table sorted by the readings' sort key (alarm history has its own). */
function readingsTable(synth: Synthesized): ReturnType<typeof onlyResource> {
  return onlyResource(synth.template, 'AWS::DynamoDB::Table', {
    KeySchema: Match.arrayWith([Match.objectLike({ AttributeName: READINGS_TABLE_KEYS.sortKey.name, KeyType: 'RANGE' })]),
  });
}

function ingestFunction(synth: Synthesized): ReturnType<typeof onlyResource> {
  return onlyResource(synth.template, 'AWS::Lambda::Function', { FunctionName: `${pipeline.name}-ingest` });
}

describe('the default stack stores readings in DynamoDB', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize({ bundle: false });
  }, SYNTH_TIMEOUT_MS);
  afterAll(() => synth?.cleanup());

  it('is the default deployment setting', () => {
    expect(DEFAULT_DEPLOYMENT_SETTINGS.timeSeriesStore).toBe('dynamodb');
  });

  it('creates the readings table with the key schema the adapter writes, on demand, with TTL and PITR, retained, unnamed', () => {
    const table = readingsTable(synth);
    const { partitionKey, sortKey } = READINGS_TABLE_KEYS;

    expect(table.properties).toMatchObject({
      KeySchema: [
        { AttributeName: partitionKey.name, KeyType: 'HASH' },
        { AttributeName: sortKey.name, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: partitionKey.name, AttributeType: partitionKey.type },
        { AttributeName: sortKey.name, AttributeType: sortKey.type },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: READINGS_TTL_ATTRIBUTE, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(table.properties).not.toHaveProperty('TableName');
    expect(table.properties).not.toHaveProperty('LocalSecondaryIndexes');
    expect(table.resource['DeletionPolicy']).toBe('Retain');
    expect(table.resource['UpdateReplacePolicy']).toBe('Retain');
  });

  it('keys the alarm-state table as the dynalite tests of DynamoDbAlarmStateStore do', () => {
    const alarmState = onlyResource(synth.template, 'AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: ALARM_STATE_TABLE_KEYS.partitionKey.name, KeyType: 'HASH' }],
    });
    // The key, and the keys of the wake index (ALARM_STATE_WAKE_INDEX), as the dynalite tables have them.
    const index = ALARM_STATE_TABLE_KEYS.globalIndexes[0];
    expect(alarmState.properties['AttributeDefinitions']).toEqual([
      { AttributeName: ALARM_STATE_TABLE_KEYS.partitionKey.name, AttributeType: ALARM_STATE_TABLE_KEYS.partitionKey.type },
      { AttributeName: index.partitionKey.name, AttributeType: index.partitionKey.type },
      { AttributeName: index.sortKey.name, AttributeType: index.sortKey.type },
    ]);
  });

  it('holds no Timestream resource and no Timestream permission', () => {
    synth.template.resourceCountIs('AWS::Timestream::Database', 0);
    synth.template.resourceCountIs('AWS::Timestream::Table', 0);
    expect(JSON.stringify(synth.template.toJSON())).not.toContain('timestream:');
  });

  it('gives the ingest function exactly the dynamodb variables of its env contract, pointing at the table', () => {
    const variables = (ingestFunction(synth).properties['Environment'] as { Variables: Record<string, unknown> }).Variables;

    expect(Object.keys(variables).sort()).toEqual([...ingestEnv('dynamodb'), ...POWERTOOLS_ENV].sort());
    expect(variables).toMatchObject({
      TIME_SERIES_STORE: 'dynamodb',
      READINGS_TABLE: { Ref: readingsTable(synth).logicalId },
      READINGS_RETENTION_DAYS: String(DEFAULT_DEPLOYMENT_SETTINGS.readingsRetentionDays),
    });
  });

  it('lets the ingest function write items to the readings table and nothing more on DynamoDB', () => {
    const role = (ingestFunction(synth).properties['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policies = synth.template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: role }]) } });
    const dynamo = Object.values(policies)
      .flatMap((p) => p['Properties']['PolicyDocument']['Statement'] as { Action: string | string[]; Resource: unknown }[])
      .filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('dynamodb:')));

    expect(dynamo).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'],
        Resource: { 'Fn::GetAtt': [readingsTable(synth).logicalId, 'Arn'] },
      }),
    ]);
  });

  it('consumes the stream with the ingest mapping and keeps its rejects', () => {
    synth.template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    onlyResource(synth.template, 'AWS::SQS::Queue', { QueueName: `${pipeline.name}-rejects` });
  });

  it(`outputs the table name as ${STACK_OUTPUT.readingsTableName}, for the query CLI`, () => {
    synth.template.hasOutput(STACK_OUTPUT.readingsTableName, { Value: { Ref: readingsTable(synth).logicalId } });
  });

  it('passes cdk-nag AwsSolutions with nothing unacknowledged', () => {
    const annotations = Annotations.fromStack(synth.stack);
    const nag = Match.stringLikeRegexp('AwsSolutions-.*');
    expect(annotations.findError('*', nag)).toEqual([]);
    expect(annotations.findWarning('*', nag)).toEqual([]);
  });
});

describe('readingsRetentionDays from context', () => {
  it('reaches the ingest function as READINGS_RETENTION_DAYS', () => {
    const synth = synthesize({ bundle: false, context: { readingsRetentionDays: '90' } });
    try {
      const variables = (ingestFunction(synth).properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
      expect(variables['READINGS_RETENTION_DAYS']).toBe('90');
    } finally {
      synth.cleanup();
    }
  }, SYNTH_TIMEOUT_MS);
});
