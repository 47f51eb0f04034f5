/**
 * AWS composition root of the alarm-commands function, invoked (asynchronously) by the command topic
 * rule's Lambda action: reads the environment and the thresholds file once at cold start, builds the
 * same alarm ports as the alarms and offline functions (DynamoDB state and history, IoT + SNS) and the
 * IoT data-plane command replies, and hands them to the factory.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { awsAlarmPorts } from '../adapters/aws/alarm-ports.js';
import { IotCommandReplies } from '../adapters/aws/iot-command-replies.js';
import { powertoolsLog, powertoolsMetrics, withPowertools } from '../adapters/aws/powertools.js';
import { loadThresholdsFile } from '../config/load-thresholds.js';
import { systemClock } from '../ports/clock.js';
import { readEnv, resolveFromTaskRoot } from '../common/env.js';
import { makeAlarmCommandsHandler } from './alarm-commands-handler.js';
import { ALARM_COMMANDS_ENV } from './env.js';

const env = readEnv(ALARM_COMMANDS_ENV);
const rules = loadThresholdsFile(resolveFromTaskRoot(env.THRESHOLDS_FILE));
const logger = new Logger();
const metrics = new Metrics();
const { states, notifier, history, iotData } = awsAlarmPorts(env);

/** The function's handler: one command envelope per invocation. */
export const handler = withPowertools(
  makeAlarmCommandsHandler({
    rules,
    states,
    notifier,
    history,
    replies: new IotCommandReplies({ client: iotData }),
    clock: systemClock,
    metrics: powertoolsMetrics(metrics),
    log: powertoolsLog(logger),
  }),
  { logger, metrics },
);
