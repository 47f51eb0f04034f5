/**
 * The monthly AWS cost of the pipeline for a fleet: a pure function of the fleet, the pipeline
 * definition, the stack's sizing and a price table. Every quantity it prices is in the result, with
 * the assumptions behind the ones AWS does not fix (durations, sizes, rates), so a reader can redo
 * the arithmetic. It also says whether the configured stack keeps up with the fleet (capacity.ts).
 */
import { pipeline } from '../../pipeline.js';
import { capacityVerdict } from './capacity.js';
import { completeInput, describeAssumptions } from './cost-input.js';
import { DEFAULT_ASSUMPTIONS, SERVICES } from './cost-model.js';
import type { Assumptions, CostEstimate, CostInput, Service } from './cost-model.js';
import { PRICE_TABLE } from './prices.js';
import type { PriceTable, RegionPrices } from './prices.js';
import { chargeAlarmState, chargeAppConfig, chargeDeliveryAndOperations, chargeIotCore, chargeKinesis, chargeLambda, chargeTimeSeriesStore, openBill } from './service-lines.js';

// The estimate lives in one file per part; this file is its way in, so every name keeps its import path.
export {
  alarmStateWriteEverySeconds,
  COST_TIME_SERIES_STORES,
  CostInputError,
  DEFAULT_ASSUMPTIONS,
  DEFAULT_READINGS_RETENTION_DAYS,
  DEFAULT_SILENT_FOR_SECONDS,
  DEFAULT_STREAM_RETENTION_HOURS,
  HOURS_PER_MONTH,
  INGEST_TOPICS,
  lastSeenWriteBoundSeconds,
  SERVICES,
  SHARD_WRITE_LIMITS,
} from './cost-model.js';
export type { Assumptions, CapacityVerdict, ConsumerLoad, CostEstimate, CostInput, CostLine, CostTimeSeriesStore, IngestTopic, Service } from './cost-model.js';
export { envelopeBytes, invocationsPerSecondPerShard, recordsPerInvocation, requests, shardsNeeded } from './traffic.js';
export { operationalAlarmCount } from './service-lines.js';
export { MAX_UTILIZATION } from './capacity.js';

/**
 * Estimates the monthly cost of running the pipeline for `input` on the prices of `prices`.
 * @throws CostInputError for a non-positive or non-finite number or a region the table lacks.
 */
export function estimateMonthlyCost(
  input: CostInput,
  prices: PriceTable = PRICE_TABLE,
  assumptions: Assumptions = DEFAULT_ASSUMPTIONS,
): CostEstimate {
  const full = completeInput(input, prices);
  const bill = openBill(full, prices.regions[full.region] as RegionPrices, assumptions);
  // Each call appends its service's lines: this order is the order of `lines` in the result.
  chargeIotCore(bill);
  chargeKinesis(bill);
  const runs = chargeLambda(bill);
  chargeAlarmState(bill, runs);
  const timeSeriesStores = chargeTimeSeriesStore(bill, runs.ingest);
  chargeDeliveryAndOperations(bill, runs);
  chargeAppConfig(bill, runs);

  const { lines, fleet } = bill;
  const byService = Object.fromEntries(SERVICES.map((s) => [s, 0])) as Record<Service, number>;
  for (const line of lines) byService[line.service] += line.monthlyUsd;
  const totalUsd = lines.reduce((total, line) => total + line.monthlyUsd, 0);

  return {
    input: full,
    pricesAsOf: prices.asOf,
    currency: prices.currency,
    traffic: { messagesPerSecond: fleet.messagesPerSecond, messagesPerMonth: fleet.messages, recordBytes: fleet.recordBytes },
    stream: {
      mode: full.streamMode,
      shardsNeeded: fleet.shardsNeeded,
      shardsConfigured: pipeline.stream.shardCount,
      shardsBilled: full.streamMode === 'provisioned' ? fleet.shardsRunning : 0,
    },
    lines,
    byService,
    totalUsd,
    timeSeriesStores,
    capacity: capacityVerdict(full, assumptions),
    assumptions: describeAssumptions(assumptions, full),
    unverifiedPrices: [...bill.unverified],
  };
}
