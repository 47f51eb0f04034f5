/**
 * The monthly AWS cost of the pipeline for a fleet: a pure function of the fleet, the pipeline
 * definition, the stack's sizing and a price table. Every quantity it prices is in the result, with
 * the assumptions behind the ones AWS does not fix (durations, sizes, rates), so a reader can redo
 * the arithmetic.
 */
import { pipeline } from '../../pipeline.js';
import type { EventSourceMappingSettings } from '../../pipeline.js';
import { DEFAULT_DEPLOYMENT_SETTINGS } from '../deployment-settings.js';
import type { DeploymentSettings } from '../deployment-settings.js';
import { FUNCTION_SIZING } from '../function-sizing.js';
import { PRICE_TABLE } from './prices.js';
import type { Price, PriceTable, PriceTier, RegionPrices } from './prices.js';
import { ConfigError } from '../../../lambdas/domain/errors.js';

/** A month as AWS prices it: 730 hours. */
export const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const MINUTES_PER_MONTH = HOURS_PER_MONTH * 60;
const GB = 1024 ** 3;
const MB = 1024 ** 2;

/** Kinesis limits per shard (docs kinesis/latest/dev/service-sizes-and-limits). */
export const SHARD_WRITE_LIMITS = { recordsPerSecond: 1000, bytesPerSecond: 1 * MB } as const;

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
  /** Ingest: one Timestream WriteRecords of up to 100 readings, ms (calls made one after another). */
  ingestPerWriteMs: 30,
  /** Alarms: fixed work per invocation, ms. */
  alarmsBaseMs: 20,
  /** Alarms: one device's state read and conditional write, ms, with the calls overlapped. */
  alarmsPerDeviceMs: 5,
  /** Offline check: fixed work per run, ms, plus one Scan page per 1 MB of the table. */
  offlineBaseMs: 100,
  offlinePerScanPageMs: 25,
  /** Size of one alarm-state item (deviceId, version, lastSeen, engine state, outbox), bytes: 1 WRU. */
  alarmStateItemBytes: 800,
  /** Timestream bytes stored per reading, per byte of JSON payload (names, values and time, no JSON syntax). */
  timestreamBytesPerPayloadByte: 0.6,
  /** Alarm transitions (raise or clear) per device per day. */
  alarmsPerDevicePerDay: 0.1,
  /** Subscribers an alarm event reaches on IoT Core (the device itself and one operator console). */
  iotSubscribersPerAlarm: 2,
  /** E-mail subscriptions on the alarm topic. */
  alarmEmailSubscribers: 1,
  /** CloudWatch Logs bytes per invocation: Lambda's START/END/REPORT lines, Powertools metrics (EMF) and logs. */
  logBytesPerInvocation: 1200,
  /** Distinct custom metrics the functions emit (metric names x dimension sets, all three functions). */
  customMetrics: 24,
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
  /** @default the deployment default (timestream) */
  readonly timeSeriesStore?: DeploymentSettings['timeSeriesStore'];
  /** @default the deployment default */
  readonly timestreamMemoryRetentionHours?: number;
  /** @default the deployment default */
  readonly timestreamMagneticRetentionDays?: number;
  /** @default 30 (the deployment default) */
  readonly logRetentionDays?: number;
}

export const SERVICES = [
  'IoT Core',
  'Kinesis',
  'Lambda',
  'DynamoDB',
  'Timestream',
  'SNS',
  'CloudWatch',
  'KMS',
] as const;
export type Service = (typeof SERVICES)[number];

