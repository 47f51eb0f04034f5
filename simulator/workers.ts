/**
 * `npm run simulate -- --workers K|auto`: the fleet split across K child processes (simulator/worker.ts),
 * each under the open-file limit, with one merged progress line, one summary and one `--json` object
 * (simulator/merge.ts). Locally the coordinator registers the whole fleet once and hands each worker
 * its devices' passwords; each worker runs a shard of the one fleet (same ids, readings, anomalies
 * and ramp slots as one process), connects at its share of the connect rate, and verifies its own
 * acknowledged readings; only the first counts alarms, for every device.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { deviceIdOf } from './backoff.js';
import { openFileLimit } from './connection.js';
import { SimulatorError, SimulatorUsageError } from './errors.js';
import { mergeSnapshots, mergeSummaries } from './merge.js';
import type { WorkerResult } from './merge.js';
import type { FleetOptions, ResolvedFleetOptions } from './options.js';
import { resolveFleetOptions } from './options.js';
import { kindOf } from './profiles/index.js';
import { ProgressPrinter } from './progress.js';
import { registerFleet } from './registration.js';
import type { FleetSnapshot } from './stats.js';
import type { FleetSummary } from './summary.js';
import type { FromWorker, ToWorker } from './worker.js';

/** Sockets a worker keeps for itself besides its devices' (the operator, stdio, IPC, files). */
const FILE_HEADROOM = 256;
/** Devices per worker with `auto` when the open-file limit allows more: about one core's worth here. */
const AUTO_DEVICES_PER_WORKER = 10_000;

/**
 * How many workers: `auto` picks enough that each stays under the open-file limit (and at most
 * {@link AUTO_DEVICES_PER_WORKER} devices each); a number is checked against the fleet.
 */
export function workerCount(requested: number | 'auto', devices: number, fileLimit: number | undefined): number {
  if (requested === 'auto') {
    const perWorker = Math.max(1, Math.min(AUTO_DEVICES_PER_WORKER, (fileLimit ?? Number.POSITIVE_INFINITY) - FILE_HEADROOM));
    return Math.ceil(devices / perWorker);
  }
  if (!Number.isInteger(requested) || requested < 1) throw new SimulatorUsageError('--workers', `expected a whole number of 1 or more, or auto, got ${requested}`);
  if (requested > devices) throw new SimulatorUsageError('--workers', `${requested} workers for ${devices} devices: at most one worker per device`);
  return requested;
}

/** Splits `devices` into `workers` contiguous shards, the first ones one device larger when it does not divide. */
export function shardsOf(devices: number, workers: number): { first: number; count: number }[] {
  const base = Math.floor(devices / workers);
  const extra = devices % workers;
  const shards: { first: number; count: number }[] = [];
  let first = 0;
  for (let k = 0; k < workers; k++) {
    const count = base + (k < extra ? 1 : 0);
    shards.push({ first, count });
    first += count;
  }
  return shards;
}

/** Registers the whole fleet (and the operator) once, locally, and returns the passwords. */
async function registerAll(o: ResolvedFleetOptions, progress: ProgressPrinter | undefined): Promise<Map<string, string> | undefined> {
  if (o.target !== 'local' || o.dataDir === undefined || !o.register) return undefined;
  progress?.note(`registering ${o.devices} devices in ${o.dataDir}/devices.db...`);
  const credentials = await registerFleet({
    dataDir: o.dataDir,
    devices: Array.from({ length: o.devices }, (_, i) => ({ deviceId: deviceIdOf(o.prefix, i), type: kindOf(o.profile, i) })),
    ...(o.alarms ? { operatorId: `${o.prefix}-operator` } : {}),
  });
  return new Map(credentials);
}

