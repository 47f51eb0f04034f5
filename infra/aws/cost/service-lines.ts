/**
 * The per-service pricing: each AWS service's lines of the monthly bill for one fleet, from the
 * traffic model and the region's prices.
 */
import { pipeline } from '../../pipeline.js';
import { ALARM_STATE_MIN_CAPACITY, ALARM_STATE_TARGET_UTILIZATION_PERCENT } from '../deployment-settings.js';
import type { DeploymentSettings } from '../deployment-settings.js';
import { FUNCTION_SIZING } from '../function-sizing.js';
import { alarmStateWriteEverySeconds, DAYS_PER_MONTH, GB, HOURS_PER_MONTH, lastSeenWriteBoundSeconds, MINUTES_PER_MONTH, SECONDS_PER_MONTH } from './cost-model.js';
import { THRESHOLDS_MAX_AGE_SECONDS } from '../../../lambdas/common/thresholds-env.js';
import type { Assumptions, CostInput, CostLine, Service } from './cost-model.js';
import type { Price, PriceTier, RegionPrices } from './prices.js';
import { alarmsMs, consumerRun, describeFleet, devicesPerAlarmBatch, dynamodbReadingBytes, ingestMs, offlineMs, recordsPerInvocation, requests, timestreamReadingBytes } from './traffic.js';
import type { ConsumerRun, Fleet } from './traffic.js';

/** The cost of `quantity` units on a tiered price whose tiers count units. */
function tiered(quantity: number, tiers: readonly PriceTier[], unitsPerPrice: number): number {
  let cost = 0;
  let floor = 0;
  for (const tier of tiers) {
    const ceiling = tier.upTo ?? Number.POSITIVE_INFINITY;
    const inTier = Math.max(0, Math.min(quantity, ceiling) - floor);
    cost += (inTier / unitsPerPrice) * tier.usd;
    floor = ceiling;
    if (quantity <= ceiling) break;
  }
  return cost;
}

export type Priced = (service: Service, item: string, quantity: number, unit: string, price: Price, unitsPerPrice: number) => CostLine;

/**
 * Timestream meters each WriteRecords request in 1 KB units of the sum of its records' sizes (docs
 * timestream metering-and-pricing.writes: a request of 12 events of 83 bytes is one write), so a
 * batch of readings costs its bytes, not its record count. The ingest function sends up to 100
 * readings per request, from one invocation's records.
 */
function timestreamStoreLines(fleet: Fleet, region: RegionPrices, priced: Priced): CostLine[] {
  const { input, a, messages, messagesPerSecond } = fleet;
  const readingBytes = timestreamReadingBytes(input.payloadBytes, a);
  const lanes = fleet.shardsRunning * pipeline.consumers.ingest.parallelizationFactor;
  const records = recordsPerInvocation(messagesPerSecond / lanes, pipeline.consumers.ingest);
  const calls = requests(records, 100);
  // Each request is rounded up to whole KB: half a KB per request on average, at least one write each.
  const writesPerInvocation = Math.max(calls, (records * readingBytes) / 1024 + 0.5 * calls);
  const writes = (messages / records) * writesPerInvocation;
  const bytesPerHour = messagesPerSecond * 3600 * readingBytes;
  const memoryGb = (bytesPerHour * input.timestreamMemoryRetentionHours) / GB;
  const magneticGb = (bytesPerHour * 24 * input.timestreamMagneticRetentionDays) / GB;
  return [
    priced('Timestream', `writes (${Math.round(records)} readings of ${readingBytes} B per invocation)`, writes, '1 KB writes', region.timestream.writes, 1e6),
    priced('Timestream', `memory store (${input.timestreamMemoryRetentionHours} h kept)`, memoryGb * HOURS_PER_MONTH, 'GB-hours', region.timestream.memoryGbHour, 1),
    priced('Timestream', `magnetic store (when ${input.timestreamMagneticRetentionDays} days are kept)`, magneticGb, 'GB-months', region.timestream.magneticGbMonth, 1),
  ];
}

