import Ajv from 'ajv';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APPCONFIG_VALIDATOR_MAX_CHARS,
  STALE_RULES_ALARM,
  THRESHOLDS_APPCONFIG_NAMES,
  thresholdsValidatorContent,
} from '../../infra/aws/constructs/thresholds-config.js';
import { REPO_ROOT } from '../../infra/aws/paths.js';
import { STACK_OUTPUT } from '../../infra/aws/stack-outputs.js';
import { pipeline } from '../../infra/pipeline.js';
import { SYNTH_TIMEOUT_MS, onlyResource, synthesize, type Synthesized } from './synth.js';

// The threshold rules in AppConfig (infra/aws/constructs/thresholds-config.ts), synthesized without
// bundling: the template is the same but for asset hashes.

let synth: Synthesized;
let template: Template;

beforeAll(() => {
  synth = synthesize({ bundle: false });
  template = synth.template;
}, SYNTH_TIMEOUT_MS);

afterAll(() => synth?.cleanup());

const THRESHOLDS_FILE = join(REPO_ROOT, 'config', 'thresholds.json');
const READERS = ['alarms', 'offline', 'alarm-commands'] as const;

const ref = (type: string): { Ref: string } => ({ Ref: onlyResource(template, type).logicalId });

function functionOf(name: string) {
  return onlyResource(template, 'AWS::Lambda::Function', { FunctionName: `${pipeline.name}-${name}` });
}

function statementsOfRole(roleLogicalId: string): { Action: string | string[]; Resource: unknown }[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleLogicalId }]) } });
  return Object.values(policies).flatMap((p) => p['Properties']['PolicyDocument']['Statement'] as { Action: string | string[]; Resource: unknown }[]);
}

/** A JSON Schema draft 4 validator, the draft AppConfig's inline JSON_SCHEMA validator supports. */
function draft4Validator(schema: object) {
  const ajv = new Ajv({ schemaId: 'id', meta: false, allErrors: true });
  ajv.addMetaSchema(createRequire(import.meta.url)('ajv/lib/refs/json-schema-draft-04.json') as object);
  return ajv.compile(schema);
}

describe('the AppConfig validator', () => {
  const content = thresholdsValidatorContent();
  const schema = JSON.parse(content) as Record<string, unknown>;

  it('is a draft 4 JSON Schema, the one version AppConfig supports inline', () => {
    expect(schema['$schema']).toBe('http://json-schema.org/draft-04/schema#');
  });

  it('fits in the 32,768 characters AppConfig allows a validator, with room for the rule kinds to grow', () => {
    expect(content.length).toBeLessThanOrEqual(APPCONFIG_VALIDATOR_MAX_CHARS / 2);
  });

  it('accepts config/thresholds.json and refuses a rule with an unknown key or a wrong severity', () => {
    const validate = draft4Validator(schema);
    const file = JSON.parse(readFileSync(THRESHOLDS_FILE, 'utf8')) as { rules: Record<string, unknown>[] };

    expect(validate(file), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ rules: [{ ...file.rules[0], threshold: 80 }] })).toBe(false);
    expect(validate({ rules: [{ ...file.rules[0], severity: 'urgent' }] })).toBe(false);
    expect(validate({ rules: [], extra: true })).toBe(false);
  });

  it('is the validator of the hosted, freeform configuration profile', () => {
    const profile = onlyResource(template, 'AWS::AppConfig::ConfigurationProfile').properties;

    expect(profile).toMatchObject({
      Name: THRESHOLDS_APPCONFIG_NAMES.profile,
      LocationUri: 'hosted',
      Type: 'AWS.Freeform',
      Validators: [{ Type: 'JSON_SCHEMA', Content: content }],
    });
  });
});

describe('the threshold rules in AppConfig', () => {
  it('has config/thresholds.json as its first version, as JSON', () => {
    const version = onlyResource(template, 'AWS::AppConfig::HostedConfigurationVersion').properties;

    expect(version['ContentType']).toBe('application/json');
    expect(version['Content']).toBe(readFileSync(THRESHOLDS_FILE, 'utf8'));
    expect(version['ConfigurationProfileId']).toEqual(ref('AWS::AppConfig::ConfigurationProfile'));
  });

  it('deploys that version to its one environment with a strategy that puts it in force at once, without bake time', () => {
    const strategy = onlyResource(template, 'AWS::AppConfig::DeploymentStrategy').properties;
    const deployment = onlyResource(template, 'AWS::AppConfig::Deployment').properties;

    expect(strategy).toMatchObject({ GrowthFactor: 100, DeploymentDurationInMinutes: 0, FinalBakeTimeInMinutes: 0, ReplicateTo: 'NONE' });
    expect(deployment).toMatchObject({
      ApplicationId: ref('AWS::AppConfig::Application'),
      EnvironmentId: ref('AWS::AppConfig::Environment'),
      ConfigurationProfileId: ref('AWS::AppConfig::ConfigurationProfile'),
      DeploymentStrategyId: ref('AWS::AppConfig::DeploymentStrategy'),
      ConfigurationVersion: ref('AWS::AppConfig::HostedConfigurationVersion'),
    });
  });

  it('lets a destroy delete the environment and the profile even though the functions read them within the hour', () => {
    expect(onlyResource(template, 'AWS::AppConfig::Environment').properties['DeletionProtectionCheck']).toBe('BYPASS');
    expect(onlyResource(template, 'AWS::AppConfig::ConfigurationProfile').properties['DeletionProtectionCheck']).toBe('BYPASS');
  });

  it('names the application, the environment, the profile and the strategy in the stack outputs the command line reads', () => {
    const outputs = template.toJSON()['Outputs'] as Record<string, { Value: unknown }>;

    expect(outputs[STACK_OUTPUT.thresholdsApplicationId]?.Value).toEqual(ref('AWS::AppConfig::Application'));
    expect(outputs[STACK_OUTPUT.thresholdsEnvironmentId]?.Value).toEqual(ref('AWS::AppConfig::Environment'));
    expect(outputs[STACK_OUTPUT.thresholdsProfileId]?.Value).toEqual(ref('AWS::AppConfig::ConfigurationProfile'));
    expect(outputs[STACK_OUTPUT.thresholdsDeploymentStrategyId]?.Value).toEqual(ref('AWS::AppConfig::DeploymentStrategy'));
  });
});