/** The options one worker runs with: the fleet's, its shard, its passwords and its share of the connect rate. */
function workerOptions(
  options: FleetOptions,
  o: ResolvedFleetOptions,
  shard: { first: number; count: number },
  k: number,
  workers: number,
  credentials: Map<string, string> | undefined,
): FleetOptions {
  const { signal: _signal, onProgress: _onProgress, progress: _progress, ...plain } = options;
  let mine: Record<string, string> | undefined;
  if (credentials !== undefined) {
    mine = {};
    for (let i = shard.first; i < shard.first + shard.count; i++) {
      const id = deviceIdOf(o.prefix, i);
      const password = credentials.get(id);
      if (password !== undefined) mine[id] = password;
    }
    const operator = credentials.get(`${o.prefix}-operator`);
    if (k === 0 && operator !== undefined) mine[`${o.prefix}-operator`] = operator;
  }
  return {
    ...plain,
    seed: o.seed,
    endpoint: o.endpoint,
    topic: o.topic,
    shard,
    alarms: o.alarms && k === 0,
    ...(o.connectRate === undefined ? {} : { connectRate: o.connectRate / workers }),
    ...(mine === undefined ? {} : { credentials: mine, register: false }),
  };
}

/** A started worker: its process and the promise of its result. */
interface Running {
  readonly child: ChildProcess;
  readonly result: Promise<WorkerResult>;
  latest: FleetSnapshot | undefined;
  /** A snapshot came since the last merged line. */
  fresh: boolean;
}

function startWorker(k: number, options: FleetOptions, progressIntervalMs: number, onSnapshot: (s: FleetSnapshot) => void): Running {
  const child = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const result = new Promise<WorkerResult>((resolve, reject) => {
    let settled = false;
    child.on('message', (message: FromWorker) => {
      if (message.type === 'progress') onSnapshot(message.snapshot);
      else if (message.type === 'done') {
        settled = true;
        resolve(message.result);
      } else {
        settled = true;
        reject(message.usage ? new SimulatorUsageError(`worker ${k + 1}`, message.message) : new SimulatorError(`worker ${k + 1}: ${message.message}`));
      }
    });
    child.on('exit', (code, signal) => {
      if (!settled) reject(new SimulatorError(`worker ${k + 1} ended without a summary (${signal ?? `exit code ${code}`})`));
    });
  });
  const run: ToWorker = { type: 'run', options, progressIntervalMs };
  child.send(run);
  return { child, result, latest: undefined, fresh: false };
}

/** Runs the fleet across worker processes and returns the one merged summary. */
export async function runWorkers(options: FleetOptions, requested: number | 'auto'): Promise<FleetSummary & { readonly workers: number }> {
  return (await runWorkersDetailed(options, requested)).summary;
}

/** {@link runWorkers}, with each worker's own result too (tests compare the merge with its parts). */
export async function runWorkersDetailed(
  options: FleetOptions,
  requested: number | 'auto',
): Promise<{ readonly summary: FleetSummary & { readonly workers: number }; readonly workers: readonly WorkerResult[] }> {
  const o = resolveFleetOptions(options);
  const workers = workerCount(requested, o.devices, openFileLimit());
  const progress = o.progress === undefined ? undefined : new ProgressPrinter(o.progress);
  const credentials = await registerAll(o, progress);
  progress?.note(`${workers} worker${workers === 1 ? '' : 's'} for ${o.devices} devices`);
  const intervalMs = o.progress?.intervalMs ?? progress?.defaultIntervalMs ?? 1000;
  const running = shardsOf(o.devices, workers).map((shard, k) => {
    const worker: Running = startWorker(k, workerOptions(options, o, shard, k, workers, credentials), intervalMs, (snapshot) => {
      worker.latest = snapshot;
      worker.fresh = true;
    });
    return worker;
  });
  const stop = (): void => {
    for (const w of running) if (w.child.connected) w.child.send({ type: 'stop' } satisfies ToWorker);
  };
  o.signal?.addEventListener('abort', stop);
  const ticker = setInterval(() => {
    // A worker too busy to report leaves its last snapshot; without any new one, a line would only repeat.
    if (!running.some((w) => w.fresh)) return;
    for (const w of running) w.fresh = false;
    const latest = running.map((w) => w.latest).filter((s): s is FleetSnapshot => s !== undefined);
    const merged = mergeSnapshots(latest);
    progress?.print(merged);
    o.onProgress?.(merged);
  }, intervalMs);
  try {
    const results = await Promise.all(running.map((w) => w.result));
    return { summary: mergeSummaries(results), workers: results };
  } catch (error) {
    for (const w of running) if (w.child.exitCode === null) w.child.kill('SIGTERM');
    throw error;
  } finally {
    clearInterval(ticker);
    progress?.finish();
    o.signal?.removeEventListener('abort', stop);
  }
}