/** DynamoDB readings table, on demand: one item per reading (1 WRU per started KB), storage for the TTL's days, TTL deletes free. */
function dynamodbStoreLines(fleet: Fleet, region: RegionPrices, priced: Priced): CostLine[] {
  const { input, a, messages, messagesPerSecond } = fleet;
  const itemBytes = dynamodbReadingBytes(input.payloadBytes, a);
  const storedGb = (messagesPerSecond * 86_400 * input.readingsRetentionDays * (itemBytes + a.dynamodbItemOverheadBytes)) / GB;
  return [
    priced('DynamoDB', `readings writes (${itemBytes}-byte items)`, messages * Math.ceil(itemBytes / 1024), 'WRU', region.dynamodb.onDemandWrites, 1e6),
    priced('DynamoDB', `readings storage (${input.readingsRetentionDays} days kept, TTL deletes free)`, storedGb, 'GB-months', region.dynamodb.storageGbMonth, 1),
    priced('DynamoDB', 'readings point-in-time recovery', storedGb, 'GB-months', region.dynamodb.pitrGbMonth, 1),
  ];
}

/**
 * The CloudWatch alarms the stack creates (infra/aws/constructs/operational-alarms.ts): iterator age
 * per consumer, errors per function, depth per kept-messages queue, and stream write throttles.
 * A test checks this against the synthesized template.
 */
export function operationalAlarmCount(_store: DeploymentSettings['timeSeriesStore']): number {
  // Every store runs both consumers: with timeSeriesStore=none the ingest consumer only keeps rejects.
  const consumers = 2;
  const functions = consumers + 2; // and the offline check, the alarm-commands function
  const queues = 2; // rejects, rule errors
  // The offline check's duration, writes to the failure bucket, stream write throttles, alarm-state
  // throttles, and the threshold rules going stale (failed AppConfig refreshes).
  return consumers + functions + queues + 5;
}

/** What every service's lines are computed from, and the lines and unverified prices written so far. */
export interface Bill {
  readonly full: Required<CostInput>;
  readonly a: Assumptions;
  readonly region: RegionPrices;
  readonly fleet: Fleet;
  readonly lines: CostLine[];
  readonly unverified: Set<string>;
  /** A line at a price (noting the price if it was not verified), not yet on the bill. */
  readonly priced: Priced;
  /** Puts a priced line on the bill. */
  readonly charge: (...args: Parameters<Priced>) => void;
  /** Alarm transitions a month: each one event out over MQTT and SNS, and one history item. */
  readonly alarmEvents: number;
}

/** The Lambda consumers' runs for this fleet, which the stores and the failure destination follow. */
export interface LambdaRuns {
  readonly ingest: ConsumerRun;
  readonly alarms: ConsumerRun;
  readonly offlineRuns: number;
  readonly invocationsTotal: number;
}

export function openBill(full: Required<CostInput>, region: RegionPrices, a: Assumptions): Bill {
  const lines: CostLine[] = [];
  const unverified = new Set<string>();
  const priced = (service: Service, item: string, quantity: number, unit: string, price: Price, unitsPerPrice: number): CostLine => {
    if (price.check === 'unverified') unverified.add(`${service}: ${price.usd} USD ${price.per}`);
    return { service, item, quantity, unit, monthlyUsd: (quantity / unitsPerPrice) * price.usd };
  };
  const charge = (...args: Parameters<typeof priced>): void => {
    lines.push(priced(...args));
  };
  const alarmEvents = (full.devices * a.alarmsPerDevicePerDay * SECONDS_PER_MONTH) / 86_400;
  return { full, a, region, fleet: describeFleet(full, a), lines, unverified, priced, charge, alarmEvents };
}

/**
 * IoT Core: connectivity; messages in (none with Basic Ingest: docs iot-basic-ingest) and alarm
 * events out (5 KB increments); one rule and one action per message either way.
 */
