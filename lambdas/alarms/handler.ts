/**
 * AWS composition root of the alarms function: reads the environment and the thresholds file once
 * at cold start (failing there, naming the variable or the rule), builds the SDK clients and
 * adapters once (alarm state in DynamoDB; notifications to IoT and SNS), hands them to the factory.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { awsAlarmPorts } from '../adapters/aws/alarm-ports.js';
import { powertoolsLog, powertoolsMetrics, withPowertools } from '../adapters/aws/powertools.js';
import { loadThresholdsFile } from '../config/load-thresholds.js';
import { readEnv, resolveFromTaskRoot } from '../common/env.js';
import { makeAlarmsHandler } from './alarms-handler.js';
import { ALARMS_ENV } from './env.js';

const env = readEnv(ALARMS_ENV);
const rules = loadThresholdsFile(resolveFromTaskRoot(env.THRESHOLDS_FILE));
const logger = new Logger();
const metrics = new Metrics();

/** The function's handler (ReportBatchItemFailures response). */
export const handler = withPowertools(
  makeAlarmsHandler({
    rules,
    ...awsAlarmPorts(env),
    metrics: powertoolsMetrics(metrics),
    log: powertoolsLog(logger),
  }),
  { logger, metrics },
);
