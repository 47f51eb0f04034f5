/**
 * AWS composition root of the scheduled offline check: the same wiring as the alarms function
 * (DynamoDB alarm state, IoT + SNS notifications, the thresholds file), read once at cold start.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDbAlarmStateStore, alarmStateDocumentClient } from '../adapters/aws/dynamodb-alarm-state.js';
import { IotDataNotifier, iotDataEndpointUrl } from '../adapters/aws/iot-data-notifier.js';
import { powertoolsLog, powertoolsMetrics, withPowertools } from '../adapters/aws/powertools.js';
import { SnsNotifier } from '../adapters/aws/sns-notifier.js';
import { fanOutNotifier } from '../adapters/fan-out-notifier.js';
import { loadThresholdsFile } from '../config/load-thresholds.js';
import { systemClock } from '../ports/clock.js';
import { readEnv, resolveFromTaskRoot } from '../shared/env.js';
import { OFFLINE_ENV } from './env.js';
import { makeOfflineHandler } from './offline-handler.js';

const env = readEnv(OFFLINE_ENV);
const rules = loadThresholdsFile(resolveFromTaskRoot(env.THRESHOLDS_FILE));
const logger = new Logger();
const metrics = new Metrics();

/** The function's handler, invoked by the EventBridge schedule. */
export const handler = withPowertools(
  makeOfflineHandler({
    rules,
    states: new DynamoDbAlarmStateStore({
      client: alarmStateDocumentClient(new DynamoDBClient({})),
      tableName: env.ALARM_STATE_TABLE,
    }),
    notifier: fanOutNotifier([
      new IotDataNotifier({ client: new IoTDataPlaneClient({ endpoint: iotDataEndpointUrl(env.IOT_DATA_ENDPOINT) }) }),
      new SnsNotifier({ client: new SNSClient({}), topicArn: env.ALARM_TOPIC_ARN }),
    ]),
    clock: systemClock,
    metrics: powertoolsMetrics(metrics),
    log: powertoolsLog(logger),
  }),
  { logger, metrics },
);
