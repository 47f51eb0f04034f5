/**
 * What `aws iotevents describe-alarm-model` prints (the DescribeAlarmModel response), as far as the
 * converter reads it, and how a file's contents are told apart: alarm models, a detector model, or
 * something else (docs/migrating-from-iot-events.md, "What the converter reads").
 *
 * The shapes follow AWS's API reference
 * (https://docs.aws.amazon.com/iotevents/latest/apireference/API_DescribeAlarmModel.html). Fields the
 * converter does not use are kept loose, so a newer CLI that prints more still converts.
 */
import { z } from 'zod';

const payload = z.looseObject({ contentExpression: z.string().optional(), type: z.string().optional() }).optional();

/** One of `alarmEventActions.alarmActions[]`: exactly one key names the target. */
const alarmActionSchema = z.looseObject({
  sns: z.looseObject({ targetArn: z.string(), payload }).optional(),
  iotTopicPublish: z.looseObject({ mqttTopic: z.string(), payload }).optional(),
  lambda: z.looseObject({ functionArn: z.string(), payload }).optional(),
  iotEvents: z.looseObject({ inputName: z.string(), payload }).optional(),
  sqs: z.looseObject({ queueUrl: z.string(), useBase64: z.boolean().optional(), payload }).optional(),
  firehose: z.looseObject({ deliveryStreamName: z.string(), separator: z.string().optional(), payload }).optional(),
  dynamoDB: z.looseObject({ tableName: z.string() }).optional(),
  dynamoDBv2: z.looseObject({ tableName: z.string(), payload }).optional(),
  iotSiteWise: z
    .looseObject({ assetId: z.string().optional(), propertyId: z.string().optional(), propertyAlias: z.string().optional() })
    .optional(),
});
export type AlarmAction = z.infer<typeof alarmActionSchema>;

const ssoRecipient = z.looseObject({ ssoIdentity: z.looseObject({ identityStoreId: z.string(), userId: z.string().optional() }).optional() });

/** One of `alarmNotification.notificationActions[]`: the Lambda function that sends, and to whom. */
const notificationActionSchema = z.looseObject({
  action: z.looseObject({ lambdaAction: z.looseObject({ functionArn: z.string(), payload }).optional() }),
  smsConfigurations: z
    .array(z.looseObject({ senderId: z.string().optional(), additionalMessage: z.string().optional(), recipients: z.array(ssoRecipient) }))
    .optional(),
  emailConfigurations: z
    .array(
      z.looseObject({
        from: z.string(),
        content: z.looseObject({ subject: z.string().optional(), additionalMessage: z.string().optional() }).optional(),
        recipients: z.looseObject({ to: z.array(ssoRecipient).optional() }),
      }),
    )
    .optional(),
});
export type NotificationAction = z.infer<typeof notificationActionSchema>;

export const COMPARISON_OPERATORS = ['GREATER', 'GREATER_OR_EQUAL', 'LESS', 'LESS_OR_EQUAL', 'EQUAL', 'NOT_EQUAL'] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];

/** The DescribeAlarmModel response fields the converter reads. */
export const alarmModelSchema = z.looseObject({
  alarmModelName: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/, { error: 'must be 1 to 128 of [a-zA-Z0-9_-]' }),
  alarmModelArn: z.string().optional(),
  alarmModelVersion: z.string().optional(),
  alarmModelDescription: z.string().optional(),
  status: z.string().optional(),
  key: z.string().min(1).optional(),
  severity: z.number().int().min(0).max(2_147_483_647).optional(),
  alarmRule: z.looseObject({
    simpleRule: z
      .looseObject({
        inputProperty: z.string().min(1),
        comparisonOperator: z.enum(COMPARISON_OPERATORS, { error: `must be one of ${COMPARISON_OPERATORS.join(', ')}` }),
        threshold: z.string().min(1),
      })
      .optional(),
  }),
  alarmNotification: z.looseObject({ notificationActions: z.array(notificationActionSchema).optional() }).optional(),
  alarmEventActions: z.looseObject({ alarmActions: z.array(alarmActionSchema).optional() }).optional(),
  alarmCapabilities: z
    .looseObject({
      acknowledgeFlow: z.looseObject({ enabled: z.boolean() }).optional(),
      initializationConfiguration: z.looseObject({ disabledOnInitialization: z.boolean() }).optional(),
    })
    .optional(),
});
export type AlarmModel = z.infer<typeof alarmModelSchema>;

/** What one JSON value in an input file is. */
export type InputKind = 'alarm-model' | 'detector-model' | 'alarm-model-list' | 'other';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Tells an alarm model from a detector model: DescribeDetectorModel prints `{ detectorModel: {
 * detectorModelDefinition, detectorModelConfiguration } }`, and CreateDetectorModel's input has
 * `detectorModelDefinition` at the top; an alarm model has `alarmModelName` and `alarmRule`.
 */
export function inputKind(value: unknown): InputKind {
  if (!isRecord(value)) return 'other';
  if ('detectorModel' in value || 'detectorModelDefinition' in value || 'detectorModelName' in value) return 'detector-model';
  if ('alarmModelName' in value || 'alarmRule' in value) return 'alarm-model';
  if ('alarmModelSummaries' in value) return 'alarm-model-list';
  return 'other';
}

/** One problem of a model's shape as `field.path: message` (zod's first issue), for the report. */
export function describeShapeProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'not an alarm model';
  const path = issue.path.map(String).join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}