export function chargeIotCore(bill: Bill): void {
  const { full, a, region, charge, lines, unverified, alarmEvents } = bill;
  const { messages } = bill.fleet;
  const alarmEventBytes = 300;
  const topicBytes = pipeline.topics.telemetry.replace('{deviceId}', 'd'.repeat(a.deviceIdLength)).length;
  const messageUnits = Math.ceil((full.payloadBytes + topicBytes) / 5120);
  const alarmMessages = alarmEvents * (1 + a.iotSubscribersPerAlarm) * Math.ceil(alarmEventBytes / 5120);
  charge('IoT Core', 'connectivity', full.devices * MINUTES_PER_MONTH, 'connection-minutes', region.iotCore.connectivity, 1e6);
  const telemetryMessages = full.topic === 'plain' ? messages * messageUnits : 0;
  const metered = telemetryMessages + alarmMessages;
  const messaging = region.iotCore.messaging;
  if (messaging.check === 'unverified') unverified.add(`IoT Core: ${messaging.usd} USD ${messaging.per} (tiered)`);
  lines.push({
    service: 'IoT Core',
    item: full.topic === 'plain' ? 'messaging (telemetry in, alarm events out)' : 'messaging (alarm events out; telemetry by Basic Ingest is free)',
    quantity: metered,
    unit: 'messages',
    monthlyUsd: tiered(metered, messaging.tiers, 1e6),
  });
  charge('IoT Core', 'rules triggered', messages * messageUnits, 'rules', region.iotCore.rulesTriggered, 1e6);
  charge('IoT Core', 'rule actions (Kinesis)', messages, 'actions', region.iotCore.actionsApplied, 1e6);
}

/** Kinesis: shards (provisioned) or stream-hours and data (on demand), and the retention past 24 h. */
export function chargeKinesis(bill: Bill): void {
  const { full, region, charge } = bill;
  const { messagesPerSecond, messages, recordBytes, shardsRunning } = bill.fleet;
  const extendedHours = Math.min(full.streamRetentionHours, 168) - 24;
  const longTermHours = Math.max(0, full.streamRetentionHours - 168);
  if (full.streamMode === 'provisioned') {
    charge('Kinesis', `shard-hours (${shardsRunning} shards)`, shardsRunning * HOURS_PER_MONTH, 'shard-hours', region.kinesis.shardHour, 1);
    charge('Kinesis', 'PUT payload units', messages * Math.ceil(recordBytes / 25_600), 'units', region.kinesis.putPayloadUnits, 1e6);
    if (extendedHours > 0) {
      charge('Kinesis', `extended retention (${Math.min(full.streamRetentionHours, 168)} h kept)`, shardsRunning * HOURS_PER_MONTH, 'shard-hours', region.kinesis.extendedRetentionShardHour, 1);
    }
  } else {
    const gbIn = (messages * Math.ceil(recordBytes / 1024) * 1024) / GB;
    const consumers = Object.keys(pipeline.consumers).length;
    charge('Kinesis', 'stream-hours (on-demand)', HOURS_PER_MONTH, 'stream-hours', region.kinesis.onDemandStreamHour, 1);
    charge('Kinesis', 'data in', gbIn, 'GB', region.kinesis.onDemandDataIn, 1);
    charge('Kinesis', `data out (${consumers} consumers)`, gbIn * consumers, 'GB', region.kinesis.onDemandDataOut, 1);
    if (extendedHours > 0) {
      const storedGb = (gbIn / HOURS_PER_MONTH) * extendedHours;
      charge('Kinesis', `extended retention (${Math.min(full.streamRetentionHours, 168)} h kept)`, storedGb, 'GB-months', region.kinesis.onDemandExtendedRetentionGbMonth, 1);
    }
  }
  if (longTermHours > 0) {
    const storedGb = ((messagesPerSecond * 3600 * recordBytes) / GB) * longTermHours;
    charge('Kinesis', `long-term retention (${full.streamRetentionHours} h kept)`, storedGb, 'GB-months', region.kinesis.longTermRetentionGbMonth, 1);
  }
}

