/**
 * The write discipline every change of a device's alarm state follows (docs/architecture.md, "Alarm
 * state"): flush a leftover outbox first; decide; save the new state together with its transitions in
 * the outbox, in one conditional write; publish; save again with the outbox cleared. A lost race
 * reloads and decides again.
 */
import type { AlarmEvent } from '../domain/model.js';
import { ALARM_STATES } from '../domain/model.js';
import type { AlarmNotifier } from '../ports/alarm-notifier.js';
import type { AlarmStateStore, DeviceAlarmRecord } from '../ports/alarm-state-store.js';
import type { Log, Metrics } from '../ports/observability.js';
import { METRIC } from '../ports/observability.js';

export interface DeviceStateDeps {
  readonly states: AlarmStateStore;
  readonly notifier: AlarmNotifier;
  readonly metrics: Metrics;
  readonly log: Log;
  /** Reloads after a lost conditional write before giving up on the device. */
  readonly maxConflictRetries: number;
}

/** What to store: the new state, its lastSeen and the transitions. Undefined: nothing changed. */
export type DeviceDecision = { readonly state: unknown; readonly lastSeen: number; readonly events: readonly AlarmEvent[] } | undefined;

/**
 * `events`: the transitions this call decided and saved (published too when `ok`; otherwise they wait
 * in the outbox). `ok: false`: the device must be retried.
 */
export type DeviceUpdateOutcome =
  | { readonly ok: true; readonly events: readonly AlarmEvent[] }
  | { readonly ok: false; readonly why: 'conflicts' | 'notifier'; readonly events: readonly AlarmEvent[] };

/**
 * Applies `decide` to the device's stored record under the discipline above. The first attempt may
 * start from `loaded` (a record the caller already has) instead of loading it.
 * A RetryableError from the store comes back as a failure of the device; any other store error throws.
 */
export async function updateDevice(
  deviceId: string,
  decide: (record: DeviceAlarmRecord | undefined) => DeviceDecision,
  deps: DeviceStateDeps,
  options: { loaded?: DeviceAlarmRecord } = {},
): Promise<DeviceUpdateOutcome> {
  for (let attempt = 0; attempt <= deps.maxConflictRetries; attempt += 1) {
    if (attempt > 0) deps.metrics.count(METRIC.stateConflicts);
    let record = attempt === 0 && options.loaded !== undefined ? options.loaded : await deps.states.load(deviceId);

    if (record !== undefined && record.outbox.length > 0) {
      // Transitions decided by an earlier run whose publish failed: they go out before anything new.
      if (!(await publish(record.outbox, deviceId, deps))) return { ok: false, why: 'notifier', events: [] };
      const flushed: DeviceAlarmRecord = { ...record, version: record.version + 1, outbox: [] };
      if (!(await deps.states.save(flushed, record.version))) continue;
      record = flushed;
    }

    const decision = decide(record);
    if (decision === undefined) return { ok: true, events: [] };
    const next: DeviceAlarmRecord = {
      deviceId,
      version: (record?.version ?? 0) + 1,
      lastSeen: decision.lastSeen,
      state: decision.state,
      outbox: decision.events,
    };
    if (!(await deps.states.save(next, record?.version))) continue;

    // Decided exactly once: counted here, where the transition is saved, not where it is published.
    countTransitions(decision.events, deps.metrics);
    if (decision.events.length > 0) {
      if (!(await publish(decision.events, deviceId, deps))) return { ok: false, why: 'notifier', events: decision.events };
      const cleared = await deps.states.save({ ...next, version: next.version + 1, outbox: [] }, next.version);
      // Another writer loaded our outbox meanwhile and will publish it again: at least once, as designed.
      if (!cleared) deps.log.info('outbox cleared by a concurrent writer', { deviceId });
    }
    return { ok: true, events: decision.events };
  }
  deps.log.warn('alarm state kept conflicting, the device will be retried', { deviceId, retries: deps.maxConflictRetries });
  return { ok: false, why: 'conflicts', events: [] };
}

async function publish(events: readonly AlarmEvent[], deviceId: string, deps: DeviceStateDeps): Promise<boolean> {
  try {
    await deps.notifier.notify(events);
    return true;
  } catch (error) {
    // The events stay in the outbox; the retry publishes them first. Reported, not swallowed: the
    // device's records come back as failed.
    deps.log.error('alarm notification failed, kept in the outbox', { deviceId, events: events.length, error: String(error) });
    return false;
  }
}

function countTransitions(events: readonly AlarmEvent[], metrics: Metrics): void {
  let raised = 0;
  for (const event of events) if (event.state === ALARM_STATES.ALARM) raised += 1;
  if (raised > 0) metrics.count(METRIC.alarmsRaised, raised);
  if (events.length - raised > 0) metrics.count(METRIC.alarmsCleared, events.length - raised);
}
