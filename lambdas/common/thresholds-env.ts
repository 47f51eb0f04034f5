/**
 * Where the alarms, offline and alarm-commands functions read their threshold rules (docs/architecture.md,
 * "Thresholds on AWS"): the AppConfig application, environment and configuration profile ids, and the
 * thresholds file bundled with the function (THRESHOLDS_FILE, relative to LAMBDA_TASK_ROOT when not
 * absolute), in force until a good version has been read from AppConfig.
 */
export const THRESHOLDS_ENV = [
  'THRESHOLDS_FILE',
  'THRESHOLDS_APPCONFIG_APPLICATION',
  'THRESHOLDS_APPCONFIG_ENVIRONMENT',
  'THRESHOLDS_APPCONFIG_PROFILE',
] as const;

export type ThresholdsEnvName = (typeof THRESHOLDS_ENV)[number];

/** How long a function instance decides with the rules it read before asking AppConfig again, seconds. */
export const THRESHOLDS_MAX_AGE_SECONDS = 60;
