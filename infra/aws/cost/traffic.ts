/**
 * The traffic model: what the fleet puts on the stream (envelope bytes, messages, shards) and how the
 * event source mappings and the offline check run on it (invocations, records per batch, duration).
 */
import { pipeline } from '../../pipeline.js';
import type { EventSourceMappingSettings } from '../../pipeline.js';
import { FUNCTION_SIZING, OFFLINE_CHECK_SCAN } from '../function-sizing.js';
import { MB, SECONDS_PER_MONTH, SHARD_WRITE_LIMITS } from './cost-model.js';
import type { Assumptions, ConsumerLoad, CostInput, CostTimeSeriesStore } from './cost-model.js';

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

/** Bytes Timestream meters (and stores) for one reading. */
export function timestreamReadingBytes(payloadBytes: number, a: Assumptions): number {
  return Math.max(64, Math.round(payloadBytes * a.timestreamBytesPerPayloadByte));
}

/** Bytes of one reading's item in the DynamoDB readings table. */
export function dynamodbReadingBytes(payloadBytes: number, a: Assumptions): number {
  return a.readingItemFixedBytes + Math.round(payloadBytes * a.timestreamBytesPerPayloadByte);
}

/** The traffic and stream layout every part of the estimate shares. */
export interface Fleet {
  readonly input: Required<CostInput>;
  readonly a: Assumptions;
  readonly messagesPerSecond: number;
  readonly messages: number;
  readonly recordBytes: number;
  readonly shardsNeeded: number;
  readonly shardsRunning: number;
}

export function describeFleet(input: Required<CostInput>, a: Assumptions): Fleet {
  const messagesPerSecond = input.devices / input.intervalSeconds;
  const recordBytes = envelopeBytes(input.payloadBytes, a.deviceIdLength);
  const needed = shardsNeeded(messagesPerSecond, recordBytes, a.shardHeadroom);
  const shardsRunning =
    input.streamMode === 'provisioned' ? Math.max(needed, pipeline.stream.shardCount) : Math.max(needed, a.onDemandMinimumShards);
  return { input, a, messagesPerSecond, messages: messagesPerSecond * SECONDS_PER_MONTH, recordBytes, shardsNeeded: needed, shardsRunning };
}

/** How one consumer runs for this fleet: invocations a month and the load on each lane. */
export function consumerRun(fleet: Fleet, settings: EventSourceMappingSettings, invocationMs: (records: number) => number) {
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

export function ingestMs(store: CostTimeSeriesStore, records: number, a: Assumptions): number {
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
export function devicesPerAlarmBatch(records: number, perLane: number, intervalSeconds: number): number {
  return Math.min(records, perLane * intervalSeconds);
}

export function alarmsMs(records: number, perLane: number, intervalSeconds: number, a: Assumptions): number {
  const cpuMs = (records * a.alarmsCpuPerRecordUs) / 1000 / vcpuShare(FUNCTION_SIZING.alarms.memoryMb);
  return a.alarmsBaseMs + cpuMs + devicesPerAlarmBatch(records, perLane, intervalSeconds) * a.alarmsPerDeviceMs;
}

/** The offline check's run time: the table's 1 MB Scan pages split over the segments, then the silent devices. */
export function offlineMs(devices: number, a: Assumptions): number {
  const pages = Math.ceil((devices * a.alarmStateItemBytes) / MB);
  const silent = devices * a.silentShare;
  return (
    a.offlineBaseMs +
    Math.ceil(pages / OFFLINE_CHECK_SCAN.totalSegments) * a.offlinePerScanPageMs +
    Math.ceil(silent / OFFLINE_CHECK_SCAN.concurrentDevices) * a.offlinePerSilentDeviceMs
  );
}

/** How one consumer runs for this fleet (see consumerRun). */
export type ConsumerRun = ReturnType<typeof consumerRun>;
