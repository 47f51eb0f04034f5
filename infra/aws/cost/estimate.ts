/**
 * The monthly AWS cost of the pipeline for a fleet: a pure function of the fleet, the pipeline
 * definition, the stack's sizing and a price table. Every quantity it prices is in the result, with
 * the assumptions behind the ones AWS does not fix (durations, sizes, rates), so a reader can redo
 * the arithmetic. It also says whether the configured stack keeps up with the fleet (capacity.ts).
 */
import { pipeline } from '../../pipeline.js';
import type { EventSourceMappingSettings } from '../../pipeline.js';
import { ALARM_STATE_MIN_CAPACITY, ALARM_STATE_TARGET_UTILIZATION_PERCENT, DEFAULT_DEPLOYMENT_SETTINGS, TIME_SERIES_STORES } from '../deployment-settings.js';
import type { DeploymentSettings } from '../deployment-settings.js';
import { FUNCTION_SIZING, OFFLINE_CHECK_SCAN } from '../function-sizing.js';
import { PRICE_TABLE } from './prices.js';
import type { Price, PriceTable, PriceTier, RegionPrices } from './prices.js';
import { ConfigError } from '../../../lambdas/domain/errors.js';

/** A month as AWS prices it: 730 hours. */
export const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const MINUTES_PER_MONTH = HOURS_PER_MONTH * 60;
const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;
const GB = 1024 ** 3;
const MB = 1024 ** 2;

/** Kinesis limits per shard (docs kinesis/latest/dev/service-sizes-and-limits). */
export const SHARD_WRITE_LIMITS = { recordsPerSecond: 1000, bytesPerSecond: 1 * MB } as const;

/** Where devices publish: Basic Ingest (`$aws/rules/<rule>/dt/fleet/{id}/telemetry`, no messaging charge) or the plain topic. */
export const INGEST_TOPICS = ['basic-ingest', 'plain'] as const;
export type IngestTopic = (typeof INGEST_TOPICS)[number];

/** The time-series stores the stack can deploy (context timeSeriesStore); DynamoDB is the default. */
export const COST_TIME_SERIES_STORES = TIME_SERIES_STORES;
export type CostTimeSeriesStore = (typeof COST_TIME_SERIES_STORES)[number];

/** Context streamRetentionHours' default (pipeline.stream.retentionHours, 7 days): a failed batch can still be read back. */
export const DEFAULT_STREAM_RETENTION_HOURS = DEFAULT_DEPLOYMENT_SETTINGS.streamRetentionHours;
/** Context readingsRetentionDays' default: the DynamoDB readings table's TTL. */
export const DEFAULT_READINGS_RETENTION_DAYS = DEFAULT_DEPLOYMENT_SETTINGS.readingsRetentionDays;
/** The smallest silentFor window of config/thresholds.json (a test keeps the two equal). */
export const DEFAULT_SILENT_FOR_SECONDS = 300;

/**
 * The alarm state is written only when it changed or when lastSeen moved by more than this bound
 * (docs/architecture.md, "Alarm state"): half of the smallest silentFor window, at least 60 s.
 */
export function lastSeenWriteBoundSeconds(smallestSilentForSeconds: number | null): number {
  return smallestSilentForSeconds === null ? 60 : Math.max(60, smallestSilentForSeconds / 2);
}

/**
 * Seconds between two writes of a reporting device's alarm-state item when nothing changes: the item
 * is rewritten by the first reading whose event time is more than the bound after the stored
 * lastSeen, so every (floor(bound / interval) + 1)-th reading.
 */
export function alarmStateWriteEverySeconds(intervalSeconds: number, boundSeconds: number): number {
  return intervalSeconds * (Math.floor(boundSeconds / intervalSeconds) + 1);
}

/**
 * What the estimate assumes where AWS does not decide. Each is stated in the result.
 */
