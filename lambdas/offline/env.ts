import { THRESHOLDS_ENV } from '../common/thresholds-env.js';

/** The environment the offline-check function reads at cold start (see lambdas/alarms/env.ts). */
export const OFFLINE_ENV = ['ALARM_STATE_TABLE', 'ALARM_HISTORY_TABLE', 'ALARM_TOPIC_ARN', 'IOT_DATA_ENDPOINT', ...THRESHOLDS_ENV] as const;
