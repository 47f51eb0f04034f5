/**
 * The capacity verdict: whether the configured stack keeps up with the fleet, and the largest fleet
 * it keeps up with.
 */
import { pipeline } from '../../pipeline.js';
import { OFFLINE_CHECK_SCAN } from '../function-sizing.js';
import type { Assumptions, CapacityVerdict, ConsumerLoad, CostInput } from './cost-model.js';
import { alarmsMs, consumerRun, describeFleet, ingestMs, offlineMs } from './traffic.js';

/**
 * Whether the configured stack keeps up with the fleet: enough shards for the write rate, each
 * consumer's lanes busy less than `MAX_UTILIZATION` of the time (the rest absorbs bursts and lets a
 * mapping catch up after a brownout), and the offline check done within its budget.
 */
export const MAX_UTILIZATION = 0.8;

function capacityChecks(input: Required<CostInput>, a: Assumptions) {
  const fleet = describeFleet(input, a);
  const warnings: string[] = [];
  if (input.streamMode === 'provisioned' && fleet.shardsNeeded > pipeline.stream.shardCount) {
    warnings.push(
      `the write rate needs ${fleet.shardsNeeded} shards and infra/pipeline.ts configures ${pipeline.stream.shardCount}: raise pipeline.stream.shardCount or deploy with -c streamMode=on-demand`,
    );
  }
  const consumers: Partial<Record<'ingest' | 'alarms', ConsumerLoad>> = {};
  consumers.ingest = consumerRun(fleet, pipeline.consumers.ingest, (records) => ingestMs(input.timeSeriesStore, records, a)).load;
  const alarmLanes = fleet.shardsRunning * pipeline.consumers.alarms.parallelizationFactor;
  consumers.alarms = consumerRun(fleet, pipeline.consumers.alarms, (records) =>
    alarmsMs(records, fleet.messagesPerSecond / alarmLanes, input.intervalSeconds, a),
  ).load;
  for (const [name, load] of Object.entries(consumers)) {
    if (load.utilization > MAX_UTILIZATION) {
      warnings.push(
        `the ${name} mapping's lanes are busy ${Math.round(load.utilization * 100)}% of the time (more than ${MAX_UTILIZATION * 100}%): it falls behind; raise its parallelizationFactor (now ${load.parallelizationFactor}, at most 10) or the shard count (docs/capacity.md)`,
      );
    }
  }
  const durationMs = offlineMs(input.devices, a);
  const budgetMs = OFFLINE_CHECK_SCAN.budgetMs;
  if (durationMs > budgetMs) {
    warnings.push(
      `the offline check needs about ${Math.round(durationMs / 1000)} s a run, more than its ${budgetMs / 1000} s budget: raise OFFLINE_CHECK_SCAN.totalSegments in infra/aws/function-sizing.ts (docs/capacity.md)`,
    );
  }
  return { fleet, consumers, offlineCheck: { durationMs, budgetMs }, warnings };
}

export function capacityVerdict(input: Required<CostInput>, a: Assumptions): CapacityVerdict {
  const checks = capacityChecks(input, a);
  // The largest fleet that passes: every check only gets worse with more devices, so bisect.
  const passes = (devices: number): boolean => capacityChecks({ ...input, devices }, a).warnings.length === 0;
  let low = 0;
  let high = 1;
  while (high < 1e9 && passes(high)) high *= 2;
  if (high >= 1e9) low = high;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (passes(mid)) low = mid;
    else high = mid;
  }
  return {
    keepsUp: checks.warnings.length === 0,
    shards: { needed: checks.fleet.shardsNeeded, configured: pipeline.stream.shardCount },
    consumers: checks.consumers,
    offlineCheck: checks.offlineCheck,
    maxDevices: low,
    warnings: checks.warnings,
  };
}
