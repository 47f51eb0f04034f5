/**
 * The alarm ports on AWS, as both alarm composition roots (the alarms and the offline functions)
 * build them: state in DynamoDB, transitions to the IoT data plane and SNS.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { SNSClient } from '@aws-sdk/client-sns';
import type { AlarmNotifier } from '../../ports/alarm-notifier.js';
import type { AlarmStateStore } from '../../ports/alarm-state-store.js';
import { fanOutNotifier } from '../fan-out-notifier.js';
import { awsClientConfig } from './client-config.js';
import { DynamoDbAlarmStateStore, alarmStateDocumentClient } from './dynamodb-alarm-state.js';
import { IotDataNotifier, iotDataEndpointUrl } from './iot-data-notifier.js';
import { SnsNotifier } from './sns-notifier.js';

export interface AlarmPortsEnv {
  readonly ALARM_STATE_TABLE: string;
  readonly ALARM_TOPIC_ARN: string;
  readonly IOT_DATA_ENDPOINT: string;
}

/** Builds the SDK clients (with the timeouts and retries of client-config.ts) and the two alarm ports once, at cold start. */
export function awsAlarmPorts(env: AlarmPortsEnv): { states: AlarmStateStore; notifier: AlarmNotifier } {
  return {
    states: new DynamoDbAlarmStateStore({
      client: alarmStateDocumentClient(new DynamoDBClient({ ...awsClientConfig() })),
      tableName: env.ALARM_STATE_TABLE,
    }),
    notifier: fanOutNotifier([
      new IotDataNotifier({ client: new IoTDataPlaneClient({ ...awsClientConfig(), endpoint: iotDataEndpointUrl(env.IOT_DATA_ENDPOINT) }) }),
      new SnsNotifier({ client: new SNSClient({ ...awsClientConfig() }), topicArn: env.ALARM_TOPIC_ARN }),
    ]),
  };
}
