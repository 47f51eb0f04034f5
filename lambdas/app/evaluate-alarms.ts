/**
 * Use case of the alarms consumer: one stream batch through the alarm state machine, one conditional
 * write per device, transitions published through the outbox (docs/architecture.md, "Alarm state").
 */
import { RetryableError } from '../domain/errors.js';
import { alarmStateChanged, applyReadings, lastSeenWriteBoundMs, nextWakeAt } from '../domain/alarm-engine.js';
import type { BatchOutcome, Reading, RecordRef, StreamRecord } from '../domain/model.js';
import { decodeStreamRecord } from '../domain/telemetry.js';
import type { AlarmNotifier } from '../ports/alarm-notifier.js';
import type { AlarmStateStore } from '../ports/alarm-state-store.js';
import type { Clock } from '../ports/clock.js';
import type { Log, Metrics } from '../ports/observability.js';
import { METRIC } from '../ports/observability.js';
import type { RulesInForce } from '../ports/thresholds-source.js';
import { currentRules } from '../ports/thresholds-source.js';
import { mapWithLimit } from './concurrency.js';
import { updateDevice } from './device-state.js';

export interface EvaluateAlarmsDeps {
  /** Read once per invocation (ports/thresholds-source.ts). */
  readonly rules: RulesInForce;
  readonly states: AlarmStateStore;
  readonly notifier: AlarmNotifier;
  readonly metrics: Metrics;
  readonly log: Log;
  /** Reloads after a lost conditional write before the device's records are failed. Default 5. */
  readonly maxConflictRetries?: number;
  /** For the outbox lease (see device-state.ts). Default: the system clock. */
  readonly clock?: Clock;
  /** How long a saved outbox belongs to its writer. Default DEFAULT_OUTBOX_LEASE_MS. */
  readonly outboxLeaseMs?: number;
  /** Devices evaluated at once (one device is always strictly sequential). Default 8. */
  readonly maxConcurrentDevices?: number;
}

interface DeviceBatch {
  readonly deviceId: string;
  readonly readings: Reading[];
  /** The records' places, with their batch index so failures come back in stream order. */
  readonly records: { readonly index: number; readonly ref: RecordRef }[];
}

/**
 * Evaluates a batch of stream records against the threshold rules.
 * - A device's state is written only when its alarms changed or its lastSeen moved by more than
 *   lastSeenWriteBoundMs (docs/architecture.md, "Alarm state").
 * - Malformed records are skipped and counted (metric ReadingsRejected, dimension consumer=alarms):
 *   the ingest consumer keeps them, so they are not kept twice.
 * - Devices run concurrently, each one's readings strictly in order.
 * - A device whose notification fails, or whose state keeps conflicting, or whose store call throws a
 *   RetryableError, has all its records failed; a retry finds its outbox and publishes it first.
 * - Any other error throws (the whole invocation fails).
 * @returns the records to retry, in stream order.
 */
export async function evaluateAlarms(records: readonly StreamRecord[], deps: EvaluateAlarmsDeps): Promise<BatchOutcome> {
  const { devices, skipped } = groupByDevice(records);
  if (skipped > 0) {
    deps.metrics.count(METRIC.readingsRejected, skipped, { name: 'consumer', value: 'alarms' });
    deps.log.debug('malformed records skipped (kept by the ingest consumer)', { skipped });
  }
  const stateDeps = { ...deps, maxConflictRetries: deps.maxConflictRetries ?? 5 };
  const rules = await currentRules(deps.rules);
  const lastSeenBoundMs = lastSeenWriteBoundMs(rules);

  const failedByDevice = await mapWithLimit(devices, deps.maxConcurrentDevices ?? 8, async (device) => {
    try {
      const outcome = await updateDevice(
        device.deviceId,
        (record) => {
          const result = applyReadings({ deviceId: device.deviceId, state: record?.state, readings: device.readings, rules });
          if (result.reset) deps.log.warn('stored alarm state unreadable, started afresh', { deviceId: device.deviceId });
          // Nothing newer than the stored state (a replay or a late batch): nothing to write.
          if (result.applied === 0 || result.lastSeen === undefined) return undefined;
          // Issue 11, "alarm state writes": only lastSeen moved, and by at most the bound the offline
          // check allows for: no write (the read was strongly consistent, so this is not a stale view).
          if (
            record !== undefined &&
            result.events.length === 0 &&
            !alarmStateChanged(record.state, result.state) &&
            result.lastSeen - record.lastSeen <= lastSeenBoundMs
          ) {
            deps.metrics.count(METRIC.stateWritesSkipped);
            return undefined;
          }
          return { state: result.state, lastSeen: result.lastSeen, events: result.events, wakeAt: nextWakeAt(result.state, rules) };
        },
        stateDeps,
      );
      return outcome.ok ? [] : device.records;
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      deps.log.warn('alarm state store failed, the device will be retried', { deviceId: device.deviceId, error: String(error) });
      return device.records;
    }
  });

  const failed = failedByDevice.flat().sort((a, b) => a.index - b.index).map((item) => item.ref);
  if (failed.length > 0) deps.metrics.count(METRIC.recordsRetried, failed.length);
  return { failed };
}

function groupByDevice(records: readonly StreamRecord[]): { devices: DeviceBatch[]; skipped: number } {
  const byDevice = new Map<string, DeviceBatch>();
  let skipped = 0;
  records.forEach((record, index) => {
    const decoded = decodeStreamRecord(record);
    if (!decoded.success) {
      skipped += 1;
      return;
    }
    const { deviceId } = decoded.reading;
    let device = byDevice.get(deviceId);
    if (device === undefined) {
      device = { deviceId, readings: [], records: [] };
      byDevice.set(deviceId, device);
    }
    device.readings.push(decoded.reading);
    device.records.push({ index, ref: record.ref });
  });
  return { devices: [...byDevice.values()], skipped };
}