describe.each(READERS)('the %s function', (name) => {
  it('reads the rules with the ids of the application, environment and profile, and has the bundled file as its fallback', () => {
    const variables = (functionOf(name).properties['Environment'] as { Variables: Record<string, unknown> }).Variables;

    expect(variables).toMatchObject({
      THRESHOLDS_FILE: 'thresholds.json',
      THRESHOLDS_APPCONFIG_APPLICATION: ref('AWS::AppConfig::Application'),
      THRESHOLDS_APPCONFIG_ENVIRONMENT: ref('AWS::AppConfig::Environment'),
      THRESHOLDS_APPCONFIG_PROFILE: ref('AWS::AppConfig::ConfigurationProfile'),
    });
  });

  it('may call exactly StartConfigurationSession and GetLatestConfiguration, on that profile in that environment only', () => {
    const role = (functionOf(name).properties['Role'] as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const appConfig = statementsOfRole(role).filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('appconfig:')));

    expect(appConfig).toHaveLength(1);
    expect([...appConfig[0]!.Action].sort()).toEqual(['appconfig:GetLatestConfiguration', 'appconfig:StartConfigurationSession']);
    expect(appConfig[0]!.Resource).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':appconfig:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':application/',
          ref('AWS::AppConfig::Application'),
          '/environment/',
          ref('AWS::AppConfig::Environment'),
          '/configuration/',
          ref('AWS::AppConfig::ConfigurationProfile'),
        ],
      ],
    });
  });
});

describe('the stale-rules alarm', () => {
  it('tells the operations topic when the three functions keep failing to refresh their rules for 15 minutes', () => {
    const alarm = onlyResource(template, 'AWS::CloudWatch::Alarm', { AlarmName: `${pipeline.name}-${STALE_RULES_ALARM}` }).properties;
    const opsTopic = onlyResource(template, 'AWS::SNS::Topic', { TopicName: `${pipeline.name}-ops` }).logicalId;
    const metrics = (alarm['Metrics'] as { MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: unknown[] }; Period: number } }[])
      .flatMap((m) => (m.MetricStat === undefined ? [] : [m.MetricStat]));

    expect(alarm).toMatchObject({ Threshold: 1, EvaluationPeriods: 3, TreatMissingData: 'notBreaching', AlarmActions: [{ Ref: opsTopic }], OKActions: [{ Ref: opsTopic }] });
    expect(metrics.map((m) => m.Metric.Dimensions)).toEqual(READERS.map((name) => [{ Name: 'service', Value: `${pipeline.name}-${name}` }]));
    for (const m of metrics) expect(m).toMatchObject({ Period: 300, Metric: { MetricName: 'ThresholdsRefreshFailed', Namespace: 'FleetTelemetry' } });
  });
});

describe('a stack deployed with no silentFor rule', () => {
  let withoutSilence: Synthesized;

  beforeAll(() => {
    withoutSilence = synthesize({ bundle: false, context: { thresholdsFile: 'test/fixtures/aws/thresholds-no-silence.json' } });
  }, SYNTH_TIMEOUT_MS);
  afterAll(() => withoutSilence?.cleanup());

  it('still runs the offline check every minute with its Scan grant, so a silentFor rule deployed later through AppConfig is checked', () => {
    const t = withoutSilence.template;
    const offline = onlyResource(t, 'AWS::Lambda::Function', { FunctionName: `${pipeline.name}-offline` }).logicalId;
    const schedule = onlyResource(t, 'AWS::Events::Rule').properties;
    const role = (onlyResource(t, 'AWS::Lambda::Function', { FunctionName: `${pipeline.name}-offline` }).properties['Role'] as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const policies = t.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: role }]) } });
    const actions = Object.values(policies).flatMap((p) => (p['Properties']['PolicyDocument']['Statement'] as { Action: string | string[] }[]).flatMap((s) => s.Action));

    expect(schedule['ScheduleExpression']).toBe(`rate(${pipeline.offlineCheck.everyMinutes} minute${pipeline.offlineCheck.everyMinutes === 1 ? '' : 's'})`);
    expect(schedule['Targets']).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [offline, 'Arn'] } })]);
    expect(actions).toContain('dynamodb:Scan');
    expect(onlyResource(t, 'AWS::AppConfig::HostedConfigurationVersion').properties['Content']).toBe(
      readFileSync(join(REPO_ROOT, 'test/fixtures/aws/thresholds-no-silence.json'), 'utf8'),
    );
  });
});
