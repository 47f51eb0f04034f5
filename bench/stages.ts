/**
 * Where the pipeline's time goes: the same QoS 1 flood (load/publisher.ts, in its own process)
 * against partial compositions of the local stack in this process (targets/stage-stack.ts: `raw`,
 * `ack`, `ingest`, `alarms`, `both`), each reporting the acknowledged rate and this process's CPU
 * microseconds per message; the `raw` stage, when run, is every other stage's baseline.
 *
 * A measurement aid, not part of `npm run bench`:
 *   npx tsx bench/stages.ts [--messages-per-client N] [--runs N] [--stages raw,ack] [--durability full|normal|off] [--json]
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Option } from 'commander';
import { runCli } from '../infra/cli/cli-support.js';
import type { Durability } from '../infra/local/stream/index.js';
import { benchCommand, listOption, positiveIntegerOption, progressToStderr } from './cli.js';
import { flood } from './load/flood.js';
import type { BenchFigure } from './report/figure.js';
import { figure } from './report/figure.js';
import { machineInfo } from './report/machine.js';
import { median, round } from './report/stats.js';
import { renderReport } from './report/table.js';
import type { Stage } from './targets/stage-stack.js';
import { STAGES, startStage } from './targets/stage-stack.js';

export interface StageRun {
  readonly stage: Stage;
  /** Publishes acknowledged per second. */
  readonly ackedPerS: number;
  /** Messages per second until every consumer of the stage had caught up. */
  readonly donePerS: number;
  /** This process's CPU time per message, microseconds. */
  readonly cpuUsPerMessage: number;
}

export interface StageOptions {
  readonly clients: number;
  readonly messagesPerClient: number;
  readonly inflight: number;
  /** The stream's durability ('normal': no fsync before an append resolves, to see what waiting for the disk costs). */
  readonly durability: Durability;
}

/** One flood of `clients` x `messagesPerClient` QoS 1 messages against one stage; CPU from the first publish until the consumers caught up. */
export async function runStage(stage: Stage, options: StageOptions): Promise<StageRun> {
  const target = await startStage(stage, options.clients, options.durability);
  try {
    const { result, cpuStart, perfStart } = await flood(target.url, target.clients, options);
    await target.settle();
    const seconds = (performance.now() - perfStart) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    return {
      stage,
      ackedPerS: result.acked / ((result.lastAckAt - result.firstPublishAt) / 1000),
      donePerS: result.acked / seconds,
      cpuUsPerMessage: (cpu.user + cpu.system) / result.acked,
    };
  } finally {
    await target.stop();
  }
}

/** Two figures per stage: the acknowledged rate and the CPU per message, against the `raw` stage when it ran. */
export function stageFigures(byStage: ReadonlyMap<Stage, readonly StageRun[]>): BenchFigure[] {
  const raw = byStage.get('raw');
  const of = (runs: readonly StageRun[] | undefined, pick: (run: StageRun) => number) => (runs === undefined ? null : runs.map(pick));
  return [...byStage].flatMap(([stage, runs]) => [
    figure(`stage ${stage}: acked`, 'msg/s', runs.map((r) => r.ackedPerS), of(raw, (r) => r.ackedPerS), {
      note: `publishes acknowledged/s; donePerS: messages/s until every consumer had caught up${raw === undefined ? '' : '; baseline: the raw stage'}`,
      detail: { donePerS: round(median(runs.map((r) => r.donePerS))) },
    }),
    figure(`stage ${stage}: CPU per message`, 'us', runs.map((r) => r.cpuUsPerMessage), of(raw, (r) => r.cpuUsPerMessage), { digits: 1 }),
  ]);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runCli(
    benchCommand('stages', 'the same QoS 1 flood against partial compositions of the local stack, CPU per message of each')
      .addOption(positiveIntegerOption('--runs <n>', 'runs of each stage', 3))
      .addOption(positiveIntegerOption('--messages-per-client <n>', 'messages each of the 100 publishers sends', 1_000))
      .addOption(listOption('--stages <list>', 'only these stages, in this order', STAGES).default(STAGES))
      .addOption(new Option('--durability <mode>', "the stream's durability").choices(['full', 'normal', 'off']).default('full'))
      .action(async (flags: { runs: number; messagesPerClient: number; stages: readonly Stage[]; durability: Durability; json?: boolean }) => {
        const options: StageOptions = { clients: 100, messagesPerClient: flags.messagesPerClient, inflight: 16, durability: flags.durability };
        const machine = machineInfo();
        const started = performance.now();
        const byStage = new Map<Stage, StageRun[]>(flags.stages.map((s) => [s, []]));
        for (let i = 0; i < flags.runs; i++) {
          for (const stage of flags.stages) {
            const run = await runStage(stage, options);
            byStage.get(stage)?.push(run);
            progressToStderr(`run ${i + 1} ${stage}: acked ${Math.round(run.ackedPerS)}/s, done ${Math.round(run.donePerS)}/s, ${round(run.cpuUsPerMessage, 1)} us CPU per message`);
          }
        }
        const durationS = round((performance.now() - started) / 1000, 1);
        process.stdout.write(`${renderReport({ machine, profile: `stages (durability ${flags.durability})`, durationS, results: stageFigures(byStage) }, flags.json ?? false)}\n`);
        process.exit(0);
      }),
  );
}
