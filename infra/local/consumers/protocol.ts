/** What the stack's thread and the consumers' worker say to each other (see channel.ts). */
import type { ThresholdRules } from '../../../lambdas/domain/thresholds.js';
import type { FailureWrite } from '../stream/index.js';
import type { CommandOutcome, CommandReplyBody } from '../../../lambdas/ports/command-replies.js';

/** The worker's start-up data (structured-cloned: plain data only). */
export interface WorkerConfig {
  readonly streamFile: string;
  readonly storeFile: string;
  /** The worker's store connection fsyncs before alarm events leave (SqliteStoreOptions.durableNotifications). */
  readonly durableNotifications: boolean;
  readonly thresholds: ThresholdRules;
  readonly webhookUrl?: string;
  /** Send an `ingestBatch` event after each ingest write (benchmarks). */
  readonly reportIngestBatches: boolean;
}

export const EVENTS = {
  /** worker -> stack: the consumers are running. */
  ready: 'ready',
  /** stack -> worker: the records of one commit (PackedRecords). */
  appended: 'appended',
  /** worker -> stack: save this checkpoint (CheckpointEvent). */
  checkpoint: 'checkpoint',
  /** worker -> stack: write this on-failure destination entry (FailureEvent). */
  failure: 'failure',
  /** worker -> stack: a log line (LogEvent). */
  log: 'log',
  /** worker -> stack: every counter, by name. */
  metrics: 'metrics',
  /** worker -> stack: an ingest write committed (IngestBatchCommitted). */
  ingestBatch: 'ingestBatch',
} as const;

export const CALLS = {
  /** worker -> stack: publish these alarm events on the broker, in order (AlarmEvent[]). */
  notify: 'notify',
  /** stack -> worker: run the silent-device check now. */
  checkSilence: 'checkSilence',
  /** stack -> worker: drain ({ drainTimeoutMs }), save checkpoints, close the store. */
  stop: 'stop',
  /** stack -> worker: run the alarm-commands handler on one command rule event (AlarmCommandEnvelope). */
  alarmCommand: 'alarmCommand',
  /** worker -> stack: publish this command reply on the broker (CommandReplyCall). */
  commandReply: 'commandReply',
} as const;

export interface CommandReplyCall {
  readonly deviceId: string;
  readonly outcome: CommandOutcome;
  readonly body: CommandReplyBody;
}

export interface CheckpointEvent {
  readonly consumer: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

export interface FailureEvent {
  readonly consumer: string;
  readonly entry: FailureWrite;
}

export interface LogEvent {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly extra?: Record<string, unknown>;
}
