/**
 * The cost estimate's vocabulary: its input, its result, the assumptions it makes where AWS does not
 * decide, and the constants of a billing month.
 */
import { ConfigError } from '../../../lambdas/domain/errors.js';
import { DEFAULT_DEPLOYMENT_SETTINGS, TIME_SERIES_STORES } from '../deployment-settings.js';
import type { DeploymentSettings } from '../deployment-settings.js';

/** A month as AWS prices it: 730 hours. */
export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
export const MINUTES_PER_MONTH = HOURS_PER_MONTH * 60;
export const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;
export const GB = 1024 ** 3;
export const MB = 1024 ** 2;

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
  /**
   * The same item for a device under a risesBy/fallsBy rule: plus the window of candidate readings
   * (at most 16 [ts, value] pairs), bytes: still 1 WRU. Measured by DynamoDB's sizing rules on the
   * engine's state: a cold-chain device under config/thresholds.json peaks at 702 bytes with a full window.
   */
  windowedAlarmStateItemBytes: 1000,
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
  /**
   * Hours a function instance (execution environment) lives before Lambda replaces it: each new one
   * starts an AppConfig session and receives the thresholds once. AWS publishes no lifetime; a guess.
   */
  functionInstanceHours: 4,
  /** Threshold deployments a month (npm run thresholds -- deploy): each is received once by every instance. */
  thresholdDeploymentsPerMonth: 4,
  /** Operator commands a month: each one a cold alarm-commands instance (a session, a read, a configuration received). */
  alarmCommandsPerMonth: 300,
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
  /**
   * Share of the devices (0 to 1) that a rule keeping per-reading state applies to (risesBy, fallsBy,
   * unchangedFor: their state moves with most readings, so such a device's alarm state is written on
   * every reading instead of once per write bound). @default 0
   */
  readonly perReadingStateShare?: number;
}

export const SERVICES = ['IoT Core', 'Kinesis', 'Lambda', 'DynamoDB', 'Timestream', 'S3', 'SNS', 'CloudWatch', 'KMS', 'AppConfig'] as const;
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
