/**
 * `npm run bench`: the pipeline's speed and the cost of its growth, each figure the median of at
 * least 3 runs and set beside a baseline measured in the same run, so the ratios hold on a loaded
 * machine where absolute figures do not.
 *
 *   npm run bench                    the full run (about 12 minutes on 2 cores)
 *   npm run bench -- --quick         small sizes, under a minute (CI runs it)
 *   npm run bench -- --json          `{ machine, profile, durationS, results: [{ name, value, unit, baseline, ratio, runs }] }` on stdout
 *   npm run bench -- --only broker latency
 *
 * Progress goes to stderr, results to stdout. The exit code is non-zero only when a benchmark fails
 * (an error, a reading not stored), never because a figure is slow; 2 for a bad flag.
 *
 * The parts, by kind: targets/ (what is measured: raw aedes, the local stack, the scale section's
 * forked target, per-thread CPU), load/ (the MQTT publishers, the simulated fleet, the records),
 * sections/ (one file per `--only` section), report/ (the one result type, the statistics, the one
 * table). bench/stages.ts and bench/consumers.ts measure parts of the stack alone.
 */
import { freemem } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { Option } from 'commander';
import { runCli } from '../infra/cli/cli-support.js';
import { benchCommand, progressToStderr } from './cli.js';
import { PROFILES } from './profiles.js';
import type { BenchFigure } from './report/figure.js';
import { machineInfo } from './report/machine.js';
import { round } from './report/stats.js';
import type { BenchReport } from './report/table.js';
import { renderReport } from './report/table.js';
import { brokerSection } from './sections/broker.js';
import { dynamodbSection } from './sections/dynamodb.js';
import { latencySection } from './sections/latency.js';
import { scaleSection } from './sections/scale.js';
import type { Section, SectionRunner, SharedRuns } from './sections/section.js';
import { SECTIONS } from './sections/section.js';
import { shardsSection } from './sections/shards.js';
import { storeSection } from './sections/store.js';
import { useCasesSection } from './sections/use-cases.js';

/** Each runner with the `--only` names that run it, in the order they run. */
const RUNNERS: readonly (readonly [readonly Section[], SectionRunner])[] = [
  [['use-cases'], useCasesSection],
  [['dynamodb'], dynamodbSection],
  [['store'], storeSection],
  [['broker', 'durability'], brokerSection],
  [['latency'], latencySection],
  [['scale'], scaleSection],
  [['shards'], shardsSection],
];

export interface BenchOptions {
  readonly quick: boolean;
  readonly only?: readonly Section[];
  readonly progress: (line: string) => void;
}

/** Progress lines with the seconds since `started`: where the time goes is worth seeing in CI logs. */
function timedProgress(started: number, progress: (line: string) => void): (line: string) => void {
  return (line) => progress(`[${round((performance.now() - started) / 1000, 1).toFixed(1).padStart(6)} s] ${line}`);
}

/** Runs the chosen sections in a fixed order and collects every figure. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const profileName = options.quick ? 'quick' : 'full';
  const chosen = new Set<Section>(options.only ?? SECTIONS);
  const started = performance.now();
  const progress = timedProgress(started, options.progress);
  const machine = machineInfo();
  progress(`npm run bench (${profileName}): ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage1m}, ${round(freemem() / 1024 ** 3, 1)} GiB free`);
  const shared: SharedRuns = {};
  const results: BenchFigure[] = [];
  for (const [names, run] of RUNNERS) {
    if (names.some((name) => chosen.has(name))) results.push(...(await run({ profile: PROFILES[profileName], chosen, shared, progress })));
  }
  const durationS = round((performance.now() - started) / 1000, 1);
  progress(`done in ${durationS} s`);
  return { machine, profile: profileName, durationS, results };
}

export function buildBenchCommand(): Command {
  return benchCommand('bench', 'benchmarks of the local pipeline, each against a baseline measured in the same run')
    .option('--quick', 'small sizes, under a minute (what CI runs)')
    .addOption(new Option('--only <sections...>', 'run only these sections').choices(SECTIONS))
    .action(async (flags: { quick?: boolean; json?: boolean; only?: Section[] }) => {
      const report = await runBench({ quick: flags.quick ?? false, ...(flags.only === undefined ? {} : { only: flags.only }), progress: progressToStderr });
      process.stdout.write(`${renderReport(report, flags.json ?? false)}\n`);
      // Children and servers are closed; nothing should keep the process, but a stray handle must not hang CI.
      process.exit(0);
    });
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('bench/main.ts')) {
  await runCli(buildBenchCommand());
}
