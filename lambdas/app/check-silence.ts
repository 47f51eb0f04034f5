/**
 * Use case of the scheduled offline check: raises silentFor alarms for devices that have sent nothing
 * for long enough (and metricSilentFor alarms for a metric unseen for long enough), with the same
 * outbox discipline as the alarms consumer.
 */
import { RetryableError } from '../domain/errors.js';
import { applySilence, lastSeenWriteBoundMs, nextWakeAt, shortestSilenceMs } from '../domain/alarm-engine.js';
import { ALARM_STATES } from '../domain/model.js';
import type { AlarmNotifier } from '../ports/alarm-notifier.js';
import type { AlarmStateStore, DeviceAlarmRecord } from '../ports/alarm-state-store.js';
import type { Clock } from '../ports/clock.js';
import type { Log, Metrics } from '../ports/observability.js';
import type { RulesInForce } from '../ports/thresholds-source.js';
import { currentRules } from '../ports/thresholds-source.js';
import { mapWithLimit } from './concurrency.js';
import { updateDevice } from './device-state.js';

export interface CheckSilenceDeps {
  /** Read once per invocation (ports/thresholds-source.ts). */
  readonly rules: RulesInForce;
  readonly states: AlarmStateStore;
  readonly notifier: AlarmNotifier;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly log: Log;
  /** Default 5, as for the alarms consumer. */
  readonly maxConflictRetries?: number;
  /** How long a saved outbox belongs to its writer. Default DEFAULT_OUTBOX_LEASE_MS. */
  readonly outboxLeaseMs?: number;
  /** Devices checked at once. @default DEFAULT_CONCURRENT_DEVICES */
  readonly maxConcurrentDevices?: number;
  /**
   * Once this long has passed since the run started, no further device is started: the rest stay
   * silent candidates and the next run takes them. Keeps a run inside its schedule and timeout when a
   * whole fleet goes silent at once. @default DEFAULT_RUN_BUDGET_MS
   */
  readonly runBudgetMs?: number;
}

/**
 * 32 devices at once: a silent device costs a conditional write and a notification (about 40 ms on
 * AWS), so one run raises about 20,000 within its budget (docs/capacity.md).
 */
export const DEFAULT_CONCURRENT_DEVICES = 32;
/**
 * Under the stack's duration alarm (half the schedule's minute): a run that only had many devices to
 * raise stays under it, so the alarm means the Scan or the store is slow.
 */
export const DEFAULT_RUN_BUDGET_MS = 25_000;

export interface SilenceCheckOutcome {
  /** Devices visited: silent for at least the shortest silentFor window, or due (wakeAt). */
  readonly checked: number;
  /** ALARM transitions decided by this run. */
  readonly raised: number;
  /** Candidates left for the next run because this one ran out of its budget. */
  readonly deferred: number;
  /**
   * Devices this run could not finish (notification failed, state kept conflicting, a transient store
   * error). Their transitions, if decided, wait in the outbox; the next run or reading publishes them.
   */
  readonly failed: readonly string[];
}

/**
 * Checks every device silent for at least the shortest silentFor window of the rules (plus the bound
 * by which its stored lastSeen may trail), and every device whose wakeAt has come (a snooze ends, a
 * reminder is due, a metric of a metricSilentFor rule has been unseen for its window: such a device
 * may keep reporting, so only its wakeAt finds it).
 */
export async function checkSilence(deps: CheckSilenceDeps): Promise<SilenceCheckOutcome> {
  const rules = await currentRules(deps.rules);
  const windowMs = shortestSilenceMs(rules);
  const lagMs = lastSeenWriteBoundMs(rules);
  const now = deps.clock.now();
  const stopStartingAt = now + (deps.runBudgetMs ?? DEFAULT_RUN_BUDGET_MS);
  // listSeenBefore is exclusive and silence starts at now - lastSeen >= window + lag.
  const silent = windowMs === undefined ? [] : await deps.states.listSeenBefore(now - windowMs - lagMs + 1);
  const candidates = withoutDuplicates([...silent, ...(await deps.states.listDueBy(now))]);
  const stateDeps = { ...deps, maxConflictRetries: deps.maxConflictRetries ?? 5 };

  const outcomes = await mapWithLimit(candidates, deps.maxConcurrentDevices ?? DEFAULT_CONCURRENT_DEVICES, async (candidate) => {
    const { deviceId } = candidate;
    if (deps.clock.now() >= stopStartingAt) return { deviceId, raised: 0, failed: false, deferred: true };
    try {
      const outcome = await updateDevice(
        deviceId,
        (record) => {
          if (record === undefined) return undefined;
          const result = applySilence({ deviceId, state: record.state, now, rules, lastSeenLagMs: lagMs });
          const wakeAt = nextWakeAt(result.state, rules);
          if (result.events.length === 0 && wakeAt === record.wakeAt) return undefined;
          return { state: result.state, lastSeen: record.lastSeen, events: result.events, wakeAt };
        },
        stateDeps,
        { loaded: candidate },
      );
      // Counted when decided (saved), even if the publish failed: the outbox publishes it later.
      const raised = outcome.events.filter((event) => event.state === ALARM_STATES.ALARM && event.reminder !== true).length;
      return { deviceId, raised, failed: !outcome.ok, deferred: false };
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      deps.log.warn('alarm state store failed during the offline check', { deviceId, error: String(error) });
      return { deviceId, raised: 0, failed: true, deferred: false };
    }
  });

  const failed = outcomes.filter((outcome) => outcome.failed).map((outcome) => outcome.deviceId);
  const raised = outcomes.reduce((sum, outcome) => sum + outcome.raised, 0);
  const deferred = outcomes.filter((outcome) => outcome.deferred).length;
  if (deferred > 0) deps.log.warn('offline check ran out of its budget; the next run takes the rest', { deferred });
  deps.log.info('offline check done', { checked: candidates.length, raised, deferred, failed: failed.length });
  return { checked: candidates.length, raised, deferred, failed };
}

/** One candidate per device (a device both silent and due comes once, the first record kept). */
function withoutDuplicates(records: readonly DeviceAlarmRecord[]): DeviceAlarmRecord[] {
  const seen = new Set<string>();
  return records.filter((record) => {
    if (seen.has(record.deviceId)) return false;
    seen.add(record.deviceId);
    return true;
  });
}
