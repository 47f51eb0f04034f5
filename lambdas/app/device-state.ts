/**
 * The write discipline every change of a device's alarm state follows (docs/architecture.md, "Alarm
 * state"): flush a stale outbox first; decide; save the new state together with its transitions in
 * the outbox, in one conditional write; publish; remove them from the outbox. A lost race reloads and
 * decides again.
 *
 * Two writers can hold the same device at once (the alarms consumer and the offline check, on AWS two
 * Lambdas). The outbox lease keeps them from publishing each other's transitions twice: a writer that
 * finds a recent outbox waits for its owner to finish, and only an outbox older than the lease (its
 * owner died) or abandoned (its owner's publish failed) is published by someone else.
 */
import type { AlarmEvent } from '../domain/model.js';
import { ALARM_STATES } from '../domain/model.js';
import type { AlarmNotifier } from '../ports/alarm-notifier.js';
import type { AlarmStateStore, DeviceAlarmRecord, OutboxEntry } from '../ports/alarm-state-store.js';
import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import type { Log, Metrics } from '../ports/observability.js';
import { METRIC } from '../ports/observability.js';

/**
 * How long an outbox belongs to the writer that saved it. Longer than a publish takes, including the
 * webhook's retries; shorter than anyone would wait for an alarm after a crash.
 */
export const DEFAULT_OUTBOX_LEASE_MS = 30_000;
/** Pause before reloading a device whose outbox another writer is publishing. */
const BUSY_WAIT_MS = 50;

export interface DeviceStateDeps {
  readonly states: AlarmStateStore;
  readonly notifier: AlarmNotifier;
  readonly metrics: Metrics;
  readonly log: Log;
  /** Reloads after a lost conditional write (or a busy outbox) before giving up on the device. */
  readonly maxConflictRetries: number;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default DEFAULT_OUTBOX_LEASE_MS */
  readonly outboxLeaseMs?: number;
}

/**
 * What to store: the new state, its lastSeen, the transitions and when the scheduled check must next
 * visit the device (nextWakeAt). Undefined: nothing to write.
 */
export type DeviceDecision =
  | { readonly state: unknown; readonly lastSeen: number; readonly events: readonly AlarmEvent[]; readonly wakeAt?: number | undefined }
  | undefined;

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
  const clock = deps.clock ?? systemClock;
  const leaseMs = deps.outboxLeaseMs ?? DEFAULT_OUTBOX_LEASE_MS;
  for (let attempt = 0; attempt <= deps.maxConflictRetries; attempt += 1) {
    if (attempt > 0) deps.metrics.count(METRIC.stateConflicts);
    let record = attempt === 0 && options.loaded !== undefined ? options.loaded : await deps.states.load(deviceId);

    if (record !== undefined && record.outbox.length > 0) {
      if (!isStale(record.outbox, clock.now(), leaseMs)) {
        // Another writer saved these a moment ago and is publishing them: wait for it to finish.
        await sleep(BUSY_WAIT_MS * (attempt + 1));
        continue;
      }
      // Transitions whose writer died or gave up: they go out before anything new.
      if (!(await publish(record.outbox, deviceId, deps))) return { ok: false, why: 'notifier', events: [] };
      const flushed: DeviceAlarmRecord = { ...record, version: record.version + 1, outbox: [] };
      if (!(await deps.states.save(flushed, record.version))) continue;
      record = flushed;
    }

    const decision = decide(record);
    if (decision === undefined) return { ok: true, events: [] };
    const pendingSince = clock.now();
    const next: DeviceAlarmRecord = {
      deviceId,
      version: (record?.version ?? 0) + 1,
      lastSeen: decision.lastSeen,
      state: decision.state,
      outbox: decision.events.map((event) => ({ ...event, pendingSince })),
      ...(decision.wakeAt === undefined ? {} : { wakeAt: decision.wakeAt }),
    };
    if (!(await deps.states.save(next, record?.version))) continue;

    // Decided exactly once: counted here, where the transition is saved, not where it is published.
    countTransitions(decision.events, deps.metrics);
    if (decision.events.length > 0) {
      if (!(await publish(decision.events, deviceId, deps))) {
        // Let the next writer publish them at once instead of waiting for the lease to run out.
        await settleOutbox(next, deps, (entries) => entries.map((entry) => ({ ...entry, pendingSince: 0 })));
        return { ok: false, why: 'notifier', events: decision.events };
      }
      await settleOutbox(next, deps, () => []);
    }
    return { ok: true, events: decision.events };
  }
  deps.log.warn('alarm state kept conflicting, the device will be retried', { deviceId, retries: deps.maxConflictRetries });
  return { ok: false, why: 'conflicts', events: [] };
}

function isStale(outbox: readonly OutboxEntry[], now: number, leaseMs: number): boolean {
  return outbox.every((entry) => (entry.pendingSince ?? 0) <= now - leaseMs);
}

/**
 * Rewrites this writer's own outbox entries (`mine` saved as `saved.outbox`) with `change`, keeping the
 * record's newer state if another writer saved in between. Best effort: if the record keeps moving,
 * the lease makes the entries someone else's after it runs out (published at least once).
 */
async function settleOutbox(
  saved: DeviceAlarmRecord,
  deps: DeviceStateDeps,
  change: (mine: readonly OutboxEntry[]) => readonly OutboxEntry[],
): Promise<void> {
  const mine = new Set(saved.outbox.map(outboxKey));
  let current: DeviceAlarmRecord | undefined = saved;
  for (let attempt = 0; attempt <= deps.maxConflictRetries && current !== undefined; attempt += 1) {
    const own = current.outbox.filter((entry) => mine.has(outboxKey(entry)));
    if (own.length === 0) return;
    const others = current.outbox.filter((entry) => !mine.has(outboxKey(entry)));
    const next = { ...current, version: current.version + 1, outbox: [...others, ...change(own)] };
    if (await deps.states.save(next, current.version)) return;
    current = await deps.states.load(saved.deviceId);
  }
  deps.log.warn('could not settle the outbox; the lease hands it to the next writer', { deviceId: saved.deviceId });
}

function outboxKey(event: AlarmEvent): string {
  return `${event.alarmId}\u0000${event.ts}\u0000${event.previousState}\u0000${event.state}\u0000${event.action ?? ''}`;
}

async function publish(events: readonly OutboxEntry[], deviceId: string, deps: DeviceStateDeps): Promise<boolean> {
  try {
    await deps.notifier.notify(events.map(withoutLease));
    return true;
  } catch (error) {
    // The events stay in the outbox; the retry publishes them first. Reported, not swallowed: the
    // device's records come back as failed.
    deps.log.error('alarm notification failed, kept in the outbox', { deviceId, events: events.length, error: String(error) });
    return false;
  }
}

function withoutLease(entry: OutboxEntry): AlarmEvent {
  if (entry.pendingSince === undefined) return entry;
  const { pendingSince: _lease, ...event } = entry;
  return event;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function countTransitions(events: readonly AlarmEvent[], metrics: Metrics): void {
  let raised = 0;
  let cleared = 0;
  let reminders = 0;
  for (const event of events) {
    if (event.reminder === true) reminders += 1;
    else if (event.state === ALARM_STATES.ALARM) raised += 1;
    else if (event.state === ALARM_STATES.OK || event.state === ALARM_STATES.LATCHED) cleared += 1;
  }
  if (raised > 0) metrics.count(METRIC.alarmsRaised, raised);
  if (cleared > 0) metrics.count(METRIC.alarmsCleared, cleared);
  if (reminders > 0) metrics.count(METRIC.alarmReminders, reminders);
}
