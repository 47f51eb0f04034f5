/**
 * What the stack's thread and the consumers' worker say to each other (channel.ts): one discriminated
 * union per direction, `WorkerInbox` and `HostInbox`, made of each side's events and calls. Each
 * side receives with an exhaustive switch on `kind`, so a message one side sends and the other does
 * not handle fails typecheck. A call's request and answer are typed together (`WorkerCalls`,
 * `HostCalls`). Everything here crosses by structured clone: plain data only.
 */
import type { ThresholdRules } from '../../../lambdas/domain/thresholds.js';
import type { AlarmEvent } from '../../../lambdas/domain/model.js';
import type { AlarmCommandEnvelope } from '../../../lambdas/alarm-commands/alarm-commands-handler.js';
import type { CommandOutcome, CommandReplyBody } from '../../../lambdas/ports/command-replies.js';
import type { FailureWrite } from '../stream/index.js';
import type { IngestBatchCommitted } from './compose.js';
import type { PackedRecords } from './record-batch.js';
import { ChannelEnd } from './channel.js';
import type { Call, CallMessage, ChannelPort } from './channel.js';

/** The worker's start-up data. */
export interface WorkerConfig {
  readonly streamFile: string;
  readonly storeFile: string;
  /** The worker's store connection fsyncs before alarm events leave (SqliteStoreOptions.durableNotifications). */
  readonly durableNotifications: boolean;
  /** The rules in force when it starts (a restarted worker gets those in force then). */
  readonly thresholds: ThresholdRules;
  readonly webhookUrl?: string;
  /** Send an `ingestBatch` event after each ingest write (benchmarks). */
  readonly reportIngestBatches: boolean;
}

/** What the stack needs of an offline check run (the use case's SilenceCheckOutcome says more). */
export interface SilenceCheckSummary {
  readonly checked: number;
  readonly raised: number;
}

/** What the stack's thread asks of the worker. */
export type WorkerCalls = {
  /** Run the silent-device check now (it also sends reminders and ends snoozes). */
  checkSilence: Call<Record<never, never>, SilenceCheckSummary>;
  /** Run the alarm-commands handler on one command rule event; an error is the function's error. */
  alarmCommand: Call<{ readonly event: AlarmCommandEnvelope }, null>;
  /** These rules are in force from the next invocation on (the thresholds file changed). */
  rulesChanged: Call<{ readonly rules: ThresholdRules }, null>;
  /** Drain for at most `drainTimeoutMs`, save checkpoints, close the store. */
  stop: Call<{ readonly drainTimeoutMs: number }, null>;
};

export interface CommandReplyCall {
  readonly deviceId: string;
  readonly outcome: CommandOutcome;
  readonly body: CommandReplyBody;
}

/** What the worker asks of the stack's thread (it has no broker). */
export type HostCalls = {
  /** Publish these alarm events on the broker, in order. */
  notify: Call<{ readonly events: readonly AlarmEvent[] }, null>;
  /** Publish this alarm command reply on the broker. */
  commandReply: Call<CommandReplyCall, null>;
};

/** stack -> worker, one way: the records of one commit (transferred buffers). */
export type HostEvent = { readonly kind: 'appended'; readonly records: PackedRecords };

export interface CheckpointEvent {
  readonly kind: 'checkpoint';
  readonly consumer: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

export interface FailureEvent {
  readonly kind: 'failure';
  readonly consumer: string;
  readonly entry: FailureWrite;
}

export interface LogEvent {
  readonly kind: 'log';
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly extra?: Record<string, unknown>;
}

/** worker -> stack, one way. */
export type WorkerEvent =
  /** The consumers are running. */
  | { readonly kind: 'ready' }
  /** Save this checkpoint (with the next group commit). */
  | CheckpointEvent
  /** Write this on-failure destination entry (before any checkpoint that passes it). */
  | FailureEvent
  | LogEvent
  /** Every counter, by name. */
  | { readonly kind: 'metrics'; readonly counters: Readonly<Record<string, number>> }
  /** An ingest write committed (benchmarks). */
  | { readonly kind: 'ingestBatch'; readonly batch: IngestBatchCommitted };

/** The stack's end: sends host events, calls and answers; receives the worker's. */
export type HostEnd = ChannelEnd<HostEvent, WorkerCalls, WorkerEvent, HostCalls>;
/** The worker's end: sends worker events, calls and answers; receives the stack's. */
export type WorkerEnd = ChannelEnd<WorkerEvent, HostCalls, HostEvent, WorkerCalls>;

/** What the stack's thread handles: every event and call the worker sends. */
export type HostInbox = WorkerEvent | CallMessage<HostCalls>;
/** What the worker handles: every event and call the stack's thread sends. */
export type WorkerInbox = HostEvent | CallMessage<WorkerCalls>;

export function hostEnd(worker: ChannelPort, receive: (message: HostInbox) => void): HostEnd {
  return new ChannelEnd(worker, receive);
}

export function workerEnd(port: ChannelPort, receive: (message: WorkerInbox) => void): WorkerEnd {
  return new ChannelEnd(port, receive);
}
