import { THRESHOLDS_ENV } from '../common/thresholds-env.js';

/**
 * The environment the alarm-commands function reads at cold start (see lambdas/alarms/env.ts): the
 * alarm state it changes, the history it records in, the alarm topic it notifies, the IoT data
 * endpoint it publishes transitions and replies on, and the rules the commands name.
 */
export const ALARM_COMMANDS_ENV = ['ALARM_STATE_TABLE', 'ALARM_HISTORY_TABLE', 'ALARM_TOPIC_ARN', 'IOT_DATA_ENDPOINT', ...THRESHOLDS_ENV] as const;
