/**
 * `npm run bench`: the pipeline's speed and the cost of its growth, each figure the median of at
 * least 3 runs and set beside a baseline measured in the same run, so the ratios hold on a loaded
 * machine where absolute figures do not.
 *
 *   npm run bench                    the full run (about 12 minutes on 2 cores)
 *   npm run bench -- --quick         small sizes, under a minute (CI runs it)
 *   npm run bench -- --json          `{ machine, results: [{ name, value, unit, baseline, ratio, runs }] }` on stdout
 *   npm run bench -- --only broker latency
 *
 * Progress goes to stderr, results to stdout. The exit code is non-zero only when a benchmark fails
 * (an error, a reading not stored), never because a figure is slow.
 */
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Command, Option } from 'commander';
import { runCli } from '../infra/cli/cli-support.js';
import { runBrokerComparison, runLatency } from './broker-bench.js';
import type { FloodOptions, FloodRun } from './broker-bench.js';
import { pipeline } from '../infra/pipeline.js';
import { runDynamoDbBench } from './dynamodb-bench.js';
import { runScale, runShards } from './scale-bench.js';
import type { BenchFigure } from './stats.js';
import { formatTable, round } from './stats.js';
import { runQueryGrowth, runSinkBench } from './store-bench.js';
import { runUseCaseBench } from './use-cases.js';

export const SECTIONS = ['use-cases', 'dynamodb', 'store', 'broker', 'durability', 'latency', 'scale', 'shards'] as const;
export type Section = (typeof SECTIONS)[number];

/** Sizes of one run of the benchmarks. */
export interface BenchProfile {
  readonly runs: number;
  readonly flood: { readonly clients: number; readonly messagesPerClient: number; readonly inflight: number };
  /** `halfSustained`: also measure at half the pipeline's sustained rate (besides `fixedRate`). */
  readonly latency: { readonly durationMs: number; readonly fixedRate: number; readonly halfSustained: boolean };
  readonly useCases: { readonly records: number };
  /** The ingest use case through the DynamoDB adapter over dynalite. */
  readonly dynamodb: { readonly records: number };
  readonly store: { readonly readings: number; readonly devices: number; readonly querySizes: readonly number[]; readonly queries: number };
  readonly scale: { readonly devices: number; readonly rate: number; readonly durationS: number; readonly rampPerS: number };
  readonly shardCounts: readonly number[];
}

export const PROFILES: Readonly<Record<'quick' | 'full', BenchProfile>> = {
  quick: {
    runs: 3,
    flood: { clients: 100, messagesPerClient: 30, inflight: 16 },
    latency: { durationMs: 600, fixedRate: 1_000, halfSustained: false },
    useCases: { records: 5_000 },
    dynamodb: { records: 2_000 },
    store: { readings: 5_000, devices: 100, querySizes: [10_000, 100_000], queries: 100 },
    // Long enough that readings fall due after a slow connect storm on a loaded CI machine.
    scale: { devices: 100, rate: 2, durationS: 3, rampPerS: 2_000 },
    // 2 is the broker comparison's own runs, reused: only 1 shard costs runs here.
    shardCounts: [1, 2],
  },
  full: {
    runs: 3,
    flood: { clients: 100, messagesPerClient: 1_000, inflight: 16 },
    latency: { durationMs: 6_000, fixedRate: 1_000, halfSustained: true },
    useCases: { records: 100_000 },
    dynamodb: { records: 20_000 },
    store: { readings: 100_000, devices: 100, querySizes: [100_000, 1_000_000, 10_000_000], queries: 500 },
    scale: { devices: 10_000, rate: 0.1, durationS: 60, rampPerS: 500 },
    shardCounts: [1, 2, 4],
  },
};

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly node: string;
  readonly platform: string;
  readonly memoryGiB: number;
  /** 1-minute load average when the run began: other work on the machine skews absolute figures. */
  readonly loadAverage1m: number;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    node: process.version,
    platform: `${process.platform} ${release()} ${process.arch}`,
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    loadAverage1m: round(loadavg()[0] ?? 0, 2),
  };
}

export interface BenchReport {
  readonly machine: MachineInfo;
  readonly profile: 'quick' | 'full';
  readonly durationS: number;
  readonly results: readonly BenchFigure[];
}

