/**
 * The consumers' worker thread: both event source mappings, their handlers, the alarm notifiers and
 * the silent-device check, on their own thread and their own connections (store.db for writing,
 * stream.db for reading), so the broker's thread only receives, evaluates the rule and appends.
 * Started by host.ts; everything it must not do itself (write stream.db, publish on the broker) it
 * asks of the stack's thread over the channel.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../../../lambdas/ports/clock.js';
import type { Log } from '../../../lambdas/ports/observability.js';
import { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import { CounterMetrics } from '../../../lambdas/adapters/local/observability.js';
import { StreamReader } from '../stream/index.js';
import { Channel } from './channel.js';
import { composeConsumers } from './compose.js';
import type { IngestBatchCommitted } from './compose.js';
import { CALLS, EVENTS } from './protocol.js';
import type { CommandReplyCall, LogEvent, WorkerConfig } from './protocol.js';
import type { AlarmCommandEnvelope } from '../../../lambdas/alarm-commands/alarm-commands-handler.js';
import type { AlarmEvent } from '../../../lambdas/domain/model.js';
import { WorkerStream } from './worker-stream.js';
import { InvariantError } from '../../../lambdas/domain/errors.js';

if (parentPort === null) throw new InvariantError('infra/local/consumers/worker.ts runs only as a worker thread');
const config = workerData as WorkerConfig;
const channel = new Channel(parentPort);

function send(level: LogEvent['level'], message: string, extra?: Record<string, unknown>): void {
  try {
    channel.emit(EVENTS.log, { level, message, ...(extra === undefined ? {} : { extra }) } satisfies LogEvent);
  } catch {
    // Something in `extra` cannot be cloned (a function, a socket): send it as text instead.
    channel.emit(EVENTS.log, { level, message, extra: { detail: String(JSON.stringify(extra, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))) } } satisfies LogEvent);
  }
}
const log: Log = {
  debug: (message, extra) => send('debug', message, extra),
  info: (message, extra) => send('info', message, extra),
  warn: (message, extra) => send('warn', message, extra),
  error: (message, extra) => send('error', message, extra),
};

const metrics = new CounterMetrics();
let sentMetrics = '';
/** Sends the counters if they changed: before each checkpoint, so the stack's figures are never behind its progress. */
function sendMetrics(): void {
  const snapshot = metrics.snapshot();
  const text = JSON.stringify(snapshot);
  if (text === sentMetrics) return;
  sentMetrics = text;
  channel.emit(EVENTS.metrics, snapshot);
}

const reader = StreamReader.open(config.streamFile);
const store = SqliteStore.open(config.storeFile, { durableNotifications: config.durableNotifications });
const consumers = composeConsumers({
  stream: new WorkerStream(reader, channel, { beforeCheckpoint: sendMetrics }),
  store,
  thresholds: config.thresholds,
  // The broker is on the stack's thread: one call per notify (a batch's events, in order), not per event.
  brokerNotifier: {
    notify: async (events: readonly AlarmEvent[]) => {
      if (events.length > 0) await channel.call(CALLS.notify, events);
    },
  },
  // Command replies too: the worker has no broker.
  commandReplies: {
    publishReply: async (deviceId, outcome, body) => {
      await channel.call(CALLS.commandReply, { deviceId, outcome, body } satisfies CommandReplyCall);
    },
  },
  ...(config.webhookUrl === undefined ? {} : { webhookUrl: config.webhookUrl }),
  metrics,
  log,
  clock: systemClock,
  ...(config.reportIngestBatches ? { onIngestBatch: (batch: IngestBatchCommitted) => channel.emit(EVENTS.ingestBatch, batch) } : {}),
});

channel.onCall(CALLS.checkSilence, async () => {
  const outcome = await consumers.checkSilence();
  sendMetrics();
  return outcome;
});
channel.onCall(CALLS.alarmCommand, async (event) => {
  await consumers.applyAlarmCommand(event as AlarmCommandEnvelope);
  sendMetrics();
});
channel.onCall(CALLS.stop, async (args) => {
  const { drainTimeoutMs } = args as { drainTimeoutMs: number };
  await consumers.stop({ drainTimeoutMs });
  sendMetrics();
  store.close();
  reader.close();
});

consumers.start();
channel.emit(EVENTS.ready, null);
