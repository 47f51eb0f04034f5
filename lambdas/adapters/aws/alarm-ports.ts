/**
 * The alarm ports on AWS, as the three alarm composition roots (the alarms, offline and alarm-commands
 * functions) build them: state in DynamoDB, transitions to the IoT data plane, SNS and the history table.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { SNSClient } from '@aws-sdk/client-sns';
import type { AlarmNotifier } from '../../ports/alarm-notifier.js';
import { pipeline } from '../../../infra/pipeline.js';
import type { AlarmHistory } from '../../ports/alarm-history.js';
import type { AlarmStateStore } from '../../ports/alarm-state-store.js';
import { DynamoDbAlarmHistory, historyNotifier } from './dynamodb-alarm-history.js';
import { fanOutNotifier } from '../fan-out-notifier.js';
import { awsClientConfig } from './client-config.js';
import { DynamoDbAlarmStateStore, alarmStateDocumentClient } from './dynamodb-alarm-state.js';
import { IotDataNotifier, iotDataEndpointUrl } from './iot-data-notifier.js';
import { SnsNotifier } from './sns-notifier.js';

export interface AlarmPortsEnv {
  readonly ALARM_STATE_TABLE: string;
  readonly ALARM_HISTORY_TABLE: string;
  readonly ALARM_TOPIC_ARN: string;
  readonly IOT_DATA_ENDPOINT: string;
}

export interface AwsAlarmPorts {
  readonly states: AlarmStateStore;
  /** IoT data plane, SNS and the history table: every transition goes to all three. */
  readonly notifier: AlarmNotifier;
  readonly history: AlarmHistory;
  /** The IoT data-plane client, shared with the command replies of the alarm-commands function. */
  readonly iotData: IoTDataPlaneClient;
}

/** Builds the SDK clients (with the timeouts and retries of client-config.ts) and the alarm ports once, at cold start. */
export function awsAlarmPorts(env: AlarmPortsEnv): AwsAlarmPorts {
  const documents = alarmStateDocumentClient(new DynamoDBClient({ ...awsClientConfig() }));
  const iotData = new IoTDataPlaneClient({ ...awsClientConfig(), endpoint: iotDataEndpointUrl(env.IOT_DATA_ENDPOINT) });
  const history = new DynamoDbAlarmHistory({ client: documents, tableName: env.ALARM_HISTORY_TABLE, ttlDays: pipeline.alarmHistory.ttlDays });
  return {
    states: new DynamoDbAlarmStateStore({ client: documents, tableName: env.ALARM_STATE_TABLE }),
    notifier: fanOutNotifier([
      new IotDataNotifier({ client: iotData }),
      new SnsNotifier({ client: new SNSClient({ ...awsClientConfig() }), topicArn: env.ALARM_TOPIC_ARN }),
      historyNotifier(history),
    ]),
    history,
    iotData,
  };
}
