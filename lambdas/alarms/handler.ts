/**
 * AWS composition root of the alarms function: reads the environment and the bundled thresholds file
 * once at cold start (failing there, naming the variable or the rule), builds the SDK clients and
 * adapters once (rules from AppConfig, refreshed each minute; alarm state in DynamoDB; notifications
 * to IoT and SNS), hands them to the factory.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { awsAlarmPorts } from '../adapters/aws/alarm-ports.js';
import { appConfigThresholdsFromEnv } from '../adapters/aws/appconfig-thresholds.js';
import { powertoolsLog, powertoolsMetrics, withPowertools } from '../adapters/aws/powertools.js';
import { readEnv } from '../common/env.js';
import { makeAlarmsHandler } from './alarms-handler.js';
import { ALARMS_ENV } from './env.js';

const env = readEnv(ALARMS_ENV);
const logger = new Logger();
const metrics = new Metrics();
const log = powertoolsLog(logger);
const rules = appConfigThresholdsFromEnv(env, { log, metrics: powertoolsMetrics(metrics) });

/** The function's handler (ReportBatchItemFailures response). */
export const handler = withPowertools(
  makeAlarmsHandler({
    rules,
    ...awsAlarmPorts(env),
    metrics: powertoolsMetrics(metrics),
    log,
  }),
  { logger, metrics },
);
