/**
 * AWS composition root of the alarm-commands function, invoked (asynchronously) by the command topic
 * rule's Lambda action: reads the environment and the bundled thresholds file once at cold start (the
 * rules in force come from AppConfig, lambdas/adapters/aws/appconfig-thresholds.ts), builds the
 * same alarm ports as the alarms and offline functions (DynamoDB state and history, IoT + SNS) and the
 * IoT data-plane command replies, and hands them to the factory.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { awsAlarmPorts } from '../adapters/aws/alarm-ports.js';
import { appConfigThresholdsFromEnv } from '../adapters/aws/appconfig-thresholds.js';
import { IotCommandReplies } from '../adapters/aws/iot-command-replies.js';
import { powertoolsLog, powertoolsMetrics, withPowertools } from '../adapters/aws/powertools.js';
import { systemClock } from '../ports/clock.js';
import { readEnv } from '../common/env.js';
import { makeAlarmCommandsHandler } from './alarm-commands-handler.js';
import { ALARM_COMMANDS_ENV } from './env.js';

const env = readEnv(ALARM_COMMANDS_ENV);
const logger = new Logger();
const metrics = new Metrics();
const log = powertoolsLog(logger);
const rules = appConfigThresholdsFromEnv(env, { log, metrics: powertoolsMetrics(metrics) });
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
    log,
  }),
  { logger, metrics },
);
