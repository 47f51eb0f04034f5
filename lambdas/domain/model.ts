/**
 * The domain's vocabulary: what flows through the pipeline. Types only; no I/O, no AWS.
 * See docs/architecture.md ("Contracts") and README.md ("Contracts") for what these encode.
 */

export const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * An alarm's lifecycle states (docs/architecture.md, "Alarm lifecycle"). OK and ALARM are decided by
 * readings and time; ACKNOWLEDGED, SNOOZED and DISABLED by an operator's command; LATCHED by a
 * `latch` rule that cleared without having been acknowledged.
 */
export const ALARM_STATES = {
  OK: 'OK',
  ALARM: 'ALARM',
  ACKNOWLEDGED: 'ACKNOWLEDGED',
  LATCHED: 'LATCHED',
  SNOOZED: 'SNOOZED',
  DISABLED: 'DISABLED',
} as const;
export type AlarmStatus = (typeof ALARM_STATES)[keyof typeof ALARM_STATES];

/** What an operator may ask of one alarm (the `action` of a command on cmd/fleet/alarms/{deviceId}). */
export const ALARM_COMMAND_ACTIONS = ['acknowledge', 'snooze', 'disable', 'enable', 'reset'] as const;
export type AlarmCommandAction = (typeof ALARM_COMMAND_ACTIONS)[number];
/** What caused an event: an operator's command, a reminder of an unacknowledged alarm, or null (readings, time). */
type AlarmEventAction = AlarmCommandAction | 'reminder';

/** Limits from the telemetry contract (128 KiB is IoT Core's message size limit). */
export const TELEMETRY_LIMITS = {
  maxPayloadBytes: 128 * 1024,
  maxMetrics: 100,
  metricName: /^[A-Za-z0-9_.-]{1,64}$/,
  deviceId: /^[A-Za-z0-9_:-]{1,128}$/,
} as const;

/**
 * What the IoT rule puts on the stream for every message (pipeline.rule.sql): the original bytes,
 * base64, with what the rules engine knew when it received them.
 */
export interface StreamEnvelope {
  readonly payload: string;
  readonly topic: string;
  readonly clientId: string;
  /** Epoch ms as seen by the rules engine: the reading's time when the payload has no `ts`. */
  readonly receivedAt: number;
}

/** One valid reading, decoded from one stream record. */
export interface Reading {
  readonly deviceId: string;
  /** Event time, epoch ms. */
  readonly ts: number;
  readonly seq?: number;
  readonly type?: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly receivedAt: number;
}

/** Where a record sits on the stream: enough to report it as a batch item failure or find it again. */
export interface RecordRef {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** Epoch ms. */
  readonly approximateArrivalTimestamp: number;
}

/** One stream record as the use cases see it: its place and its raw data (the envelope's bytes). */
export interface StreamRecord {
  readonly ref: RecordRef;
  readonly data: Uint8Array;
}

/** A message that can never be stored, kept with its reason. Never retried. */
export interface RejectedMessage {
  /** Names the field, e.g. `metrics.temperature: not a finite number`. */
  readonly reason: string;
  /** `decode`: broke the telemetry contract; `store`: the time-series store refused it for a data reason. */
  readonly stage: 'decode' | 'store';
  readonly deviceId?: string;
  readonly topic?: string;
  /** The original payload, base64 (or the raw record data when the envelope itself was unreadable). */
  readonly payload: string;
  readonly record: RecordRef;
  /** Epoch ms. */
  readonly rejectedAt: number;
}

/** Published on alarms/fleet/{deviceId}, and to SNS / the webhook: one per transition. */
export interface AlarmEvent {
  /** `${deviceId}/${ruleId}` */
  readonly alarmId: string;
  readonly deviceId: string;
  readonly ruleId: string;
  /** The metric the rule watches; null for a `silentFor` rule. */
  readonly metric: string | null;
  readonly state: AlarmStatus;
  readonly previousState: AlarmStatus;
  readonly severity: Severity;
  /**
   * The value that caused the transition: the metric for a comparison; the change for risesBy / fallsBy;
   * the seconds held (unchangedFor) or of silence (silentFor, metricSilentFor) on a raise, null on
   * their clear; null for a command.
   */
  readonly value: number | null;
  /**
   * What `value` was compared with: the `when` threshold on raise, the `clear` bound (or the `when`
   * threshold) on clear; for a threshold read from another metric, that metric's value in the same
   * reading; risesBy / fallsBy: the amount; unchangedFor, silentFor, metricSilentFor: the rule's
   * seconds. Null only when the threshold is another metric and no
   * reading was compared (a command, a snooze's end) and the rule remembers none from its raise.
   */
  readonly threshold: number | null;
  /** Event time of the transition, epoch ms. */
  readonly ts: number;
  /** The command that made this transition, `reminder`, or null for an automatic transition. */
  readonly action: AlarmEventAction | null;
  /** The MQTT client id of the operator whose command this is; null otherwise. */
  readonly by: string | null;
  /** The operator's note; null when none was given or for automatic transitions. */
  readonly note: string | null;
  /** Only on a reminder: the alarm is still ALARM and unacknowledged (state and previousState ALARM). */
  readonly reminder?: true;
}

/** The outcome of a use case over one batch: the records a retry can fix. */
export interface BatchOutcome {
  readonly failed: readonly RecordRef[];
}