/** Runs the chosen sections in a fixed order and collects every figure. */
export async function runBench(options: { readonly quick: boolean; readonly only?: readonly Section[]; readonly progress: (line: string) => void }): Promise<BenchReport> {
  const profileName = options.quick ? 'quick' : 'full';
  const p = PROFILES[profileName];
  const chosen = new Set<Section>(options.only ?? SECTIONS);
  const sectionStart = performance.now();
  const progress = (line: string) => {
    const now = performance.now();
    // Elapsed seconds on every line: where the time goes is worth seeing in CI logs.
    options.progress(`[${round((now - sectionStart) / 1000, 1).toFixed(1).padStart(6)} s] ${line}`);
  };
  const machine = machineInfo();
  const started = performance.now();
  progress(`npm run bench (${profileName}): ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage1m}, ${round(freemem() / 1024 ** 3, 1)} GiB free`);
  const results: BenchFigure[] = [];

  if (chosen.has('use-cases')) {
    progress(`use cases in-process: ${p.useCases.records.toLocaleString('en-US')} records, ${p.runs} runs each`);
    const figures = await runUseCaseBench({ records: p.useCases.records, runs: p.runs, progress: (line) => progress(`  ${line}`) });
    results.push(
      ...figures.map((f) => ({
        name: `use-case: ${f.name}`,
        value: f.value,
        unit: f.unit,
        baseline: f.baseline,
        ratio: f.ratio,
        runs: f.runs,
      })),
    );
  }

  if (chosen.has('dynamodb')) {
    progress(`DynamoDB adapter over dynalite: ${p.dynamodb.records.toLocaleString('en-US')} records, ${p.runs} runs`);
    results.push(...(await runDynamoDbBench({ records: p.dynamodb.records, runs: p.runs, progress: (line) => progress(`  ${line}`) })));
  }

  if (chosen.has('store')) {
    results.push(...(await runSinkBench({ runs: p.runs, readings: p.store.readings, batchSize: 500, devices: p.store.devices, progress })));
    results.push(...runQueryGrowth({ runs: p.runs, sizes: p.store.querySizes, queries: p.store.queries, progress }));
  }

  const flood: FloodOptions = { runs: p.runs, ...p.flood, durabilityOff: chosen.has('durability'), progress };
  let sustainedPerS: number | undefined;
  let pipelineRuns: readonly FloodRun[] | undefined;
  if (chosen.has('broker') || chosen.has('durability')) {
    const comparison = await runBrokerComparison(flood);
    sustainedPerS = comparison.sustainedPerS;
    pipelineRuns = comparison.pipelineRuns;
    const wanted = (name: string) => (name === 'durability-price' ? chosen.has('durability') : chosen.has('broker'));
    results.push(...comparison.figures.filter((f) => wanted(f.name)));
  }

  if (chosen.has('latency')) {
    if (sustainedPerS === undefined && p.latency.halfSustained) {
      progress('latency: measuring the sustained rate first (one pipeline flood per run)');
      const comparison = await runBrokerComparison({ ...flood, durabilityOff: false });
      sustainedPerS = comparison.sustainedPerS;
    }
    const half = sustainedPerS === undefined ? undefined : Math.max(100, Math.round(sustainedPerS / 2));
    results.push(
      ...(await runLatency({
        runs: p.runs,
        clients: p.flood.clients,
        inflight: p.flood.inflight,
        rates: [
          ...(half === undefined || !p.latency.halfSustained ? [] : [{ label: 'half the sustained rate', rate: half }]),
          { label: `a fixed ${p.latency.fixedRate.toLocaleString('en-US')} msg/s`, rate: p.latency.fixedRate },
        ],
        durationMs: p.latency.durationMs,
        progress,
      })),
    );
  }

  if (chosen.has('scale')) results.push(...(await runScale({ runs: p.runs, ...p.scale, progress })));
  if (chosen.has('shards')) {
    results.push(
      ...(await runShards({
        ...flood,
        durabilityOff: false,
        shardCounts: p.shardCounts,
        ...(pipelineRuns === undefined ? {} : { known: { shards: pipeline.stream.shardCount, runs: pipelineRuns } }),
      })),
    );
  }

  const durationS = round((performance.now() - started) / 1000, 1);
  progress(`done in ${durationS} s`);
  return { machine, profile: profileName, durationS, results };
}

/** The table: the machine first, then every figure with its baseline. */
export function formatReport(report: BenchReport): string {
  const m = report.machine;
  return [
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; load ${m.loadAverage1m} at start`,
    `profile: ${report.profile}, ${report.durationS} s; each figure is the median of its runs; ratio = value / baseline (same run)`,
    '',
    formatTable(report.results),
  ].join('\n');
}

function buildCommand(): Command {
  return new Command('bench')
    .description('benchmarks of the local pipeline, each against a baseline measured in the same run')
    .option('--quick', 'small sizes, under a minute (what CI runs)')
    .option('--json', 'print { machine, results } as JSON instead of the table')
    .addOption(new Option('--only <sections...>', 'run only these sections').choices(SECTIONS))
    .action(async (flags: { quick?: boolean; json?: boolean; only?: Section[] }) => {
      const report = await runBench({
        quick: flags.quick ?? false,
        ...(flags.only === undefined ? {} : { only: flags.only }),
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ machine: report.machine, profile: report.profile, durationS: report.durationS, results: report.results }, null, 2)}\n`);
      } else {
        process.stdout.write(`${formatReport(report)}\n`);
      }
      // Children and servers are closed; nothing should keep the process, but a stray handle must not hang CI.
      process.exit(0);
    });
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('bench/main.ts')) {
  await runCli(buildCommand());
}