export const DEFAULT_ASSUMPTIONS = {
  /** Plan shards for this fraction of a shard's write limits, so bursts and uneven keys fit. */
  shardHeadroom: 0.8,
  /** An on-demand stream starts at 4 MB/s of write capacity (4 shards' worth) and scales up from there. */
  onDemandMinimumShards: 4,
  /** Length of a deviceId (the topic and the envelope carry it). */
  deviceIdLength: 12,
  /** Ingest: fixed work per invocation, ms. */
  ingestBaseMs: 40,
  /** Ingest on Timestream: one WriteRecords of up to 100 readings, ms (calls made one after another). */
  ingestPerTimestreamCallMs: 30,
  /** Ingest on DynamoDB: one BatchWriteItem of up to 25 readings, ms (calls made one after another). */
  ingestPerBatchWriteMs: 20,
  /** Ingest: measured CPU per record (`npm run bench -- --only use-cases`: storeReadings, 122,435 records/s), µs at one full vCPU. */
  ingestCpuPerRecordUs: 8.2,
  /** Alarms: fixed work per invocation, ms. */
  alarmsBaseMs: 20,
  /** Alarms: one device's state read (and write when due), ms, with the calls overlapped. */
  alarmsPerDeviceMs: 5,
  /** Alarms: measured CPU per record (`npm run bench -- --only use-cases`: evaluateAlarms, 70,698 records/s), µs at one full vCPU. */
  alarmsCpuPerRecordUs: 14.1,
  /** Offline check: fixed work per run, ms, plus one Scan page per 1 MB of the table (segments in parallel). */
  offlineBaseMs: 100,
  offlinePerScanPageMs: 25,
  /** Offline check: one silent device's conditional write and notification, ms. */
  offlinePerSilentDeviceMs: 40,
  /** Share of the fleet silent at any time (each such device is a Scan match every run). */
  silentShare: 0.01,
  /** Size of one alarm-state item (deviceId, version, lastSeen, engine state, outbox), bytes: 1 WRU, 1 RRU strongly consistent. */
  alarmStateItemBytes: 800,
  /** Timestream bytes metered per reading, per byte of JSON payload (names, values and time, no JSON syntax). */
  timestreamBytesPerPayloadByte: 0.6,
  /** DynamoDB readings item: key attributes, TTL and type, bytes, plus the metrics' names and values (timestreamBytesPerPayloadByte of the payload). */
  readingItemFixedBytes: 90,
  /** DynamoDB's own per-item storage overhead, bytes (docs: "100 bytes of overhead per item" for indexing). */
  dynamodbItemOverheadBytes: 100,
  /** Alarm transitions (raise or clear) per device per day. */
  alarmsPerDevicePerDay: 0.1,
  /** Subscribers an alarm event reaches on IoT Core (the device itself and one operator console). */
  iotSubscribersPerAlarm: 2,
  /** E-mail subscriptions on the alarm topic. */
  alarmEmailSubscribers: 1,
  /** Share of consumer batches that end in the S3 failure destination (a brownout longer than the maximum record age). */
  failedBatchShare: 0.0001,
  /** Days the failure bucket keeps an object (its lifecycle rule, infra/aws/constructs/failure-bucket.ts). */
  failureObjectDays: 90,
  /** CloudWatch Logs bytes per invocation: Lambda's START/END/REPORT lines, Powertools metrics (EMF) and logs. */
  logBytesPerInvocation: 1200,
  /** Distinct custom metrics the functions emit (metric names x dimension sets, all three functions). */
  customMetrics: 24,
  /** CloudWatch dashboards the stack creates. */
  dashboards: 1,
} as const;
export type Assumptions = { readonly [K in keyof typeof DEFAULT_ASSUMPTIONS]: number };

export interface CostInput {
  readonly devices: number;
  /** Seconds between two readings of one device. */
  readonly intervalSeconds: number;
  /** JSON payload of one reading, bytes. @default 200 */
  readonly payloadBytes?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default the deployment default (provisioned) */
  readonly streamMode?: DeploymentSettings['streamMode'];
  /** @default the deployment default (dynamodb) */
  readonly timeSeriesStore?: CostTimeSeriesStore;
  /** @default 'basic-ingest' */
  readonly topic?: IngestTopic;
  /** Kinesis retention, hours (24 to 8760). @default 168 */
  readonly streamRetentionHours?: number;
  /** @default the deployment default */
  readonly timestreamMemoryRetentionHours?: number;
  /** @default the deployment default */
  readonly timestreamMagneticRetentionDays?: number;
  /** TTL of the DynamoDB readings, days. @default 30 */
  readonly readingsRetentionDays?: number;
  /** @default 30 (the deployment default) */
  readonly logRetentionDays?: number;
  /** The smallest silentFor window of the thresholds, seconds (sets the alarm-state write bound); null: no silentFor rule. @default 300 */
  readonly silentForSeconds?: number | null;
  /** The alarm-state table's capacity mode. @default the deployment default (provisioned, auto scaled) */
  readonly alarmStateCapacity?: DeploymentSettings['alarmStateCapacity'];
}