/** Lambda: the two consumers (per lane batching) and the offline check. */
export function chargeLambda(bill: Bill): LambdaRuns {
  const { full, a, region, fleet, charge } = bill;
  const { messagesPerSecond, shardsRunning } = fleet;
  const ingest = consumerRun(fleet, pipeline.consumers.ingest, (records) => ingestMs(full.timeSeriesStore, records, a));
  const alarms = consumerRun(fleet, pipeline.consumers.alarms, (records) =>
    alarmsMs(records, messagesPerSecond / (shardsRunning * pipeline.consumers.alarms.parallelizationFactor), full.intervalSeconds, a),
  );
  const offlineRuns = MINUTES_PER_MONTH / pipeline.offlineCheck.everyMinutes;
  const offlineRunMs = offlineMs(full.devices, a);
  // The ingest consumer runs with every store: with none it still keeps malformed messages as rejects.
  const functions: { name: string; invocations: number; ms: number; memoryMb: number }[] = [
    { name: 'ingest', invocations: ingest.invocations, ms: ingest.ms, memoryMb: FUNCTION_SIZING.ingest.memoryMb },
  ];
  functions.push(
    { name: 'alarms', invocations: alarms.invocations, ms: alarms.ms, memoryMb: FUNCTION_SIZING.alarms.memoryMb },
    { name: 'offline', invocations: offlineRuns, ms: offlineRunMs, memoryMb: FUNCTION_SIZING.offline.memoryMb },
  );
  let invocationsTotal = 0;
  for (const f of functions) {
    invocationsTotal += f.invocations;
    charge('Lambda', `${f.name} requests`, f.invocations, 'requests', region.lambda.requests, 1e6);
    const gbSeconds = f.invocations * (f.ms / 1000) * (f.memoryMb / 1024);
    charge('Lambda', `${f.name} duration (${Math.round(f.ms)} ms x ${f.memoryMb} MB)`, gbSeconds, 'GB-seconds', region.lambda.arm64GbSecond, 1);
  }
  return { ingest, alarms, offlineRuns, invocationsTotal };
}

/**
 * DynamoDB alarm state: one strongly consistent read per device per alarms batch (it decides whether
 * to skip the write, so it must not be stale: lambdas/app/evaluate-alarms.ts); a write only when the
 * state changed (a transition: saved with its outbox, then the outbox cleared) or lastSeen moved past
 * the bound. The offline check scans the table (eventually consistent: half a unit per 4 KB). Each
 * transition is also one item in the alarm-history table.
 */
