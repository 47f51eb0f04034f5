/**
 * One worker of `npm run simulate -- --workers K`: a child process running its shard of the fleet
 * (simulator/workers.ts starts it). Over IPC it receives `{ type: 'run', options, progressIntervalMs }`,
 * sends `{ type: 'progress', snapshot }` at that interval (with the interval's latency histogram),
 * then `{ type: 'done', result }` (its summary and whole-run histogram) or `{ type: 'failed',
 * message, usage }`. `{ type: 'stop' }`, or losing the coordinator, ends the run early: drain, then
 * the summary, as an interrupted single process does.
 */
import { Writable } from 'node:stream';
import { ConfigError } from '../lambdas/domain/errors.js';
import { runFleetWithLatency } from './fleet.js';
import type { WorkerResult } from './merge.js';
import type { FleetOptions } from './options.js';
import type { FleetSnapshot } from './stats.js';

/** What the coordinator sends a worker. */
export type ToWorker = { readonly type: 'run'; readonly options: FleetOptions; readonly progressIntervalMs: number } | { readonly type: 'stop' };

/** What a worker sends the coordinator. */
export type FromWorker =
  | { readonly type: 'progress'; readonly snapshot: FleetSnapshot }
  | { readonly type: 'done'; readonly result: WorkerResult }
  | { readonly type: 'failed'; readonly message: string; readonly usage: boolean };

function send(message: FromWorker, then: () => void = () => undefined): void {
  process.send?.(message, then);
}

function run(options: FleetOptions, progressIntervalMs: number, signal: AbortSignal): void {
  // The fleet ticks progress only when it has somewhere to print; its lines are dropped, the snapshots sent.
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  runFleetWithLatency({
    ...options,
    signal,
    progress: { stream: discard, tty: false, intervalMs: progressIntervalMs },
    progressHistograms: true,
    onProgress: (snapshot) => send({ type: 'progress', snapshot: snapshot as FleetSnapshot }),
  }).then(
    (result) => send({ type: 'done', result }, () => process.exit(0)),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      send({ type: 'failed', message, usage: error instanceof ConfigError }, () => process.exit(1));
    },
  );
}

if (process.send !== undefined) {
  const abort = new AbortController();
  // Ctrl-C reaches the whole process group: the coordinator decides, and tells us with 'stop'.
  process.on('SIGINT', () => undefined);
  process.on('disconnect', () => abort.abort());
  process.on('message', (message: ToWorker) => {
    if (message.type === 'run') run(message.options, message.progressIntervalMs, abort.signal);
    else if (message.type === 'stop') abort.abort();
  });
}