export const SERVICES = ['IoT Core', 'Kinesis', 'Lambda', 'DynamoDB', 'Timestream', 'S3', 'SNS', 'CloudWatch', 'KMS'] as const;
export type Service = (typeof SERVICES)[number];

export interface CostLine {
  readonly service: Service;
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly monthlyUsd: number;
}

/** One consumer's load on its busiest lane (a shard's ParallelizationFactor lanes share its records). */
export interface ConsumerLoad {
  readonly parallelizationFactor: number;
  /** Records a second reaching one lane. */
  readonly recordsPerSecondPerLane: number;
  readonly recordsPerInvocation: number;
  readonly invocationMs: number;
  /** Share of the lane's time spent in invocations: above 1 the mapping falls behind. */
  readonly utilization: number;
}

export interface CapacityVerdict {
  /** The configured stack keeps up with this fleet (every check below passes). */
  readonly keepsUp: boolean;
  readonly shards: { readonly needed: number; readonly configured: number };
  readonly consumers: Readonly<Partial<Record<'ingest' | 'alarms', ConsumerLoad>>>;
  readonly offlineCheck: { readonly durationMs: number; readonly budgetMs: number };
  /** The largest fleet at this interval and payload that the configured stack keeps up with. */
  readonly maxDevices: number;
  /** One line per check that fails, saying what to change. */
  readonly warnings: readonly string[];
}

export interface CostEstimate {
  readonly input: Required<CostInput>;
  readonly pricesAsOf: string;
  readonly currency: string;
  readonly traffic: {
    readonly messagesPerSecond: number;
    readonly messagesPerMonth: number;
    /** Bytes of one stream record (the rule's envelope around the payload). */
    readonly recordBytes: number;
  };
  readonly stream: {
    readonly mode: DeploymentSettings['streamMode'];
    /** Shards the write rate needs, with the headroom. */
    readonly shardsNeeded: number;
    /** pipeline.stream.shardCount: what the stack deploys in provisioned mode. */
    readonly shardsConfigured: number;
    /** Provisioned: the larger of the two (what runs); on-demand: none billed per shard. */
    readonly shardsBilled: number;
  };
  readonly lines: readonly CostLine[];
  readonly byService: Readonly<Record<Service, number>>;
  readonly totalUsd: number;
  /** Each time-series store's own monthly cost (its writes, storage and ingest function) for this fleet. */
  readonly timeSeriesStores: Readonly<Record<'dynamodb' | 'timestream', number>>;
  readonly capacity: CapacityVerdict;
  /** Each assumption in words, with its value. */
  readonly assumptions: readonly string[];
  /** The prices used whose figure was not re-read in any text when the table was compiled. */
  readonly unverifiedPrices: readonly string[];
}

/** The input cannot be estimated: names the field and what is allowed. */
export class CostInputError extends ConfigError {}

/** Bytes of the envelope the rule puts on the stream for one payload (docs/architecture.md). */
export function envelopeBytes(payloadBytes: number, deviceIdLength: number): number {
  const deviceId = 'd'.repeat(deviceIdLength);
  return Buffer.byteLength(
    JSON.stringify({
      payload: 'A'.repeat(4 * Math.ceil(payloadBytes / 3)),
      topic: pipeline.topics.telemetry.replace('{deviceId}', deviceId),
      clientId: deviceId,
      receivedAt: 1_764_028_800_123,
    }),
  );
}

/** Shards a provisioned stream needs for this write rate: the larger of the record and byte limits, with headroom. */
export function shardsNeeded(recordsPerSecond: number, recordBytes: number, headroom: number): number {
  const byRecords = recordsPerSecond / (SHARD_WRITE_LIMITS.recordsPerSecond * headroom);
  const byBytes = (recordsPerSecond * recordBytes) / (SHARD_WRITE_LIMITS.bytesPerSecond * headroom);
  return Math.max(1, Math.ceil(Math.max(byRecords, byBytes)));
}

/**
 * Records in one invocation of a mapping on one lane receiving `recordsPerSecond`: one record while
 * records are rarer than Lambda's polls (once a second, or once per batching window), what one poll
 * gathers while that fits a batch, and full batches beyond. Computed directly, not as a quotient of
 * rates: a quotient came out as 500.00000000000006 for some fleets, and Math.ceil of that billed a
 * sixth Timestream call per 500-record batch, so a larger fleet could cost less.
 */