export function chargeAlarmState(bill: Bill, runs: LambdaRuns): void {
  const { full, a, region, charge, alarmEvents } = bill;
  const { messagesPerSecond, shardsRunning } = bill.fleet;
  const { alarms, offlineRuns } = runs;
  const alarmPerLane = messagesPerSecond / (shardsRunning * pipeline.consumers.alarms.parallelizationFactor);
  const stateReads = alarms.invocations * devicesPerAlarmBatch(alarms.records, alarmPerLane, full.intervalSeconds);
  const boundSeconds = lastSeenWriteBoundSeconds(full.silentForSeconds);
  const writeEvery = alarmStateWriteEverySeconds(full.intervalSeconds, boundSeconds);
  // Devices under a rule with per-reading state (risesBy, fallsBy, unchangedFor) are written on every reading.
  const windowed = full.devices * full.perReadingStateShare;
  const bounded = full.devices - windowed;
  const boundedWrites = (bounded * SECONDS_PER_MONTH) / writeEvery;
  const windowedWrites = (windowed * SECONDS_PER_MONTH) / full.intervalSeconds;
  const itemWriteUnits = Math.ceil(a.alarmStateItemBytes / 1024);
  const windowedWriteUnits = Math.ceil(a.windowedAlarmStateItemBytes / 1024);
  const itemReadUnits = Math.ceil(a.alarmStateItemBytes / 4096);
  const tableBytes = bounded * a.alarmStateItemBytes + windowed * a.windowedAlarmStateItemBytes;
  const writeUnits = (boundedWrites + alarmEvents * 2) * itemWriteUnits + windowedWrites * windowedWriteUnits;
  const readUnits = stateReads * itemReadUnits;
  const scanUnits = offlineRuns * Math.ceil(tableBytes / 4096) * 0.5;
  const writeLabel =
    windowed === 0
      ? `alarm-state writes (each device every ${Math.round(writeEvery)} s, and per transition)`
      : `alarm-state writes (${Math.round(windowed)} devices every reading, the others every ${Math.round(writeEvery)} s, and per transition)`;
  if (full.alarmStateCapacity === 'on-demand') {
    charge('DynamoDB', writeLabel, writeUnits, 'WRU', region.dynamodb.onDemandWrites, 1e6);
    charge('DynamoDB', 'alarm-state reads (strongly consistent)', readUnits, 'RRU', region.dynamodb.onDemandReads, 1e6);
    charge('DynamoDB', 'alarm-state scans (offline check)', scanUnits, 'RRU', region.dynamodb.onDemandReads, 1e6);
  } else {
    // Auto scaling keeps consumed/provisioned near the target, so the units billed are the average
    // rate over the target (the scans' per-minute burst is averaged: DynamoDB's burst capacity takes
    // it); never below the table's minimum. The wake index holds only pending snoozes and reminders.
    const provisioned = (unitsPerMonth: number): number =>
      Math.max(ALARM_STATE_MIN_CAPACITY, unitsPerMonth / SECONDS_PER_MONTH / (ALARM_STATE_TARGET_UTILIZATION_PERCENT / 100));
    const wcu = provisioned(writeUnits);
    const rcu = provisioned(readUnits + scanUnits);
    charge('DynamoDB', `${writeLabel}: ${wcu.toFixed(0)} WCU auto scaled`, wcu * HOURS_PER_MONTH, 'WCU-hours', region.dynamodb.provisionedWcuHour, 1);
    charge('DynamoDB', `alarm-state reads (strongly consistent) and scans: ${rcu.toFixed(0)} RCU auto scaled`, rcu * HOURS_PER_MONTH, 'RCU-hours', region.dynamodb.provisionedRcuHour, 1);
    charge('DynamoDB', 'alarm-state wake index (minimum capacity)', ALARM_STATE_MIN_CAPACITY * HOURS_PER_MONTH, 'WCU-hours', region.dynamodb.provisionedWcuHour, 1);
    charge('DynamoDB', 'alarm-state wake index reads (minimum capacity)', ALARM_STATE_MIN_CAPACITY * HOURS_PER_MONTH, 'RCU-hours', region.dynamodb.provisionedRcuHour, 1);
  }
  charge('DynamoDB', 'alarm-history writes (one per transition)', alarmEvents, 'WRU', region.dynamodb.onDemandWrites, 1e6);
  const stateGb = (full.devices * (a.alarmStateItemBytes + a.dynamodbItemOverheadBytes)) / GB;
  charge('DynamoDB', 'alarm-state storage', stateGb, 'GB-months', region.dynamodb.storageGbMonth, 1);
  charge('DynamoDB', 'alarm-state point-in-time recovery', stateGb, 'GB-months', region.dynamodb.pitrGbMonth, 1);
}

/** The time-series store's lines on the bill, and the monthly total of the same fleet on each store for comparison. */
export function chargeTimeSeriesStore(bill: Bill, ingest: ConsumerRun): Record<'dynamodb' | 'timestream', number> {
  const { full, a, region, fleet, priced, lines } = bill;
  const storeLines = {
    dynamodb: dynamodbStoreLines(fleet, region, priced),
    timestream: timestreamStoreLines(fleet, region, priced),
  };
  const ingestLines = (store: 'dynamodb' | 'timestream'): CostLine[] => {
    const run = store === full.timeSeriesStore ? ingest : consumerRun(fleet, pipeline.consumers.ingest, (records) => ingestMs(store, records, a));
    return [
      priced('Lambda', 'ingest requests', run.invocations, 'requests', region.lambda.requests, 1e6),
      priced('Lambda', 'ingest duration', run.invocations * (run.ms / 1000) * (FUNCTION_SIZING.ingest.memoryMb / 1024), 'GB-seconds', region.lambda.arm64GbSecond, 1),
    ];
  };
  const sum = (ls: readonly CostLine[]): number => ls.reduce((total, l) => total + l.monthlyUsd, 0);
  const timeSeriesStores = {
    dynamodb: sum(storeLines.dynamodb) + sum(ingestLines('dynamodb')),
    timestream: sum(storeLines.timestream) + sum(ingestLines('timestream')),
  };
  if (full.timeSeriesStore !== 'none') lines.push(...storeLines[full.timeSeriesStore]);
  return timeSeriesStores;
}

