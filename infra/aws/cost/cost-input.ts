/**
 * Input completion: the defaults of every field the caller left out, the checks that reject what
 * cannot be estimated, and the assumptions stated in words.
 */
import { THRESHOLDS_MAX_AGE_SECONDS } from '../../../lambdas/common/thresholds-env.js';
import { pipeline } from '../../pipeline.js';
import { DEFAULT_DEPLOYMENT_SETTINGS } from '../deployment-settings.js';
import { OFFLINE_CHECK_SCAN } from '../function-sizing.js';
import { COST_TIME_SERIES_STORES, CostInputError, DEFAULT_READINGS_RETENTION_DAYS, DEFAULT_SILENT_FOR_SECONDS, DEFAULT_STREAM_RETENTION_HOURS, HOURS_PER_MONTH, INGEST_TOPICS, lastSeenWriteBoundSeconds } from './cost-model.js';
import type { Assumptions, CostInput } from './cost-model.js';
import type { PriceTable } from './prices.js';

export function completeInput(input: CostInput, prices: PriceTable): Required<CostInput> {
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
    perReadingStateShare: input.perReadingStateShare ?? 0,
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
  if (!(full.perReadingStateShare >= 0 && full.perReadingStateShare <= 1)) {
    throw new CostInputError(`perReadingStateShare: expected a share from 0 to 1, got ${full.perReadingStateShare}`);
  }
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

export function describeAssumptions(a: Assumptions, input: Required<CostInput>): string[] {
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
    `${Math.round(input.perReadingStateShare * 100)}% of the devices are under a rule that keeps per-reading state (risesBy, fallsBy, unchangedFor): their alarm state is written on every reading, ${a.windowedAlarmStateItemBytes} bytes`,
    input.timeSeriesStore === 'timestream'
      ? `Timestream meters ${a.timestreamBytesPerPayloadByte} byte per payload byte (at least 64) per reading, each request rounded up to whole KB; magnetic storage shown once ${input.timestreamMagneticRetentionDays} days have accumulated; queries not included`
      : input.timeSeriesStore === 'dynamodb'
        ? `DynamoDB readings: one item per reading of ${a.readingItemFixedBytes} bytes + ${a.timestreamBytesPerPayloadByte} byte per payload byte, on demand, kept ${input.readingsRetentionDays} days by TTL (deletes free); queries not included`
        : 'no time-series store (timeSeriesStore=none): the ingest consumer only keeps malformed messages as rejects',
    `${a.failedBatchShare * 100}% of consumer batches end in the S3 failure destination, kept ${a.failureObjectDays} days`,
    `${a.alarmsPerDevicePerDay} alarm transitions per device per day, each reaching ${a.iotSubscribersPerAlarm} IoT subscribers and ${a.alarmEmailSubscribers} e-mail address(es)`,
    `${a.logBytesPerInvocation} bytes of logs per invocation, kept ${input.logRetentionDays} days; ${a.customMetrics} custom metrics; ${a.dashboards} dashboard`,
    `AppConfig thresholds: each function instance asks at most every ${THRESHOLDS_MAX_AGE_SECONDS} s while invoked, starts a session and receives them when it starts (instances live about ${a.functionInstanceHours} h, a guess: AWS publishes no lifetime), and once more per deployment (${a.thresholdDeploymentsPerMonth} a month); ${a.alarmCommandsPerMonth} operator commands a month, each a cold instance`,
    'queues of kept messages (rejects, rule errors) and the deploy-time endpoint lookup cost about nothing and are left out',
  ];
}