export function recordsPerInvocation(recordsPerSecond: number, settings: EventSourceMappingSettings): number {
  const pollSeconds = Math.max(1, settings.maximumBatchingWindowInSeconds);
  return Math.min(settings.batchSize, Math.max(1, recordsPerSecond * pollSeconds));
}

/** Invocations per second one event source mapping makes on one lane receiving `recordsPerSecond`. */
export function invocationsPerSecondPerShard(recordsPerSecond: number, settings: EventSourceMappingSettings): number {
  return recordsPerSecond / recordsPerInvocation(recordsPerSecond, settings);
}

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

/** Bytes Timestream meters (and stores) for one reading. */
function timestreamReadingBytes(payloadBytes: number, a: Assumptions): number {
  return Math.max(64, Math.round(payloadBytes * a.timestreamBytesPerPayloadByte));
}

/** Bytes of one reading's item in the DynamoDB readings table. */
function dynamodbReadingBytes(payloadBytes: number, a: Assumptions): number {
  return a.readingItemFixedBytes + Math.round(payloadBytes * a.timestreamBytesPerPayloadByte);
}

/** The traffic and stream layout every part of the estimate shares. */
interface Fleet {
  readonly input: Required<CostInput>;
  readonly a: Assumptions;
  readonly messagesPerSecond: number;
  readonly messages: number;
  readonly recordBytes: number;
  readonly shardsNeeded: number;
  readonly shardsRunning: number;
}

function describeFleet(input: Required<CostInput>, a: Assumptions): Fleet {
  const messagesPerSecond = input.devices / input.intervalSeconds;
  const recordBytes = envelopeBytes(input.payloadBytes, a.deviceIdLength);
  const needed = shardsNeeded(messagesPerSecond, recordBytes, a.shardHeadroom);
  const shardsRunning =
    input.streamMode === 'provisioned' ? Math.max(needed, pipeline.stream.shardCount) : Math.max(needed, a.onDemandMinimumShards);
  return { input, a, messagesPerSecond, messages: messagesPerSecond * SECONDS_PER_MONTH, recordBytes, shardsNeeded: needed, shardsRunning };
}

/** How one consumer runs for this fleet: invocations a month and the load on each lane. */
function consumerRun(fleet: Fleet, settings: EventSourceMappingSettings, invocationMs: (records: number) => number) {
  const lanes = fleet.shardsRunning * settings.parallelizationFactor;
  const perLane = fleet.messagesPerSecond / lanes;
  const records = recordsPerInvocation(perLane, settings);
  const invocationsPerSecond = (perLane / records) * lanes;
  const ms = invocationMs(records);
  const load: ConsumerLoad = {
    parallelizationFactor: settings.parallelizationFactor,
    recordsPerSecondPerLane: perLane,
    recordsPerInvocation: records,
    invocationMs: ms,
    utilization: ((perLane / records) * ms) / 1000,
  };
  return { invocations: invocationsPerSecond * SECONDS_PER_MONTH, invocationsPerSecond, records, ms, load };
}

/** Lambda's share of a vCPU at this memory size (docs: 1,769 MB is one full vCPU). */
function vcpuShare(memoryMb: number): number {
  return Math.min(1, memoryMb / 1769);
}

/**
 * Requests an invocation of `records` makes at `perRequest` records each, counted as a fraction past
 * the first: an invocation's record count varies around its mean, so a mean of 101 records costs
 * about 1.01 requests on average, not 2. Rounding each invocation up made a fleet that got one more
 * shard (so smaller batches) cheaper than a smaller fleet: the model's own non-monotonicity.
 */
export function requests(records: number, perRequest: number): number {
  return Math.max(1, records / perRequest);
}

function ingestMs(store: CostTimeSeriesStore, records: number, a: Assumptions): number {
  const cpuMs = (records * a.ingestCpuPerRecordUs) / 1000 / vcpuShare(FUNCTION_SIZING.ingest.memoryMb);
  // Without a store the ingest consumer only validates and keeps rejects (a few, sent to SQS in batches: left out).
  const calls =
    store === 'timestream'
      ? requests(records, 100) * a.ingestPerTimestreamCallMs
      : store === 'dynamodb'
        ? requests(records, 25) * a.ingestPerBatchWriteMs
        : 0;
  return a.ingestBaseMs + cpuMs + calls;
}

