/** The estimate as the table `npm run cost` prints. */
import type { CostEstimate } from './estimate.js';
import { SERVICES } from './estimate.js';

const usd = (n: number): string => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** 1234 -> "1,234"; 4.38e8 -> "438.0 M"; small numbers keep two decimals. */
export function quantity(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** A plain-text report: headline, traffic, stream sizing, one block per service, total, assumptions. */
export function formatEstimate(e: CostEstimate): string {
  const { input, traffic, stream } = e;
  const out: string[] = [];
  out.push(`Monthly AWS cost of fleet-telemetry in ${input.region} (${e.currency}, prices as of ${e.pricesAsOf})`);
  out.push(
    `${input.devices.toLocaleString('en-US')} devices, one ${input.payloadBytes}-byte reading every ${input.intervalSeconds} s: ` +
      `${quantity(traffic.messagesPerSecond)} messages/s, ${quantity(traffic.messagesPerMonth)} messages a month, ${traffic.recordBytes}-byte stream records`,
  );
  out.push(
    stream.mode === 'provisioned'
      ? `Kinesis shards needed: ${stream.shardsNeeded} (infra/pipeline.ts configures ${stream.shardsConfigured}; billed: ${stream.shardsBilled})` +
          (stream.shardsNeeded > stream.shardsConfigured ? ' -> raise pipeline.stream.shardCount or deploy with -c streamMode=on-demand' : '')
      : `Kinesis shards needed: ${stream.shardsNeeded} (on-demand mode: billed per GB, not per shard)`,
  );
  out.push('');
  const width = Math.max(...e.lines.map((l) => l.item.length)) + 2;
  const quantities = e.lines.map((l) => `${quantity(l.quantity)} ${l.unit}`);
  const qWidth = Math.max(...quantities.map((q) => q.length)) + 2;
  const row = (label: string, q: string, amount: number): string =>
    `${label.padEnd(width + 2)}${q.padEnd(qWidth)}${usd(amount).padStart(12)}`;
  out.push(`${'Service / item'.padEnd(width + 2)}${'Quantity'.padEnd(qWidth)}${'Monthly USD'.padStart(12)}`);
  for (const service of SERVICES) {
    if (!e.lines.some((l) => l.service === service)) continue;
    out.push(row(service, '', e.byService[service]));
    e.lines.forEach((l, i) => {
      if (l.service === service) out.push(row(`  ${l.item}`, quantities[i] as string, l.monthlyUsd));
    });
  }
  out.push(row('Total', '', e.totalUsd));
  out.push('');
  out.push(
    `Time-series store for this fleet (writes, storage, ingest function): DynamoDB ${usd(e.timeSeriesStores.dynamodb)}, ` +
      `Timestream ${usd(e.timeSeriesStores.timestream)} USD a month (deployed: ${input.timeSeriesStore})`,
  );
  out.push(...formatCapacity(e));
  out.push('');
  out.push('Assumptions:');
  for (const a of e.assumptions) out.push(`  - ${a}`);
  if (e.unverifiedPrices.length > 0) {
    out.push(`Prices not re-checked in AWS text when the table was compiled (see infra/aws/cost/prices.ts): ${e.unverifiedPrices.length}`);
  }
  return out.join('\n');
}

/** The capacity verdict: one line, then each lane's load, then a warning per failing check. */
export function formatCapacity(e: CostEstimate): string[] {
  const c = e.capacity;
  const out: string[] = [];
  out.push(
    c.keepsUp
      ? `Capacity: the configured stack keeps up with this fleet (up to about ${c.maxDevices.toLocaleString('en-US')} devices at this interval; docs/capacity.md)`
      : `Capacity: WARNING, the configured stack does not keep up with this fleet (at most about ${c.maxDevices.toLocaleString('en-US')} devices at this interval; docs/capacity.md)`,
  );
  for (const [name, load] of Object.entries(c.consumers)) {
    out.push(
      `  ${name}: ${load.parallelizationFactor} lane(s) per shard, ${quantity(load.recordsPerSecondPerLane)} records/s per lane, ` +
        `${quantity(load.recordsPerInvocation)} records in ${Math.round(load.invocationMs)} ms per invocation, busy ${Math.round(load.utilization * 100)}%`,
    );
  }
  out.push(`  offline check: about ${quantity(c.offlineCheck.durationMs / 1000)} s a run (budget ${c.offlineCheck.budgetMs / 1000} s)`);
  for (const warning of c.warnings) out.push(`  WARNING: ${warning}`);
  return out;
}
