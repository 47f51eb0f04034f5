/**
 * What one stream consumer costs per record, alone (targets/consumer-mappings.ts): the event source
 * mapping reading the durable stream, the handler module, and the SQLite store, over a backlog
 * appended beforehand by the pipeline's own rule action (load/backlog.ts). No broker, no MQTT: the
 * difference from bench/stages.ts is that the consumer's CPU is measured alone, not as a share of a
 * flood. Each run appends `--records` records (default 100,000) from `--devices` devices (default
 * 1,000) in a fresh temp dir, then drains the mapping(s) of `--consumer`; it reports records per
 * second and this process's CPU microseconds per record (user + system, from start to drained), the
 * median of `--runs` (default 3).
 *
 * A measurement aid, not part of `npm run bench`:
 *   npx tsx bench/consumers.ts [--consumer ingest|alarms|both] [--records N] [--devices N] [--runs N] [--cpu-profile FILE] [--json]
 * Profile one consumer (only while it consumes, not while the backlog is appended), then open the file
 * in Chrome DevTools or read its self and inclusive times:
 *   npx tsx bench/consumers.ts --consumer alarms --runs 1 --cpu-profile /tmp/alarms.cpuprofile
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Option } from 'commander';
import { runCli } from '../infra/cli/cli-support.js';
import { benchCommand, positiveIntegerOption, progressToStderr } from './cli.js';
import type { BenchFigure } from './report/figure.js';
import { figure } from './report/figure.js';
import { machineInfo } from './report/machine.js';
import { round } from './report/stats.js';
import { renderReport } from './report/table.js';
import type { ConsumerBenchOptions, ConsumerChoice, ConsumerRun } from './targets/consumer-mappings.js';
import { CONSUMERS, runConsumers } from './targets/consumer-mappings.js';

/** Two figures: records per second and CPU per record (no baseline: the stages' `raw` is the floor of a flood, not of this). */
export function consumerFigures(consumer: ConsumerChoice, runs: readonly ConsumerRun[]): BenchFigure[] {
  const last = runs[runs.length - 1];
  return [
    figure(`consumers ${consumer}: records`, 'records/s', runs.map((r) => r.recordsPerS), null, {
      note: `${last?.records ?? 0} records from start to drained; detail: what the last run left behind`,
      ...(last === undefined ? {} : { detail: { ...last.counters } }),
    }),
    figure(`consumers ${consumer}: CPU per record`, 'us', runs.map((r) => r.cpuUsPerRecord), null, { digits: 1 }),
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runCli(
    benchCommand('consumers', 'what one stream consumer costs per record, alone, over a backlog')
      .addOption(new Option('--consumer <name>', 'which mapping(s) drain the backlog').choices(CONSUMERS).default('both'))
      .addOption(positiveIntegerOption('--records <n>', 'records in the backlog', 100_000))
      .addOption(positiveIntegerOption('--devices <n>', 'devices sending them', 1_000))
      .addOption(positiveIntegerOption('--runs <n>', 'runs', 3))
      .option('--cpu-profile <file>', 'write a V8 CPU profile of the consuming phase to this file')
      .action(async (flags: { consumer: ConsumerChoice; records: number; devices: number; runs: number; cpuProfile?: string; json?: boolean }) => {
        const options: ConsumerBenchOptions = {
          consumer: flags.consumer,
          records: flags.records,
          devices: flags.devices,
          ...(flags.cpuProfile === undefined ? {} : { cpuProfile: flags.cpuProfile }),
        };
        const machine = machineInfo();
        const started = performance.now();
        const runs: ConsumerRun[] = [];
        for (let i = 0; i < flags.runs; i++) {
          const run = await runConsumers(options);
          runs.push(run);
          progressToStderr(`run ${i + 1} ${run.consumer}: ${Math.round(run.recordsPerS)} records/s, ${round(run.cpuUsPerRecord, 1)} us CPU per record ${JSON.stringify(run.counters)}`);
        }
        const durationS = round((performance.now() - started) / 1000, 1);
        const profile = `consumers (${flags.records} records, ${flags.devices} devices)`;
        process.stdout.write(`${renderReport({ machine, profile, durationS, results: consumerFigures(flags.consumer, runs) }, flags.json ?? false)}\n`);
        process.exit(0);
      }),
  );
}
