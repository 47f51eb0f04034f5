/**
 * The consumers' worker thread: both event source mappings, their handlers, the alarm notifiers and
 * the silent-device check, on their own thread and their own connections (store.db for writing,
 * stream.db for reading), so the broker's thread only receives, evaluates the rule and appends.
 * Started by host.ts; everything it must not do itself (write stream.db, publish on the broker) it
 * asks of the stack's thread over the channel (protocol.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../../../lambdas/ports/clock.js';
import type { Log } from '../../../lambdas/ports/observability.js';
import { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import { CounterMetrics } from '../../../lambdas/adapters/local/observability.js';
import { StreamReader } from '../stream/index.js';
import { SwappableThresholds } from '../thresholds/swappable-thresholds.js';
import { unhandled } from './channel.js';
import { composeConsumers } from './compose.js';
import type { Consumers, IngestBatchCommitted } from './compose.js';
import { workerEnd } from './protocol.js';
import type { WorkerInbox, LogEvent, WorkerConfig } from './protocol.js';
import { WorkerStream } from './worker-stream.js';
import { InvariantError } from '../../../lambdas/domain/errors.js';

if (parentPort === null) throw new InvariantError('infra/local/consumers/worker.ts runs only as a worker thread');
const config = workerData as WorkerConfig;
const channel = workerEnd(parentPort, (message) => receive(message));

function send(level: LogEvent['level'], message: string, extra?: Record<string, unknown>): void {
  try {
    channel.emit({ kind: 'log', level, message, ...(extra === undefined ? {} : { extra }) });
  } catch {
    // Something in `extra` cannot be cloned (a function, a socket): send it as text instead.
    channel.emit({ kind: 'log', level, message, extra: { detail: String(JSON.stringify(extra, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))) } });
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
  channel.emit({ kind: 'metrics', counters: snapshot });
}

const reader = StreamReader.open(config.streamFile);
const store = SqliteStore.open(config.storeFile, { durableNotifications: config.durableNotifications });
const stream = new WorkerStream(reader, channel, { beforeCheckpoint: sendMetrics });
const rules = new SwappableThresholds(config.thresholds);
const consumers: Consumers = composeConsumers({
  stream,
  store,
  rules,
  // The broker is on the stack's thread: one call per notify (a batch's events, in order), not per event.
  brokerNotifier: {
    notify: async (events) => {
      if (events.length > 0) await channel.call('notify', { events });
    },
  },
  // Command replies too: the worker has no broker.
  commandReplies: {
    publishReply: async (deviceId, outcome, body) => {
      await channel.call('commandReply', { deviceId, outcome, body });
    },
  },
  ...(config.webhookUrl === undefined ? {} : { webhookUrl: config.webhookUrl }),
  metrics,
  log,
  clock: systemClock,
  ...(config.reportIngestBatches ? { onIngestBatch: (batch: IngestBatchCommitted) => channel.emit({ kind: 'ingestBatch', batch }) } : {}),
});

/** Everything the stack's thread sends, by kind. */
function receive(message: WorkerInbox): void {
  switch (message.kind) {
    case 'appended':
      return stream.received(message.records);
    case 'checkSilence':
      return channel.answer(message, async () => {
        const outcome = await consumers.checkSilence();
        sendMetrics();
        return outcome;
      });
    case 'alarmCommand':
      return channel.answer(message, async () => {
        await consumers.applyAlarmCommand(message.event);
        sendMetrics();
        return null;
      });
    case 'rulesChanged':
      return channel.answer(message, () => {
        rules.replace(message.rules);
        return null;
      });
    case 'stop':
      return channel.answer(message, async () => {
        await consumers.stop({ drainTimeoutMs: message.drainTimeoutMs });
        sendMetrics();
        store.close();
        reader.close();
        return null;
      });
    default:
      return unhandled(message);
  }
}

consumers.start();
channel.emit({ kind: 'ready' });