/**
 * Devices in one alarms batch: every record is another device until the batch holds more records than
 * its lane has devices (a batch spanning more than one reading interval holds a device twice).
 */
function devicesPerAlarmBatch(records: number, perLane: number, intervalSeconds: number): number {
  return Math.min(records, perLane * intervalSeconds);
}

function alarmsMs(records: number, perLane: number, intervalSeconds: number, a: Assumptions): number {
  const cpuMs = (records * a.alarmsCpuPerRecordUs) / 1000 / vcpuShare(FUNCTION_SIZING.alarms.memoryMb);
  return a.alarmsBaseMs + cpuMs + devicesPerAlarmBatch(records, perLane, intervalSeconds) * a.alarmsPerDeviceMs;
}

/** The offline check's run time: the table's 1 MB Scan pages split over the segments, then the silent devices. */
function offlineMs(devices: number, a: Assumptions): number {
  const pages = Math.ceil((devices * a.alarmStateItemBytes) / MB);
  const silent = devices * a.silentShare;
  return (
    a.offlineBaseMs +
    Math.ceil(pages / OFFLINE_CHECK_SCAN.totalSegments) * a.offlinePerScanPageMs +
    Math.ceil(silent / OFFLINE_CHECK_SCAN.concurrentDevices) * a.offlinePerSilentDeviceMs
  );
}

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
  const region = prices.regions[full.region] as RegionPrices;
  const a = assumptions;
  const fleet = describeFleet(full, a);
  const lines: CostLine[] = [];
  const unverified = new Set<string>();
  const priced = (service: Service, item: string, quantity: number, unit: string, price: Price, unitsPerPrice: number): CostLine => {
    if (price.check === 'unverified') unverified.add(`${service}: ${price.usd} USD ${price.per}`);
    return { service, item, quantity, unit, monthlyUsd: (quantity / unitsPerPrice) * price.usd };
  };
  const charge = (...args: Parameters<typeof priced>): void => {
    lines.push(priced(...args));
  };
  const { messagesPerSecond, messages, recordBytes, shardsRunning } = fleet;

  const alarmEvents = (full.devices * a.alarmsPerDevicePerDay * SECONDS_PER_MONTH) / 86_400;
  const alarmEventBytes = 300;

  // IoT Core: connectivity; messages in (none with Basic Ingest: docs iot-basic-ingest) and alarm
  // events out (5 KB increments); one rule and one action per message either way.
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

  // Kinesis
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

  // Lambda: the two consumers (per lane batching) and the offline check.
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

  // DynamoDB alarm state: one strongly consistent read per device per alarms batch (it decides whether
  // to skip the write, so it must not be stale: lambdas/app/evaluate-alarms.ts); a write only when the
  // state changed (a transition: saved with its outbox, then the outbox cleared) or lastSeen moved past
  // the bound. The offline check scans the table (eventually consistent: half a unit per 4 KB). Each
  // transition is also one item in the alarm-history table.
  const alarmPerLane = messagesPerSecond / (shardsRunning * pipeline.consumers.alarms.parallelizationFactor);
  const stateReads = alarms.invocations * devicesPerAlarmBatch(alarms.records, alarmPerLane, full.intervalSeconds);
  const boundSeconds = lastSeenWriteBoundSeconds(full.silentForSeconds);
  const writeEvery = alarmStateWriteEverySeconds(full.intervalSeconds, boundSeconds);
  const stateWrites = (full.devices * SECONDS_PER_MONTH) / writeEvery + alarmEvents * 2;
  const itemWriteUnits = Math.ceil(a.alarmStateItemBytes / 1024);
  const itemReadUnits = Math.ceil(a.alarmStateItemBytes / 4096);
  const tableBytes = full.devices * a.alarmStateItemBytes;
  const writeUnits = stateWrites * itemWriteUnits;
  const readUnits = stateReads * itemReadUnits;
  const scanUnits = offlineRuns * Math.ceil(tableBytes / 4096) * 0.5;
  const writeLabel = `alarm-state writes (each device every ${Math.round(writeEvery)} s, and per transition)`;
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

  // The time-series store, and the same fleet on the other store for comparison.
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

  // S3: the on-failure destination keeps each failed invocation record (the whole batch, base64) for its lifecycle.
  const failedObjects = (alarms.invocations + ingest.invocations) * a.failedBatchShare;
  const failedBytes = (alarms.invocations * alarms.records + ingest.invocations * ingest.records) * a.failedBatchShare * recordBytes * 1.4;
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

  const byService = Object.fromEntries(SERVICES.map((s) => [s, 0])) as Record<Service, number>;
  for (const line of lines) byService[line.service] += line.monthlyUsd;
  const totalUsd = lines.reduce((total, line) => total + line.monthlyUsd, 0);

  return {
    input: full,
    pricesAsOf: prices.asOf,
    currency: prices.currency,
    traffic: { messagesPerSecond, messagesPerMonth: messages, recordBytes },
    stream: {
      mode: full.streamMode,
      shardsNeeded: fleet.shardsNeeded,
      shardsConfigured: pipeline.stream.shardCount,
      shardsBilled: full.streamMode === 'provisioned' ? shardsRunning : 0,
    },
    lines,
    byService,
    totalUsd,
    timeSeriesStores,
    capacity: capacityVerdict(full, a),
    assumptions: describeAssumptions(a, full),
    unverifiedPrices: [...unverified],
  };
}

