/**
 * An alarm model's notifications (`alarmNotification`) and alarm actions (`alarmEventActions`) are not
 * converted: our alarm events go to one SNS topic (with message attributes for filter policies), to
 * `alarms/fleet/{deviceId}` over MQTT and, locally, to the webhook (README, "Watch alarms"). For each,
 * this says what it targeted and how to get the same here (docs/migrating-from-iot-events.md,
 * "Notifications and actions").
 */
import { pipeline } from '../pipeline.js';
import type { AlarmAction, AlarmModel, NotificationAction } from './alarm-model.js';

export interface ActionGuidance {
  /** Where it was in the model: `alarmNotification` or `alarmEventActions`. */
  readonly from: 'alarmNotification' | 'alarmEventActions';
  /** What it targeted, e.g. `SNS topic arn:aws:sns:...`. */
  readonly target: string;
  /** How to get the same from our alarm events. */
  readonly howHere: string;
}

function filterPolicy(ruleId: string): string {
  return JSON.stringify({ ruleId: [ruleId] });
}

const ALARM_TOPIC = 'our alarm topic (stack output AlarmTopicArn)';
const LOCALLY = 'locally, the webhook (npm start --webhook URL) receives every alarm event';

/** "subscribe <who> to our alarm topic with the filter policy ..." */
function subscribe(who: string, ruleId: string): string {
  return `subscribe ${who} to ${ALARM_TOPIC} with the filter policy ${filterPolicy(ruleId)}`;
}

function alarmActionGuidance(action: AlarmAction, ruleId: string): ActionGuidance {
  const from = 'alarmEventActions';
  if (action.sns) {
    return { from, target: `SNS topic ${action.sns.targetArn}`, howHere: `move its subscriptions to ${ALARM_TOPIC}, each with the filter policy ${filterPolicy(ruleId)}; ${LOCALLY}` };
  }
  if (action.iotTopicPublish) {
    return {
      from,
      target: `MQTT topic ${action.iotTopicPublish.mqttTopic}`,
      howHere: `subscribe to ${pipeline.topics.alarmsFilter} (an operator) and keep the events with ruleId "${ruleId}"; to keep the old topic on AWS, an IoT rule SELECT * FROM '${pipeline.topics.alarmsFilter}' WHERE ruleId = '${ruleId}' with a republish action to it`,
    };
  }
  if (action.lambda) return { from, target: `Lambda function ${action.lambda.functionArn}`, howHere: `${subscribe('the function (protocol lambda)', ruleId)}; ${LOCALLY}` };
  if (action.sqs) return { from, target: `SQS queue ${action.sqs.queueUrl}`, howHere: `${subscribe('the queue (protocol sqs, raw message delivery)', ruleId)}; ${LOCALLY}` };
  if (action.firehose) {
    return { from, target: `Firehose stream ${action.firehose.deliveryStreamName}`, howHere: `${subscribe('the delivery stream (protocol firehose)', ruleId)}; ${LOCALLY}` };
  }
  if (action.dynamoDB || action.dynamoDBv2) {
    const table = action.dynamoDB?.tableName ?? action.dynamoDBv2?.tableName ?? '';
    return {
      from,
      target: `DynamoDB table ${table}`,
      howHere: `every transition is already in our alarm-history table (stack output AlarmHistoryTableName); to keep filling this table, ${subscribe('a Lambda function that writes it', ruleId)}`,
    };
  }
  if (action.iotEvents) {
    return {
      from,
      target: `IoT Events input ${action.iotEvents.inputName}`,
      howHere: `no counterpart: it fed another IoT Events model, which has to be ported by hand (detector models are not converted); ${subscribe('what replaces it', ruleId)}`,
    };
  }
  if (action.iotSiteWise) {
    const property = action.iotSiteWise.propertyAlias ?? action.iotSiteWise.propertyId ?? action.iotSiteWise.assetId ?? 'an asset property';
    return { from, target: `IoT SiteWise property ${property}`, howHere: subscribe('a Lambda function that writes the property (BatchPutAssetPropertyValue)', ruleId) };
  }
  const keys = Object.keys(action).join(', ') || 'none';
  return { from, target: `an action this converter does not know (keys: ${keys})`, howHere: subscribe('its target', ruleId) };
}

function recipientIds(recipients: readonly { ssoIdentity?: { identityStoreId: string; userId?: string | undefined } | undefined }[]): string {
  const ids = recipients.map((recipient) => recipient.ssoIdentity?.userId ?? recipient.ssoIdentity?.identityStoreId ?? '?');
  return ids.length === 0 ? 'no recipients' : `IAM Identity Center users ${ids.join(', ')}`;
}

function notificationGuidance(action: NotificationAction, ruleId: string): ActionGuidance[] {
  const from = 'alarmNotification';
  const raisesOnly = 'add "state": ["ALARM"] to it for raises only';
  const guidance: ActionGuidance[] = [];
  for (const email of action.emailConfigurations ?? []) {
    guidance.push({
      from,
      target: `e-mail from ${email.from} to ${recipientIds(email.recipients.to ?? [])}`,
      howHere: `${subscribe('their addresses (protocol email)', ruleId)}; ${raisesOnly}; or deploy with -c alarmEmail=ADDRESS for every alarm`,
    });
  }
  for (const sms of action.smsConfigurations ?? []) {
    guidance.push({ from, target: `SMS to ${recipientIds(sms.recipients)}`, howHere: `${subscribe('their phone numbers (protocol sms)', ruleId)}; ${raisesOnly}` });
  }
  const functionArn = action.action.lambdaAction?.functionArn;
  if (functionArn !== undefined) {
    guidance.push({ from, target: `notification Lambda function ${functionArn}`, howHere: 'not needed: SNS delivers e-mail and SMS itself' });
  }
  return guidance;
}

/** What each notification and alarm action of the model targeted, and how to get the same here. */
export function guidanceFor(model: Pick<AlarmModel, 'alarmNotification' | 'alarmEventActions'>, ruleId: string): ActionGuidance[] {
  return [
    ...(model.alarmNotification?.notificationActions ?? []).flatMap((action) => notificationGuidance(action, ruleId)),
    ...(model.alarmEventActions?.alarmActions ?? []).map((action) => alarmActionGuidance(action, ruleId)),
  ];
}
