import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipeline } from '../../infra/pipeline.js';
import { SYNTH_TIMEOUT_MS, onlyResource, synthesize, type Synthesized } from './synth.js';

// The operator-command part of the stack (infra/aws/constructs/alarm-commands.ts and the operator
// policy), synthesized without bundling: the template is the same but for asset hashes.

let synth: Synthesized;
let template: Template;

beforeAll(() => {
  synth = synthesize({ bundle: false });
  template = synth.template;
}, SYNTH_TIMEOUT_MS);

afterAll(() => synth?.cleanup());

const arn = (resource: string): unknown => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iot:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`]],
});

function commandsFunction() {
  return onlyResource(template, 'AWS::Lambda::Function', { FunctionName: `${pipeline.name}-alarm-commands` });
}

function historyTable() {
  return onlyResource(template, 'AWS::DynamoDB::Table', {
    KeySchema: [
      { AttributeName: 'deviceId', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
  });
}

function statementsOf(roleLogicalId: string): { Effect: string; Action: string | string[]; Resource: unknown }[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleLogicalId }]) } });
  return Object.values(policies).flatMap((p) => p['Properties']['PolicyDocument']['Statement'] as { Effect: string; Action: string | string[]; Resource: unknown }[]);
}

function roleOf(fn: ReturnType<typeof commandsFunction>): string {
  return (fn.properties['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

describe('the alarm command rule', () => {
  it('selects the command envelope from cmd/fleet/alarms/+ and invokes the alarm-commands function', () => {
    const rule = onlyResource(template, 'AWS::IoT::TopicRule', { RuleName: pipeline.commandRule.name }).properties;
    const payload = rule['TopicRulePayload'] as Record<string, unknown>;

    expect(payload['Sql']).toBe(pipeline.commandRule.sql);
    expect(payload['Sql']).toContain(`FROM '${pipeline.topics.commandsFilter}'`);
    expect(payload['AwsIotSqlVersion']).toBe('2016-03-23');
    expect(payload['Actions']).toEqual([{ Lambda: { FunctionArn: { 'Fn::GetAtt': [commandsFunction().logicalId, 'Arn'] } } }]);
    expect(payload['ErrorAction']).toMatchObject({ Sqs: { UseBase64: false } });
  });

  it('lets only this account’s command rule invoke the function', () => {
    const permission = onlyResource(template, 'AWS::Lambda::Permission', { Principal: 'iot.amazonaws.com' }).properties;

    expect(permission).toMatchObject({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [commandsFunction().logicalId, 'Arn'] },
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: arn(`rule/${pipeline.commandRule.name}`),
    });
  });

  it('drops a command Lambda could not apply within 5 minutes after two retries', () => {
    expect(onlyResource(template, 'AWS::Lambda::EventInvokeConfig', { MaximumEventAgeInSeconds: 300 }).properties).toMatchObject({
      MaximumRetryAttempts: 2,
      FunctionName: { Ref: commandsFunction().logicalId },
    });
  });
});

describe('the alarm-commands function', () => {
  it('may change alarm state, write history, notify SNS, and publish only alarm events and command replies', () => {
    const statements = statementsOf(roleOf(commandsFunction()));
    const publish = statements.filter((s) => s.Action === 'iot:Publish');

    expect(publish).toHaveLength(1);
    expect(publish[0]!.Resource).toEqual([
      arn('topic/alarms/fleet/*'),
      arn('topic/cmd/fleet/alarms/*/accepted'),
      arn('topic/cmd/fleet/alarms/*/rejected'),
    ]);
    const dynamo = statements.filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.map((s) => s.Action)).toEqual([['dynamodb:GetItem', 'dynamodb:PutItem'], 'dynamodb:PutItem']);
    expect(dynamo[1]!.Resource).toEqual({ 'Fn::GetAtt': [historyTable().logicalId, 'Arn'] });
  });

  it('gets the history table and the alarm state table in its environment', () => {
    const variables = (commandsFunction().properties['Environment'] as { Variables: Record<string, unknown> }).Variables;

    expect(variables['ALARM_HISTORY_TABLE']).toEqual({ Ref: historyTable().logicalId });
    expect(variables['THRESHOLDS_FILE']).toBe('thresholds.json');
  });
});

describe('the alarm history', () => {
  it('is one on-demand table by device and time, expiring on expiresAt, recoverable and kept', () => {
    const table = historyTable();

    expect(table.properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(table.properties).not.toHaveProperty('TableName');
    expect(table.resource['DeletionPolicy']).toBe('Retain');
  });

  it('is written by the alarms and offline functions too, and the offline check may query the wake index', () => {
    for (const name of ['alarms', 'offline'] as const) {
      const fn = onlyResource(template, 'AWS::Lambda::Function', { FunctionName: `${pipeline.name}-${name}` });
      const writesHistory = statementsOf(roleOf(fn)).some(
        (s) => s.Action === 'dynamodb:PutItem' && JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': [historyTable().logicalId, 'Arn'] }),
      );
      expect(writesHistory).toBe(true);
    }
    const offline = onlyResource(template, 'AWS::Lambda::Function', { FunctionName: `${pipeline.name}-offline` });
    const query = statementsOf(roleOf(offline)).filter((s) => s.Action === 'dynamodb:Query');
    expect(JSON.stringify(query[0]?.Resource)).toContain('/index/byWakeAt');
  });

  it('gives the alarm state table the sparse wake index, keyed wakePartition + wakeAt', () => {
    const state = onlyResource(template, 'AWS::DynamoDB::Table', { KeySchema: [{ AttributeName: 'deviceId', KeyType: 'HASH' }] }).properties;

    expect(state['GlobalSecondaryIndexes']).toEqual([
      {
        IndexName: 'byWakeAt',
        KeySchema: [
          { AttributeName: 'wakePartition', KeyType: 'HASH' },
          { AttributeName: 'wakeAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
        // The table is provisioned by default (auto scaled): so is its index.
        ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
      },
    ]);
  });
});

describe('who may send commands', () => {
  it('lets the operator publish on cmd/fleet/alarms/<deviceId> only (a reply topic is denied) and hear the replies', () => {
    const policy = onlyResource(template, 'AWS::IoT::Policy', { PolicyName: `${pipeline.name}-operator` }).properties;
    const statements = (policy['PolicyDocument'] as { Statement: unknown[] }).Statement;

    expect(statements).toContainEqual({ Effect: 'Allow', Action: 'iot:Publish', Resource: arn('topic/cmd/fleet/alarms/*') });
    expect(statements).toContainEqual({ Effect: 'Deny', Action: 'iot:Publish', Resource: arn('topic/cmd/fleet/alarms/*/*') });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'iot:Subscribe',
      Resource: [arn('topicfilter/cmd/fleet/alarms/*/accepted'), arn('topicfilter/cmd/fleet/alarms/*/rejected')],
    });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'iot:Receive',
      Resource: [arn('topic/cmd/fleet/alarms/*/accepted'), arn('topic/cmd/fleet/alarms/*/rejected')],
    });
  });

  it('gives a device no command topic at all', () => {
    const policy = onlyResource(template, 'AWS::IoT::Policy', { PolicyName: `${pipeline.name}-device` }).properties;

    expect(JSON.stringify(policy['PolicyDocument'])).not.toContain('cmd/');
  });
});
