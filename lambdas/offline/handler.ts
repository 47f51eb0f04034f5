/**
 * AWS composition root of the scheduled offline check: the same wiring as the alarms function
 * (DynamoDB alarm state, IoT + SNS notifications, the rules from AppConfig with the bundled thresholds
 * file as the fallback), built once at cold start.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { awsAlarmPorts } from '../adapters/aws/alarm-ports.js';
import { appConfigThresholdsFromEnv } from '../adapters/aws/appconfig-thresholds.js';
import { powertoolsLog, powertoolsMetrics, withPowertools } from '../adapters/aws/powertools.js';
import { systemClock } from '../ports/clock.js';
import { readEnv } from '../common/env.js';
import { OFFLINE_ENV } from './env.js';
import { makeOfflineHandler } from './offline-handler.js';

const env = readEnv(OFFLINE_ENV);
const logger = new Logger();
const metrics = new Metrics();
const log = powertoolsLog(logger);
const rules = appConfigThresholdsFromEnv(env, { log, metrics: powertoolsMetrics(metrics) });

/** The function's handler, invoked by the EventBridge schedule. */
export const handler = withPowertools(
  makeOfflineHandler({
    rules,
    ...awsAlarmPorts(env),
    clock: systemClock,
    metrics: powertoolsMetrics(metrics),
    log,
  }),
  { logger, metrics },
);