/** S3, SNS, CloudWatch and KMS: what the failures, the alarm events and the functions' operation cost. */
export function chargeDeliveryAndOperations(bill: Bill, runs: LambdaRuns): void {
  const { full, a, region, charge, alarmEvents } = bill;
  const { alarms, ingest, invocationsTotal } = runs;
  // S3: the on-failure destination keeps each failed invocation record (the whole batch, base64) for its lifecycle.
  const failedObjects = (alarms.invocations + ingest.invocations) * a.failedBatchShare;
  const failedBytes = (alarms.invocations * alarms.records + ingest.invocations * ingest.records) * a.failedBatchShare * bill.fleet.recordBytes * 1.4;
  charge('S3', 'failure destination PUTs', failedObjects, 'requests', region.s3.putRequests, 1000);
  charge('S3', `failure destination storage (${a.failureObjectDays} days kept)`, (failedBytes / GB) * (a.failureObjectDays / DAYS_PER_MONTH), 'GB-months', region.s3.standardGbMonth, 1);

  // SNS: one publish per alarm event; e-mail deliveries to the subscribers.
  charge('SNS', 'publishes (alarm events)', alarmEvents, 'publishes', region.sns.publishes, 1e6);
  charge('SNS', 'e-mail deliveries', alarmEvents * a.alarmEmailSubscribers, 'e-mails', region.sns.emailDeliveries, 1e5);

  // CloudWatch: the stack's alarms and dashboard, the functions' logs and their metrics.
  const alarmCount = operationalAlarmCount(full.timeSeriesStore);
  charge('CloudWatch', 'alarms', alarmCount, 'alarm-months', region.cloudWatch.standardAlarmMonth, 1);
  charge('CloudWatch', 'dashboards', a.dashboards, 'dashboard-months', region.cloudWatch.dashboardMonth, 1);
  const logGb = (invocationsTotal * a.logBytesPerInvocation) / GB;
  charge('CloudWatch', 'logs ingested', logGb, 'GB', region.cloudWatch.logsIngestedGb, 1);
  charge('CloudWatch', `logs stored (${full.logRetentionDays} days kept)`, (logGb * full.logRetentionDays) / DAYS_PER_MONTH, 'GB-months', region.cloudWatch.logsStoredGbMonth, 1);
  charge('CloudWatch', 'custom metrics', a.customMetrics, 'metric-months', region.cloudWatch.customMetricMonth, 1);

  // KMS: the topics' key.
  charge('KMS', 'topic key', 1, 'key-months', region.kms.customerKeyMonth, 1);
}

/**
 * AWS AppConfig: the thresholds, read by the alarms consumer, the offline check and the alarm-commands
 * function (not by ingest). Every function instance asks at most once per THRESHOLDS_MAX_AGE_SECONDS
 * while it is invoked: an alarms lane (shards x ParallelizationFactor, each kept busy by its batches)
 * about once a minute, the offline check once per run. Each instance also starts a session and receives
 * the configuration once when it starts (every functionInstanceHours), and again after each deployment;
 * an operator command is assumed to meet a cold instance.
 */
export function chargeAppConfig(bill: Bill, runs: LambdaRuns): void {
  const { a, region, charge, fleet } = bill;
  const lanes = fleet.shardsRunning * pipeline.consumers.alarms.parallelizationFactor;
  const refreshesPerMonth = SECONDS_PER_MONTH / THRESHOLDS_MAX_AGE_SECONDS;
  const alarmsPolls = lanes * Math.min(refreshesPerMonth, runs.alarms.invocations / lanes);
  const offlinePolls = Math.min(refreshesPerMonth, runs.offlineRuns);
  const instanceStarts = (lanes + 1) * (HOURS_PER_MONTH / a.functionInstanceHours);
  // A session, then its first read, for each instance started and each command.
  const requests = alarmsPolls + offlinePolls + instanceStarts + 2 * a.alarmCommandsPerMonth;
  const received = instanceStarts + a.alarmCommandsPerMonth + a.thresholdDeploymentsPerMonth * (lanes + 1);
  charge('AppConfig', `thresholds requests (${lanes} alarms lanes and the offline check, at most one a minute each)`, requests, 'requests', region.appConfig.requests, 1e6);
  charge('AppConfig', 'thresholds received (instance starts, deployments, commands)', received, 'configurations', region.appConfig.configurationReceived, 1);
}