export interface CostLine {
  readonly service: Service;
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly monthlyUsd: number;
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
 * Invocations per second one event source mapping makes on one shard: a batch per record while
 * records are rarer than Lambda's polls (once a second per shard, or once per batching window), a
 * batch per poll while they fit one batch, and full batches beyond.
 */
export function invocationsPerSecondPerShard(recordsPerSecond: number, settings: EventSourceMappingSettings): number {
  const pollsPerSecond = 1 / Math.max(1, settings.maximumBatchingWindowInSeconds);
  return Math.min(recordsPerSecond, Math.max(pollsPerSecond, recordsPerSecond / settings.batchSize));
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
  const lines: CostLine[] = [];
  const unverified = new Set<string>();
  const charge = (service: Service, item: string, quantity: number, unit: string, price: Price, unitsPerPrice: number): void => {
    if (price.check === 'unverified') unverified.add(`${service}: ${price.usd} USD ${price.per}`);
    lines.push({ service, item, quantity, unit, monthlyUsd: (quantity / unitsPerPrice) * price.usd });
  };

  // Traffic
  const messagesPerSecond = full.devices / full.intervalSeconds;
  const messages = messagesPerSecond * SECONDS_PER_MONTH;
  const recordBytes = envelopeBytes(full.payloadBytes, a.deviceIdLength);
  const topicBytes = pipeline.topics.telemetry.replace('{deviceId}', 'd'.repeat(a.deviceIdLength)).length;
  const alarmEvents = (full.devices * a.alarmsPerDevicePerDay * SECONDS_PER_MONTH) / 86_400;
  const alarmEventBytes = 300;

  // IoT Core: connectivity, messages in and out (5 KB increments), one rule and one action per message.
  const messageUnits = Math.ceil((full.payloadBytes + topicBytes) / 5120);
  const alarmMessages = alarmEvents * (1 + a.iotSubscribersPerAlarm) * Math.ceil(alarmEventBytes / 5120);
  charge('IoT Core', 'connectivity', full.devices * MINUTES_PER_MONTH, 'connection-minutes', region.iotCore.connectivity, 1e6);
  const metered = messages * messageUnits + alarmMessages;
  const messaging = region.iotCore.messaging;
  if (messaging.check === 'unverified') unverified.add(`IoT Core: ${messaging.usd} USD ${messaging.per} (tiered)`);
  lines.push({
    service: 'IoT Core',
    item: 'messaging (telemetry in, alarm events out)',
    quantity: metered,
    unit: 'messages',
    monthlyUsd: tiered(metered, messaging.tiers, 1e6),
  });
  charge('IoT Core', 'rules triggered', messages * messageUnits, 'rules', region.iotCore.rulesTriggered, 1e6);
  charge('IoT Core', 'rule actions (Kinesis)', messages, 'actions', region.iotCore.actionsApplied, 1e6);

  // Kinesis
  const needed = shardsNeeded(messagesPerSecond, recordBytes, a.shardHeadroom);
  const configured = pipeline.stream.shardCount;
  const shardsRunning = full.streamMode === 'provisioned' ? Math.max(needed, configured) : Math.max(needed, a.onDemandMinimumShards);
  if (full.streamMode === 'provisioned') {
    charge('Kinesis', `shard-hours (${shardsRunning} shards)`, shardsRunning * HOURS_PER_MONTH, 'shard-hours', region.kinesis.shardHour, 1);
    charge('Kinesis', 'PUT payload units', messages * Math.ceil(recordBytes / 25_600), 'units', region.kinesis.putPayloadUnits, 1e6);
  } else {
    const gbIn = (messages * Math.ceil(recordBytes / 1024) * 1024) / GB;
    const consumers = Object.keys(pipeline.consumers).length - (full.timeSeriesStore === 'none' ? 1 : 0);
    charge('Kinesis', 'stream-hours (on-demand)', HOURS_PER_MONTH, 'stream-hours', region.kinesis.onDemandStreamHour, 1);
    charge('Kinesis', 'data in', gbIn, 'GB', region.kinesis.onDemandDataIn, 1);
    charge('Kinesis', `data out (${consumers} consumers)`, gbIn * consumers, 'GB', region.kinesis.onDemandDataOut, 1);
  }

  // Lambda: the two consumers (per shard batching) and the offline check (every pipeline.offlineCheck.everyMinutes).
  const perShard = messagesPerSecond / shardsRunning;
  const consumer = (settings: EventSourceMappingSettings) => {
    const invocationsPerSecond = invocationsPerSecondPerShard(perShard, settings) * shardsRunning;
    const recordsPerInvocation = invocationsPerSecond === 0 ? 0 : messagesPerSecond / invocationsPerSecond;
    return { invocations: invocationsPerSecond * SECONDS_PER_MONTH, recordsPerInvocation, invocationsPerSecond };
  };
  const ingest = consumer(pipeline.consumers.ingest);
  const alarms = consumer(pipeline.consumers.alarms);
  // A batch holds several readings of one device only when it spans more than one reading interval.
  const batchSpanSeconds = alarms.invocationsPerSecond === 0 ? 0 : shardsRunning / alarms.invocationsPerSecond;
  const devicesPerAlarmBatch = alarms.recordsPerInvocation / Math.max(1, batchSpanSeconds / full.intervalSeconds);
  const tableBytes = full.devices * a.alarmStateItemBytes;
  const offlineRuns = MINUTES_PER_MONTH / pipeline.offlineCheck.everyMinutes;
  const functions: { name: string; invocations: number; ms: number; memoryMb: number }[] = [
    {
      name: 'alarms',
      invocations: alarms.invocations,
      ms: a.alarmsBaseMs + devicesPerAlarmBatch * a.alarmsPerDeviceMs,
      memoryMb: FUNCTION_SIZING.alarms.memoryMb,
    },
    {
      name: 'offline',
      invocations: offlineRuns,
      ms: a.offlineBaseMs + Math.ceil(tableBytes / MB) * a.offlinePerScanPageMs,
      memoryMb: FUNCTION_SIZING.offline.memoryMb,
    },
  ];
  if (full.timeSeriesStore === 'timestream') {
    functions.unshift({
      name: 'ingest',
      invocations: ingest.invocations,
      ms: a.ingestBaseMs + Math.ceil(ingest.recordsPerInvocation / 100) * a.ingestPerWriteMs,
      memoryMb: FUNCTION_SIZING.ingest.memoryMb,
    });
  }
  let invocationsTotal = 0;
  for (const f of functions) {
    invocationsTotal += f.invocations;
    charge('Lambda', `${f.name} requests`, f.invocations, 'requests', region.lambda.requests, 1e6);
    const gbSeconds = f.invocations * (f.ms / 1000) * (f.memoryMb / 1024);
    charge('Lambda', `${f.name} duration (${Math.round(f.ms)} ms x ${f.memoryMb} MB)`, gbSeconds, 'GB-seconds', region.lambda.arm64GbSecond, 1);
  }

  // DynamoDB: one strongly consistent read and one conditional write per device per alarms batch;
  // the offline check scans the table (eventually consistent: half a unit per 4 KB).
  const stateAccesses = alarms.invocations * devicesPerAlarmBatch;
  const itemWriteUnits = Math.ceil(a.alarmStateItemBytes / 1024);
  const itemReadUnits = Math.ceil(a.alarmStateItemBytes / 4096);
  charge('DynamoDB', 'writes (alarm state)', stateAccesses * itemWriteUnits, 'WRU', region.dynamodb.onDemandWrites, 1e6);
  charge('DynamoDB', 'reads (alarm state)', stateAccesses * itemReadUnits, 'RRU', region.dynamodb.onDemandReads, 1e6);
  charge('DynamoDB', 'scans (offline check)', offlineRuns * Math.ceil(tableBytes / 4096) * 0.5, 'RRU', region.dynamodb.onDemandReads, 1e6);
  charge('DynamoDB', 'storage', tableBytes / GB, 'GB-months', region.dynamodb.storageGbMonth, 1);
  charge('DynamoDB', 'point-in-time recovery', tableBytes / GB, 'GB-months', region.dynamodb.pitrGbMonth, 1);

  // Timestream: one multi-measure record per reading (one 1 KB write unit each while it is under 1 KB).
  if (full.timeSeriesStore === 'timestream') {
    const storedBytes = Math.max(64, Math.round(full.payloadBytes * a.timestreamBytesPerPayloadByte));
    const bytesPerHour = messagesPerSecond * 3600 * storedBytes;
    charge('Timestream', 'writes', messages * Math.ceil(storedBytes / 1024), '1 KB writes', region.timestream.writes, 1e6);
    const memoryGb = (bytesPerHour * full.timestreamMemoryRetentionHours) / GB;
    charge('Timestream', `memory store (${full.timestreamMemoryRetentionHours} h kept)`, memoryGb * HOURS_PER_MONTH, 'GB-hours', region.timestream.memoryGbHour, 1);
    const magneticGb = (bytesPerHour * 24 * full.timestreamMagneticRetentionDays) / GB;
    charge('Timestream', `magnetic store (when ${full.timestreamMagneticRetentionDays} days are kept)`, magneticGb, 'GB-months', region.timestream.magneticGbMonth, 1);
  }

  // SNS: one publish per alarm event; e-mail deliveries to the subscribers.
  charge('SNS', 'publishes (alarm events)', alarmEvents, 'publishes', region.sns.publishes, 1e6);
  charge('SNS', 'e-mail deliveries', alarmEvents * a.alarmEmailSubscribers, 'e-mails', region.sns.emailDeliveries, 1e5);

  // CloudWatch: the stack's alarms, the functions' logs and their metrics.
  const alarmCount = operationalAlarmCount(full.timeSeriesStore);
  charge('CloudWatch', 'alarms', alarmCount, 'alarm-months', region.cloudWatch.standardAlarmMonth, 1);
  const logGb = (invocationsTotal * a.logBytesPerInvocation) / GB;
  charge('CloudWatch', 'logs ingested', logGb, 'GB', region.cloudWatch.logsIngestedGb, 1);
  charge('CloudWatch', `logs stored (${full.logRetentionDays} days kept)`, (logGb * full.logRetentionDays) / 30.4, 'GB-months', region.cloudWatch.logsStoredGbMonth, 1);
  charge('CloudWatch', 'custom metrics', a.customMetrics, 'metric-months', region.cloudWatch.customMetricMonth, 1);

  // KMS: the topics' key.
  charge('KMS', 'topic key', 1, 'key-months', region.kms.customerKeyMonth, 1);

  const byService = Object.fromEntries(SERVICES.map((s) => [s, 0])) as Record<Service, number>;
  for (const line of lines) byService[line.service] += line.monthlyUsd;
  const totalUsd = lines.reduce((sum, line) => sum + line.monthlyUsd, 0);

  return {
    input: full,
    pricesAsOf: prices.asOf,
    currency: prices.currency,
    traffic: { messagesPerSecond, messagesPerMonth: messages, recordBytes },
    stream: {
      mode: full.streamMode,
      shardsNeeded: needed,
      shardsConfigured: configured,
      shardsBilled: full.streamMode === 'provisioned' ? shardsRunning : 0,
    },
    lines,
    byService,
    totalUsd,
    assumptions: describeAssumptions(a, full),
    unverifiedPrices: [...unverified],
  };
}

/**
 * The CloudWatch alarms the stack creates (infra/aws/constructs/operational-alarms.ts): iterator age
 * per consumer, errors per function, depth per kept-messages queue, and stream write throttles.
 * A test checks this against the synthesized template.
 */
export function operationalAlarmCount(_store: DeploymentSettings['timeSeriesStore']): number {
  // Every store runs both consumers: with timeSeriesStore=none the ingest consumer only keeps rejects.
  const consumers = 2;
  const functions = consumers + 1;
  const queues = 2; // rejects, rule errors
  // The offline check's duration, writes to the failure bucket, stream write throttles.
  return consumers + functions + queues + 3;
}

function completeInput(input: CostInput, prices: PriceTable): Required<CostInput> {
  const d = DEFAULT_DEPLOYMENT_SETTINGS;
  const full: Required<CostInput> = {
    devices: input.devices,
    intervalSeconds: input.intervalSeconds,
    payloadBytes: input.payloadBytes ?? 200,
    region: input.region ?? 'us-east-1',
    streamMode: input.streamMode ?? d.streamMode,
    // Timestream until this estimator prices the DynamoDB readings store (the aws-ops work), even
    // though the deployment default is now dynamodb.
    timeSeriesStore: input.timeSeriesStore ?? 'timestream',
    timestreamMemoryRetentionHours: input.timestreamMemoryRetentionHours ?? d.timestreamMemoryRetentionHours,
    timestreamMagneticRetentionDays: input.timestreamMagneticRetentionDays ?? d.timestreamMagneticRetentionDays,
    logRetentionDays: input.logRetentionDays ?? d.logRetentionDays,
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
  positive('logRetentionDays', full.logRetentionDays, true);
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
  return [
    `a month is ${HOURS_PER_MONTH} hours; every device stays connected all month; no free tier, no discounts`,
    `deviceId of ${a.deviceIdLength} characters; stream record = the rule's envelope around the base64 payload`,
    `provisioned shards planned at ${a.shardHeadroom * 100}% of 1,000 records/s and 1 MB/s each; at least infra/pipeline.ts's ${pipeline.stream.shardCount}`,
    `on-demand streams run at least ${a.onDemandMinimumShards} shards' worth of capacity (this sets batching, not price)`,
    `Lambda polls each shard once a second (or per batching window); batch sizes and windows from infra/pipeline.ts`,
    `ingest: ${a.ingestBaseMs} ms + ${a.ingestPerWriteMs} ms per Timestream call of 100 readings; alarms: ${a.alarmsBaseMs} ms + ${a.alarmsPerDeviceMs} ms per device in the batch; offline: ${a.offlineBaseMs} ms + ${a.offlinePerScanPageMs} ms per 1 MB scanned`,
    `alarm-state item of ${a.alarmStateItemBytes} bytes; one strongly consistent read and one conditional write per device per alarms batch; the offline check scans the whole table every ${pipeline.offlineCheck.everyMinutes} minute(s)`,
    input.timeSeriesStore === 'timestream'
      ? `Timestream stores ${a.timestreamBytesPerPayloadByte} byte per payload byte (at least 64) per reading; magnetic storage shown once ${input.timestreamMagneticRetentionDays} days have accumulated; queries not included`
      : 'no time-series store (timeSeriesStore=none)',
    `${a.alarmsPerDevicePerDay} alarm transitions per device per day, each reaching ${a.iotSubscribersPerAlarm} IoT subscribers and ${a.alarmEmailSubscribers} e-mail address(es)`,
    `${a.logBytesPerInvocation} bytes of logs per invocation, kept ${input.logRetentionDays} days; ${a.customMetrics} custom metrics`,
    'queues of kept messages (rejects, failures, rule errors) and the deploy-time endpoint lookup cost about nothing and are left out',
  ];
}
