/**
 * The deployment's own choices, read from CDK context (`cdk.json` "context", or `-c key=value`).
 * Everything the local runtime also uses comes from infra/pipeline.ts instead, so the two cannot
 * drift; these settings exist only on AWS. Plain data and validation: no CDK imports.
 */
import { ConfigError } from '../../lambdas/domain/errors.js';
import { pipeline } from '../pipeline.js';

/** CloudWatch Logs accepts only these retention periods (AWS::Logs::LogGroup RetentionInDays). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const STREAM_MODES = ['provisioned', 'on-demand'] as const;
export const TIME_SERIES_STORES = ['dynamodb', 'timestream', 'none'] as const;
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export const CAPACITY_MODES = ['provisioned', 'on-demand'] as const;
/**
 * The utilization auto scaling keeps the alarm-state table's provisioned capacity at: 70% leaves room
 * for a burst of 40% over the average before DynamoDB's burst capacity (up to 300 s of unused
 * capacity) is drawn on.
 */
export const ALARM_STATE_TARGET_UTILIZATION_PERCENT = 70;
/** The least capacity auto scaling leaves the alarm-state table and its index with, per direction. */
export const ALARM_STATE_MIN_CAPACITY = 5;

export interface DeploymentSettings {
  /**
   * `provisioned`: pipeline.stream.shardCount shards (the count the local runtime also uses);
   * `on-demand`: Kinesis scales itself and bills per GB.
   * @default 'provisioned'
   */
  readonly streamMode: (typeof STREAM_MODES)[number];
  /**
   * How long the stream keeps records, hours (Kinesis allows 24 to 8760; past 24 h it bills
   * extended retention). Both mappings' maximum record age must stay well below it, checked at synth.
   * @default pipeline.stream.retentionHours (168: seven days)
   */
  readonly streamRetentionHours: number;
  /**
   * `dynamodb`: a DynamoDB readings table (on-demand, TTL) and the ingest consumer; any account.
   * `timestream`: Timestream for LiveAnalytics database + table and the ingest consumer (only for
   * accounts that already use it: closed to new customers since 2025-06-20).
   * `none`: no time-series store and no ingest consumer; alarms still work.
   * @default 'dynamodb'
   */
  readonly timeSeriesStore: (typeof TIME_SERIES_STORES)[number];
  /** With `dynamodb`: days a reading is kept after its event time (DynamoDB TTL), 1 to 36500. @default 30 */
  readonly readingsRetentionDays: number;
  /**
   * The alarm-state table's capacity: `provisioned` with target-tracking auto scaling (70%), or
   * `on-demand`. A fleet reports steadily, so provisioned costs about 40% of on-demand for the same
   * requests; a burst beyond the scaled capacity is throttled and retried (alarms late, not lost)
   * until auto scaling catches up. @default 'provisioned'
   */
  readonly alarmStateCapacity: (typeof CAPACITY_MODES)[number];
  /** With `alarmStateCapacity=provisioned`: the most read and write capacity units auto scaling may set (10 to 40000). @default 4000 */
  readonly alarmStateMaxCapacity: number;
  /** Timestream memory-store retention, hours (1 to 8766). @default 6 */
  readonly timestreamMemoryRetentionHours: number;
  /** Timestream magnetic-store retention, days (1 to 73000). @default 365 */
  readonly timestreamMagneticRetentionDays: number;
  /** Subscribes this address to the device-alarm topic when set. @default none */
  readonly alarmEmail: string | undefined;
  /** Subscribes this address to the operations topic (CloudWatch alarms) when set. @default none */
  readonly opsEmail: string | undefined;
  /** Retention of every function's log group, days (a CloudWatch Logs value). @default 30 */
  readonly logRetentionDays: (typeof LOG_RETENTION_DAYS)[number];
  /** POWERTOOLS_LOG_LEVEL of every function. @default 'INFO' */
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /**
   * The account's iot:Data-ATS endpoint host. Unset: looked up at deploy time by a custom resource
   * calling IoT DescribeEndpoint. @default looked up at deploy time
   */
  readonly iotDataEndpoint: string | undefined;
  /** Thresholds file bundled with the alarms and offline functions, relative to the repository root. @default 'config/thresholds.json' */
  readonly thresholdsFile: string;
}

/** The defaults, also written in cdk.json so that they are visible where users look for them. */
export const DEFAULT_DEPLOYMENT_SETTINGS: DeploymentSettings = Object.freeze({
  streamMode: 'provisioned',
  streamRetentionHours: pipeline.stream.retentionHours,
  timeSeriesStore: 'dynamodb',
  readingsRetentionDays: 30,
  alarmStateCapacity: 'provisioned',
  alarmStateMaxCapacity: 4000,
  timestreamMemoryRetentionHours: 6,
  timestreamMagneticRetentionDays: 365,
  alarmEmail: undefined,
  opsEmail: undefined,
  logRetentionDays: 30,
  logLevel: 'INFO',
  iotDataEndpoint: undefined,
  thresholdsFile: 'config/thresholds.json',
});

/** The context keys this app reads; each is a field of DeploymentSettings. */
export const DEPLOYMENT_CONTEXT_KEYS = Object.keys(DEFAULT_DEPLOYMENT_SETTINGS) as readonly (keyof DeploymentSettings)[];

/** A context value that cannot work: names the key, the value and what is allowed. */
export class DeploymentSettingsError extends ConfigError {}

