/**
 * The environment the alarms function reads at cold start (see lambdas/ingest/env.ts).
 * THRESHOLDS_FILE: path of the thresholds JSON bundled with the function, relative to
 * LAMBDA_TASK_ROOT when not absolute. IOT_DATA_ENDPOINT: the account's iot:Data-ATS endpoint host.
 */
export const ALARMS_ENV = ['ALARM_STATE_TABLE', 'ALARM_HISTORY_TABLE', 'ALARM_TOPIC_ARN', 'IOT_DATA_ENDPOINT', 'THRESHOLDS_FILE'] as const;
