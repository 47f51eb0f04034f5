/**
 * The system under test of the scale benchmark, alone in a child process so that its CPU time and
 * memory are its own: raw aedes (with the publish tap) or the full local stack. Configuration as JSON
 * in argv[2].
 *
 * Protocol (IPC): sends `{ type: 'ready', port, dataDir }`; on `{ type: 'measure' }` starts the
 * measured window (CPU, peak RSS every 250 ms, and for the stack each reading's publish-to-stored
 * latency); on `{ type: 'finish', stored }` waits until `stored` readings are in store.db (the stack),
 * ends the window, stops, and sends `{ type: 'done', result }`.
 */
import { performance } from 'node:perf_hooks';
import type { latencySummary } from '../report/stats.js';
import { latencySummary as summarize } from '../report/stats.js';
import type { RawBroker } from './raw-broker.js';
import { startRawBroker } from './raw-broker.js';
import type { PipelineTarget } from './pipeline.js';

export interface TargetConfig {
  readonly kind: 'raw' | 'pipeline';
}

export interface TargetResult {
  /** CPU time over the window, % of one core. */
  readonly cpuPct: number;
  readonly peakRssMiB: number;
  /** RSS when the window began (every device connected). */
  readonly startRssMiB: number;
  /** RSS before any device connected. */
  readonly idleRssMiB: number;
  readonly windowS: number;
  /** The stack only: reading ts to committed in store.db. */
  readonly storedLatencyMs: ReturnType<typeof latencySummary> | null;
  readonly stored: number | null;
}

export type TargetMessage =
  | { type: 'ready'; port: number; dataDir: string | null }
  | { type: 'done'; result: TargetResult }
  | { type: 'failed'; error: string };

const MiB = 1024 * 1024;

async function main(config: TargetConfig): Promise<void> {
  let raw: RawBroker | undefined;
  let stack: PipelineTarget | undefined;
  if (config.kind === 'raw') raw = await startRawBroker();
  // The stack's modules are loaded only when it is the target: the baseline process stays raw aedes.
  else stack = await (await import('./pipeline.js')).startPipeline({ publishers: 0 });
  const idleRssMiB = process.memoryUsage.rss() / MiB;
  let cpuStart = process.cpuUsage();
  let perfStart = performance.now();
  let startRssMiB = idleRssMiB;
  let peak = idleRssMiB;
  let sampler: NodeJS.Timeout | undefined;

  process.on('message', (message: { type?: string; stored?: number }) => {
    if (message.type === 'measure') {
      cpuStart = process.cpuUsage();
      perfStart = performance.now();
      startRssMiB = process.memoryUsage.rss() / MiB;
      peak = startRssMiB;
      sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss() / MiB)), 250);
      // Readings made before the window (buffered while their device was still connecting) would
      // count the connect storm as pipeline latency: only readings due from now on are timed.
      stack?.setSampling(true, Date.now());
      return;
    }
    if (message.type !== 'finish') return;
    (async () => {
      if (stack && message.stored !== undefined) await stack.whenStored(message.stored, 120_000);
      const cpu = process.cpuUsage(cpuStart);
      const windowMs = performance.now() - perfStart;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage.rss() / MiB);
      stack?.setSampling(false);
      const result: TargetResult = {
        cpuPct: ((cpu.user + cpu.system) / 1000 / windowMs) * 100,
        peakRssMiB: peak,
        startRssMiB,
        idleRssMiB,
        windowS: windowMs / 1000,
        storedLatencyMs: stack ? summarize(stack.storedLatencyMs) : null,
        stored: stack ? stack.stored() : null,
      };
      await (raw ?? stack)?.stop();
      process.send?.({ type: 'done', result } satisfies TargetMessage, () => process.exit(0));
    })().catch((error: unknown) => process.send?.({ type: 'failed', error: String(error) } satisfies TargetMessage, () => process.exit(1)));
  });
  process.send?.({ type: 'ready', port: raw?.port ?? (stack as PipelineTarget).port, dataDir: stack?.dataDir ?? null } satisfies TargetMessage);
}

if (process.send !== undefined && process.argv[2] !== undefined) {
  main(JSON.parse(process.argv[2]) as TargetConfig).catch((error: unknown) =>
    process.send?.({ type: 'failed', error: String(error) } satisfies TargetMessage, () => process.exit(1)),
  );
}
