/** Structured logging: Powertools Logger on AWS, JSON lines on stderr locally. */
export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** One metric per outcome (names in METRIC), Powertools Metrics (EMF) on AWS, counters locally. */
export interface Metrics {
  count(name: MetricName, value?: number, dimension?: { readonly name: string; readonly value: string }): void;
}

export const METRIC = {
  readingsStored: 'ReadingsStored',
  readingsRejected: 'ReadingsRejected',
  recordsRetried: 'RecordsRetried',
  alarmsRaised: 'AlarmsRaised',
  alarmsCleared: 'AlarmsCleared',
  stateConflicts: 'AlarmStateConflicts',
  /** Operator commands, dimension outcome=accepted|rejected. */
  alarmCommands: 'AlarmCommands',
  /** Reminders of unacknowledged alarms published by the offline check. */
  alarmReminders: 'AlarmReminders',
  /** Devices whose batch changed nothing worth a write (issue 11: alarm state writes). */
  stateWritesSkipped: 'AlarmStateWritesSkipped',
  /**
   * A refresh of the threshold rules deployed in AWS AppConfig that failed (the read, or the content
   * refused): the function keeps deciding with the rules it had. The stale-rules alarm watches it.
   */
  thresholdsRefreshFailed: 'ThresholdsRefreshFailed',
  /** A refresh after which the rules in force are still the bundled file's: nothing good was read from AppConfig yet. */
  thresholdsFromBundledFile: 'ThresholdsFromBundledFile',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
export const noMetrics: Metrics = { count() {} };