type Priced = (service: Service, item: string, quantity: number, unit: string, price: Price, unitsPerPrice: number) => CostLine;

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
  // The offline check's duration, writes to the failure bucket, stream write throttles, alarm-state throttles.
  return consumers + functions + queues + 4;
}

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

function capacityVerdict(input: Required<CostInput>, a: Assumptions): CapacityVerdict {
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

function completeInput(input: CostInput, prices: PriceTable): Required<CostInput> {
  const d = DEFAULT_DEPLOYMENT_SETTINGS;
  const full: Required<CostInput> = {
    devices: input.devices,
    intervalSeconds: input.intervalSeconds,
    payloadBytes: input.payloadBytes ?? 200,
    region: input.region ?? 'us-east-1',
    streamMode: input.streamMode ?? d.streamMode,
    timeSeriesStore: input.timeSeriesStore ?? d.timeSeriesStore,
    topic: input.topic ?? 'basic-ingest',
    streamRetentionHours: input.streamRetentionHours ?? DEFAULT_STREAM_RETENTION_HOURS,
    timestreamMemoryRetentionHours: input.timestreamMemoryRetentionHours ?? d.timestreamMemoryRetentionHours,
    timestreamMagneticRetentionDays: input.timestreamMagneticRetentionDays ?? d.timestreamMagneticRetentionDays,
    readingsRetentionDays: input.readingsRetentionDays ?? DEFAULT_READINGS_RETENTION_DAYS,
    logRetentionDays: input.logRetentionDays ?? d.logRetentionDays,
    silentForSeconds: input.silentForSeconds === undefined ? DEFAULT_SILENT_FOR_SECONDS : input.silentForSeconds,
    alarmStateCapacity: input.alarmStateCapacity ?? d.alarmStateCapacity,
  };
  const positive = (field: keyof CostInput, value: number, integer: boolean): void => {
    if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      throw new CostInputError(`${field}: expected a positive ${integer ? 'integer' : 'number'}, got ${value}`);
    }
  };
  positive('devices', full.devices, true);
  positive('intervalSeconds', full.intervalSeconds, false);
  positive('payloadBytes', full.payloadBytes, true);
  positive('timestreamMemoryRetentionHours', full.timestreamMemoryRetentionHours, true);
  positive('timestreamMagneticRetentionDays', full.timestreamMagneticRetentionDays, true);
  positive('readingsRetentionDays', full.readingsRetentionDays, true);
  positive('logRetentionDays', full.logRetentionDays, true);
  if (full.silentForSeconds !== null) positive('silentForSeconds', full.silentForSeconds, false);
  if (!Number.isInteger(full.streamRetentionHours) || full.streamRetentionHours < 24 || full.streamRetentionHours > 8760) {
    throw new CostInputError(`streamRetentionHours: expected an integer from 24 to 8760 (Kinesis' limits), got ${full.streamRetentionHours}`);
  }
  if (!(COST_TIME_SERIES_STORES as readonly string[]).includes(full.timeSeriesStore)) {
    throw new CostInputError(`timeSeriesStore: expected one of ${COST_TIME_SERIES_STORES.join(', ')}, got ${full.timeSeriesStore}`);
  }
  if (!(INGEST_TOPICS as readonly string[]).includes(full.topic)) {
    throw new CostInputError(`topic: expected one of ${INGEST_TOPICS.join(', ')}, got ${full.topic}`);
  }
  if (full.payloadBytes > 128 * 1024) {
    throw new CostInputError(`payloadBytes: IoT Core takes at most 131072 bytes per message, got ${full.payloadBytes}`);
  }
  if (!(full.region in prices.regions)) {
    throw new CostInputError(
      `region: no prices for ${full.region} in infra/aws/cost/prices.ts (have: ${Object.keys(prices.regions).join(', ')})`,
    );
  }
  return full;
}

