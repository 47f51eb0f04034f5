/**
 * The `shards` section: the pipeline's flood throughput (stored) at 1, 2 and 4 shards, interleaved;
 * the first count is the baseline. The broker section's pipeline runs are reused for their count.
 */
import type { BenchFigure } from '../report/figure.js';
import { figure } from '../report/figure.js';
import { median, round } from '../report/stats.js';
import { pipeline } from '../../infra/pipeline.js';
import { floodOptions } from './broker.js';
import type { FloodOptions, FloodRun } from './floods.js';
import { floodPipeline } from './floods.js';
import type { SectionContext } from './section.js';

/** The pipeline's flood throughput (stored) at each shard count, interleaved; the first count is the baseline. */
async function runShards(
  options: FloodOptions & {
    readonly shardCounts: readonly number[];
    /** Runs already made with the same flood at some shard count (the broker comparison's): reused, not repeated. */
    readonly known?: { readonly shards: number; readonly runs: readonly FloodRun[] };
  },
): Promise<BenchFigure[]> {
  const reuse = options.known !== undefined && options.known.runs.length >= options.runs ? options.known : undefined;
  options.progress(
    `shards: ${options.shardCounts.join(', ')}; ${options.runs} runs each of ${options.clients} publishers x ${options.messagesPerClient} messages` +
      (reuse ? ` (${reuse.shards} shards: the broker comparison's pipeline runs)` : ''),
  );
  const byCount = new Map<number, FloodRun[]>(options.shardCounts.map((c) => [c, c === reuse?.shards ? [...reuse.runs] : []]));
  for (let i = 0; i < options.runs; i++) {
    for (const shards of options.shardCounts) {
      if (shards === reuse?.shards) continue;
      const run = await floodPipeline({ ...options, durability: 'full', shards });
      byCount.get(shards)?.push(run);
      options.progress(`  run ${i + 1}, ${shards} shard(s): stored ${Math.round(run.storedPerS ?? 0).toLocaleString('en-US')}/s, acked ${Math.round(run.ackedPerS).toLocaleString('en-US')}/s (stack CPU ${Math.round(run.targetCpuPct)}%)`);
    }
  }
  const base = byCount.get(options.shardCounts[0] as number) ?? [];
  return options.shardCounts.map((shards) =>
    figure(`shards-${shards}`, 'msg/s', (byCount.get(shards) ?? []).map((r) => r.storedPerS as number), base.map((r) => r.storedPerS as number), {
      note: `pipeline stored/s with a ${shards}-shard stream (both consumers read every shard); baseline: ${options.shardCounts[0]} shard(s)`,
      detail: { ackedPerS: round(median((byCount.get(shards) ?? []).map((r) => r.ackedPerS))) },
    }),
  );
}

/** `--only shards`. */
export async function shardsSection({ profile, shared, progress }: SectionContext): Promise<readonly BenchFigure[]> {
  return runShards({
    ...floodOptions(profile, progress),
    shardCounts: profile.shardCounts,
    ...(shared.pipelineRuns === undefined ? {} : { known: { shards: pipeline.stream.shardCount, runs: shared.pipelineRuns } }),
  });
}
