/**
 * Use case of the scheduled offline check: raises silentFor alarms for devices that have sent nothing
 * for long enough, with the same outbox discipline as the alarms consumer.
 */
import { RetryableError } from '../domain/errors.js';
import { applySilence, shortestSilenceMs } from '../domain/alarm-engine.js';
import { ALARM_STATES } from '../domain/model.js';
import type { ThresholdRules } from '../domain/thresholds.js';
import type { AlarmNotifier } from '../ports/alarm-notifier.js';
import type { AlarmStateStore } from '../ports/alarm-state-store.js';
import type { Clock } from '../ports/clock.js';
import type { Log, Metrics } from '../ports/observability.js';
import { mapWithLimit } from './concurrency.js';
import { updateDevice } from './device-state.js';

export interface CheckSilenceDeps {
  readonly rules: ThresholdRules;
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
 * AWS), so one run raises about 24,000 within its budget (docs/capacity.md).
 */
export const DEFAULT_CONCURRENT_DEVICES = 32;
/** Half the schedule's minute: a run never overlaps the next, whatever the fleet does. */
export const DEFAULT_RUN_BUDGET_MS = 30_000;

export interface SilenceCheckOutcome {
  /** Devices silent for at least the shortest silentFor window. */
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

/** Checks every device silent for at least the shortest silentFor window of the rules. */
export async function checkSilence(deps: CheckSilenceDeps): Promise<SilenceCheckOutcome> {
  const windowMs = shortestSilenceMs(deps.rules);
  if (windowMs === undefined) return { checked: 0, raised: 0, deferred: 0, failed: [] };
  const now = deps.clock.now();
  const stopStartingAt = now + (deps.runBudgetMs ?? DEFAULT_RUN_BUDGET_MS);
  // listSeenBefore is exclusive and silence starts at now - lastSeen >= window, so lastSeen <= now - window.
  const candidates = await deps.states.listSeenBefore(now - windowMs + 1);
  const stateDeps = { ...deps, maxConflictRetries: deps.maxConflictRetries ?? 5 };

  const outcomes = await mapWithLimit(candidates, deps.maxConcurrentDevices ?? DEFAULT_CONCURRENT_DEVICES, async (candidate) => {
    const { deviceId } = candidate;
    if (deps.clock.now() >= stopStartingAt) return { deviceId, raised: 0, failed: false, deferred: true };
    try {
      const outcome = await updateDevice(
        deviceId,
        (record) => {
          if (record === undefined) return undefined;
          const result = applySilence({ deviceId, state: record.state, now, rules: deps.rules });
          if (result.events.length === 0) return undefined;
          return { state: result.state, lastSeen: record.lastSeen, events: result.events };
        },
        stateDeps,
        { loaded: candidate },
      );
      // Counted when decided (saved), even if the publish failed: the outbox publishes it later.
      const raised = outcome.events.filter((event) => event.state === ALARM_STATES.ALARM).length;
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
