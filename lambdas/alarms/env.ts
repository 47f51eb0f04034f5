import { THRESHOLDS_ENV } from '../common/thresholds-env.js';

/**
 * The environment the alarms function reads at cold start (see lambdas/ingest/env.ts).
 * THRESHOLDS_*: where the rules are read (lambdas/common/thresholds-env.ts). IOT_DATA_ENDPOINT: the
 * account's iot:Data-ATS endpoint host.
 */
export const ALARMS_ENV = ['ALARM_STATE_TABLE', 'ALARM_HISTORY_TABLE', 'ALARM_TOPIC_ARN', 'IOT_DATA_ENDPOINT', ...THRESHOLDS_ENV] as const;
