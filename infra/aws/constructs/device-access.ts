import { Stack } from 'aws-cdk-lib';
import { CfnPolicy, CfnThingType } from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import { alarmTopic, basicIngestTelemetryTopic, commandReplyTopic, commandTopic, pipeline, telemetryTopic } from '../../pipeline.js';

/**
 * The thing name of the connection, resolved by IoT Core from the thing attached to the
 * certificate that authenticated it [iot thing-policy-variables].
 */
export const THING_NAME = '${iot:Connection.Thing.ThingName}';

/**
 * What a device or operator may do on IoT Core, as IoT policies to attach to their certificates, and
 * the thing type of the devices.
 *
 * Device policy (docs/aws-semantics.md section 6; AWS IoT "thing policy variables",
 * https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html, and
 * "Publish/Subscribe policy examples", https://docs.aws.amazon.com/iot/latest/developerguide/pub-sub-policy.html): everything is keyed on `${iot:Connection.Thing.ThingName}`, so one policy serves
 * the whole fleet and a certificate can only act as the thing it is attached to:
 * - connect only with the client id equal to its thing name, and only while the certificate is
 *   attached to a thing (`iot:Connection.Thing.IsAttached`, which rejects a stray certificate);
 * - publish only on its own telemetry topic (the topic is the authority for the device's identity),
 *   directly or through Basic Ingest (`$aws/rules/<our rule>/` before it: straight to our rule, no
 *   messaging charge). Only our rule and only its own id: a device cannot feed another rule, nor
 *   speak for another device through the rule's `topic(3)`;
 * - subscribe to, and receive, only its own alarms topic.
 *
 * Operator policy: a dashboard or on-call console, registered as a thing with its own certificate,
 * may subscribe to and receive every device's alarms (`alarms/fleet/+`, or one device's), publish
 * alarm commands on `cmd/fleet/alarms/{deviceId}` and nothing else, and subscribe to and receive
 * their replies (`.../accepted`, `.../rejected`). The device policy allows none of the command topics:
 * a device publishing there is refused like on any other foreign topic. In IoT policies `+` and `#` are literal characters and `*` is the wildcard [iot
 * iot-policy-variables], so `topicfilter/alarms/fleet/*` allows both the fleet-wide filter and a
 * single device's topic.
 */
export class DeviceAccess extends Construct {
  public readonly devicePolicy: CfnPolicy;
  public readonly operatorPolicy: CfnPolicy;
  public readonly thingType: CfnThingType;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    const iotArn = (resource: string, resourceName: string): string =>
      stack.formatArn({ service: 'iot', resource, resourceName });
    const connectAsOwnThing = {
      Effect: 'Allow',
      Action: 'iot:Connect',
      Resource: iotArn('client', THING_NAME),
      Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
    };

    this.devicePolicy = new CfnPolicy(this, 'DevicePolicy', {
      policyName: `${pipeline.name}-device`,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          connectAsOwnThing,
          {
            Effect: 'Allow',
            Action: 'iot:Publish',
            Resource: [iotArn('topic', telemetryTopic(THING_NAME)), iotArn('topic', basicIngestTelemetryTopic(THING_NAME))],
          },
          { Effect: 'Allow', Action: 'iot:Subscribe', Resource: iotArn('topicfilter', alarmTopic(THING_NAME)) },
          { Effect: 'Allow', Action: 'iot:Receive', Resource: iotArn('topic', alarmTopic(THING_NAME)) },
        ],
      },
    });

    this.operatorPolicy = new CfnPolicy(this, 'OperatorPolicy', {
      policyName: `${pipeline.name}-operator`,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          connectAsOwnThing,
          { Effect: 'Allow', Action: 'iot:Subscribe', Resource: iotArn('topicfilter', alarmTopic('*')) },
          { Effect: 'Allow', Action: 'iot:Receive', Resource: iotArn('topic', alarmTopic('*')) },
          // Commands: publish on cmd/fleet/alarms/<deviceId> only. `*` also matches `/`, so the
          // explicit Deny keeps an operator from publishing on a reply topic (a forged answer).
          { Effect: 'Allow', Action: 'iot:Publish', Resource: iotArn('topic', commandTopic('*')) },
          { Effect: 'Deny', Action: 'iot:Publish', Resource: iotArn('topic', commandTopic('*/*')) },
          {
            Effect: 'Allow',
            Action: 'iot:Subscribe',
            Resource: [iotArn('topicfilter', commandReplyTopic('*', 'accepted')), iotArn('topicfilter', commandReplyTopic('*', 'rejected'))],
          },
          {
            Effect: 'Allow',
            Action: 'iot:Receive',
            Resource: [iotArn('topic', commandReplyTopic('*', 'accepted')), iotArn('topic', commandReplyTopic('*', 'rejected'))],
          },
        ],
      },
    });

    this.thingType = new CfnThingType(this, 'DeviceThingType', {
      thingTypeName: `${pipeline.name}-device`,
      thingTypeProperties: {
        thingTypeDescription: 'A fleet-telemetry device; its thing name is its deviceId and MQTT client id.',
        // The telemetry `type` that scopes threshold rules, searchable in the registry.
        searchableAttributes: ['deviceType'],
      },
    });
  }
}
