/**
 * The device policy's Basic Ingest permission (issue 11, "Basic Ingest"): a device may publish its own
 * telemetry through `$aws/rules/fleet_telemetry_to_stream/...`, for its own thing name only, and to no
 * other rule. The construct alone in a bare stack: no bundling, so this file synthesizes in a moment.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DeviceAccess, THING_NAME } from '../../infra/aws/constructs/device-access.js';
import { basicIngestTelemetryTopic, pipeline } from '../../infra/pipeline.js';

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

function devicePolicyStatements(): Statement[] {
  const stack = new Stack(new App(), 'DeviceAccessOnly', { env: { account: '123456789012', region: 'eu-west-1' } });
  new DeviceAccess(stack, 'Access');
  const policies = Template.fromStack(stack).findResources('AWS::IoT::Policy', { Properties: { PolicyName: `${pipeline.name}-device` } });
  const [policy] = Object.values(policies) as { Properties: { PolicyDocument: { Statement: Statement[] } } }[];
  if (policy === undefined) throw new Error('no device policy in the template');
  return policy.Properties.PolicyDocument.Statement;
}

/** An ARN as CloudFormation would resolve it in eu-west-1 of account 123456789012 (the partition is a Ref). */
function resolvedArn(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  const ref = (value as { Ref?: string }).Ref;
  if (join !== undefined) return join[1].map(resolvedArn).join(join[0]);
  if (ref === 'AWS::Partition') return 'aws';
  throw new Error(`unexpected ARN part ${JSON.stringify(value)}`);
}

/** Every topic ARN the device may publish on. */
function publishResources(statements: Statement[]): string[] {
  return statements
    .filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes('iot:Publish'))
    .flatMap((s) => [s.Resource].flat().map(resolvedArn));
}

const topicArn = (topic: string): string => `arn:aws:iot:eu-west-1:123456789012:topic/${topic}`;

describe('device policy: Basic Ingest', () => {
  it("allows publishing the device's own telemetry through the pipeline rule's Basic Ingest topic", () => {
    expect(publishResources(devicePolicyStatements())).toContain(
      topicArn('$aws/rules/fleet_telemetry_to_stream/dt/fleet/${iot:Connection.Thing.ThingName}/telemetry'),
    );
  });

  it('keeps the plain telemetry topic allowed next to it', () => {
    expect(publishResources(devicePolicyStatements())).toContain(topicArn('dt/fleet/${iot:Connection.Thing.ThingName}/telemetry'));
  });

  it('allows no other Basic Ingest topic: no wildcard, no other rule, no other device', () => {
    const resources = publishResources(devicePolicyStatements());
    expect(resources).toHaveLength(2);
    for (const resource of resources) {
      expect(resource).not.toMatch(/\*/);
      expect(resource).toContain(THING_NAME);
    }
    expect(resources.filter((r) => r.includes('$aws/rules/'))).toEqual([topicArn(basicIngestTelemetryTopic(THING_NAME))]);
  });
});