/**
 * Reads and validates the deployment settings.
 * @param lookup returns the raw context value of a key (`node.tryGetContext`); `undefined`, `null`
 *   and `''` mean "not set". `-c key=value` always arrives as a string, cdk.json values keep their
 *   JSON type, so numbers are accepted in either form.
 * @throws DeploymentSettingsError naming the first bad key.
 */
export function readDeploymentSettings(lookup: (key: string) => unknown): DeploymentSettings {
  const raw = (key: keyof DeploymentSettings): unknown => {
    const value = lookup(key);
    return value === null || value === '' ? undefined : value;
  };
  const d = DEFAULT_DEPLOYMENT_SETTINGS;
  return Object.freeze({
    streamMode: oneOf('streamMode', raw('streamMode'), STREAM_MODES) ?? d.streamMode,
    streamRetentionHours: integerIn('streamRetentionHours', raw('streamRetentionHours'), 24, 8760) ?? d.streamRetentionHours,
    timeSeriesStore: oneOf('timeSeriesStore', raw('timeSeriesStore'), TIME_SERIES_STORES) ?? d.timeSeriesStore,
    readingsRetentionDays: integerIn('readingsRetentionDays', raw('readingsRetentionDays'), 1, 36_500) ?? d.readingsRetentionDays,
    alarmStateCapacity: oneOf('alarmStateCapacity', raw('alarmStateCapacity'), CAPACITY_MODES) ?? d.alarmStateCapacity,
    alarmStateMaxCapacity: integerIn('alarmStateMaxCapacity', raw('alarmStateMaxCapacity'), 10, 40_000) ?? d.alarmStateMaxCapacity,
    timestreamMemoryRetentionHours:
      integerIn('timestreamMemoryRetentionHours', raw('timestreamMemoryRetentionHours'), 1, 8766) ??
      d.timestreamMemoryRetentionHours,
    timestreamMagneticRetentionDays:
      integerIn('timestreamMagneticRetentionDays', raw('timestreamMagneticRetentionDays'), 1, 73_000) ??
      d.timestreamMagneticRetentionDays,
    alarmEmail: email('alarmEmail', raw('alarmEmail')),
    opsEmail: email('opsEmail', raw('opsEmail')),
    logRetentionDays: logRetention(raw('logRetentionDays')) ?? d.logRetentionDays,
    logLevel: oneOf('logLevel', upper(raw('logLevel')), LOG_LEVELS) ?? d.logLevel,
    iotDataEndpoint: hostName('iotDataEndpoint', raw('iotDataEndpoint')),
    thresholdsFile: text('thresholdsFile', raw('thresholdsFile')) ?? d.thresholdsFile,
  });
}

/**
 * Context keys that belong to the CDK itself rather than to this app: namespaced ones
 * (`@aws-cdk/...` feature flags, `aws:cdk:...` switches, `availability-zones:...` lookups cached in
 * cdk.context.json) and the few plain ones the CLI reads from cdk.json.
 */
const CDK_OWN_CONTEXT_KEY = /^@|:/;
const CDK_PLAIN_CONTEXT_KEYS: ReadonlySet<string> = new Set(['cli-telemetry', 'acknowledged-issue-numbers']);

/**
 * Refuses a context key this app does not read, such as `-c timeSeriesStre=none`: without this
 * check a typo deploys the default silently.
 * @throws DeploymentSettingsError naming the first unknown key (and the closest known one).
 */
export function rejectUnknownContextKeys(keys: Iterable<string>): void {
  const known: readonly string[] = DEPLOYMENT_CONTEXT_KEYS;
  for (const key of keys) {
    if (known.includes(key) || CDK_OWN_CONTEXT_KEY.test(key) || CDK_PLAIN_CONTEXT_KEYS.has(key)) continue;
    const closest = closestKey(key, known);
    throw new DeploymentSettingsError(
      `context ${key}: not a setting of this app${closest === undefined ? '' : ` (did you mean ${closest}?)`}; known: ${known.join(', ')}`,
    );
  }
}

/** The known key within an edit distance of a third of its length, if any. */
function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= Math.max(2, Math.floor(candidate.length / 3)) && (best === undefined || distance < best.distance)) {
      best = { key: candidate, distance };
    }
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function fail(key: string, value: unknown, expected: string): never {
  throw new DeploymentSettingsError(`context ${key}=${JSON.stringify(value)}: expected ${expected}`);
}

function oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  return fail(key, value, `one of ${allowed.join(', ')}`);
}

function upper(value: unknown): unknown {
  return typeof value === 'string' ? value.toUpperCase() : value;
}

function integerIn(key: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max) return n;
  return fail(key, value, `an integer from ${min} to ${max}`);
}

function logRetention(value: unknown): DeploymentSettings['logRetentionDays'] | undefined {
  const n = integerIn('logRetentionDays', value, 1, 3653);
  if (n === undefined) return undefined;
  if ((LOG_RETENTION_DAYS as readonly number[]).includes(n)) return n as DeploymentSettings['logRetentionDays'];
  return fail('logRetentionDays', value, `one of ${LOG_RETENTION_DAYS.join(', ')}`);
}

function text(key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return fail(key, value, 'a string');
}

function email(key: string, value: unknown): string | undefined {
  const s = text(key, value);
  // Deliberately loose: SNS does the real check when it sends the confirmation mail.
  if (s === undefined || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s)) return s;
  return fail(key, value, 'an e-mail address');
}

function hostName(key: string, value: unknown): string | undefined {
  const s = text(key, value);
  if (s === undefined || /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(s)) return s;
  return fail(key, value, 'a host name such as abc123-ats.iot.us-east-1.amazonaws.com (no scheme, no path)');
}