function describeAssumptions(a: Assumptions, input: Required<CostInput>): string[] {
  const bound = lastSeenWriteBoundSeconds(input.silentForSeconds);
  return [
    `a month is ${HOURS_PER_MONTH} hours; every device stays connected all month; no free tier, no discounts`,
    input.topic === 'basic-ingest'
      ? `devices publish by Basic Ingest ($aws/rules/${pipeline.rule.name}/...): no IoT messaging charge for telemetry, rules and actions still charged`
      : 'devices publish on the plain topic: each reading is an IoT message (5 KB increments)',
    `deviceId of ${a.deviceIdLength} characters; stream record = the rule's envelope around the base64 payload`,
    `provisioned shards planned at ${a.shardHeadroom * 100}% of 1,000 records/s and 1 MB/s each; at least infra/pipeline.ts's ${pipeline.stream.shardCount}; stream kept ${input.streamRetentionHours} h`,
    `on-demand streams run at least ${a.onDemandMinimumShards} shards' worth of capacity (this sets batching, not price)`,
    `Lambda polls each shard once a second (or per batching window) and splits it into parallelizationFactor lanes by partition key; batch sizes, windows and factors from infra/pipeline.ts`,
    `ingest: ${a.ingestBaseMs} ms + ${a.ingestCpuPerRecordUs} µs CPU per record (measured) scaled to the function's vCPU share + ${a.ingestPerTimestreamCallMs} ms per Timestream call of 100 / ${a.ingestPerBatchWriteMs} ms per BatchWriteItem of 25; alarms: ${a.alarmsBaseMs} ms + ${a.alarmsCpuPerRecordUs} µs CPU per record (measured) + ${a.alarmsPerDeviceMs} ms per device in the batch`,
    `offline check: ${a.offlineBaseMs} ms + ${a.offlinePerScanPageMs} ms per 1 MB Scan page over ${OFFLINE_CHECK_SCAN.totalSegments} parallel segments + ${a.offlinePerSilentDeviceMs} ms per silent device (${a.silentShare * 100}% of the fleet), ${OFFLINE_CHECK_SCAN.concurrentDevices} at a time`,
    `alarm-state item of ${a.alarmStateItemBytes} bytes; one strongly consistent read per device per alarms batch; a write per transition (plus its outbox clear, and a history item) and when lastSeen moved more than ${bound} s (half of the smallest silentFor, ${input.silentForSeconds ?? 'none'} s, at least 60 s); the offline check scans the whole table every ${pipeline.offlineCheck.everyMinutes} minute(s)`,
    input.timeSeriesStore === 'timestream'
      ? `Timestream meters ${a.timestreamBytesPerPayloadByte} byte per payload byte (at least 64) per reading, each request rounded up to whole KB; magnetic storage shown once ${input.timestreamMagneticRetentionDays} days have accumulated; queries not included`
      : input.timeSeriesStore === 'dynamodb'
        ? `DynamoDB readings: one item per reading of ${a.readingItemFixedBytes} bytes + ${a.timestreamBytesPerPayloadByte} byte per payload byte, on demand, kept ${input.readingsRetentionDays} days by TTL (deletes free); queries not included`
        : 'no time-series store (timeSeriesStore=none): the ingest consumer only keeps malformed messages as rejects',
    `${a.failedBatchShare * 100}% of consumer batches end in the S3 failure destination, kept ${a.failureObjectDays} days`,
    `${a.alarmsPerDevicePerDay} alarm transitions per device per day, each reaching ${a.iotSubscribersPerAlarm} IoT subscribers and ${a.alarmEmailSubscribers} e-mail address(es)`,
    `${a.logBytesPerInvocation} bytes of logs per invocation, kept ${input.logRetentionDays} days; ${a.customMetrics} custom metrics; ${a.dashboards} dashboard`,
    'queues of kept messages (rejects, rule errors) and the deploy-time endpoint lookup cost about nothing and are left out',
  ];
}
