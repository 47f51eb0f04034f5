import { describe, it, expect } from 'vitest';
import { checkSilence } from '../../../lambdas/app/check-silence.js';
import type { CheckSilenceDeps } from '../../../lambdas/app/check-silence.js';
import { evaluateAlarms } from '../../../lambdas/app/evaluate-alarms.js';
import { CapturingLog, CountingMetrics, FakeClock, InMemoryAlarmStateStore, RecordingNotifier } from '../../../lambdas/adapters/memory/index.js';
import { RetryableError } from '../../../lambdas/domain/errors.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import type { ThresholdRules } from '../../../lambdas/domain/thresholds.js';
import { METRIC } from '../../../lambdas/ports/observability.js';
import { BASE_TIME, makeRecord } from '../../fixtures/domain/records.js';

const rules = parseThresholds({
  rules: [
    { id: 'silent', when: { silentFor: { seconds: 300 } }, severity: 'major' },
    { id: 'very-silent', when: { silentFor: { seconds: 3600 } }, severity: 'critical' },
  ],
});

/**
 * How far a stored lastSeen may trail the newest reading (a quarter of the 300 s window): the check
 * raises only once the device has been silent for the window even if its newest reading was that late.
 */
const LAG = 150_000;

function setup(options: { rules?: ThresholdRules } = {}) {
  const states = new InMemoryAlarmStateStore();
  const notifier = new RecordingNotifier();
  const metrics = new CountingMetrics();
  const log = new CapturingLog();
  const clock = new FakeClock(BASE_TIME);
  const deps: CheckSilenceDeps = { rules: options.rules ?? rules, states, notifier, clock, metrics, log };
  return { states, notifier, metrics, log, clock, deps };
}

/** The device's last reading at BASE_TIME + `at`, through the alarms use case. */
async function seen(deps: CheckSilenceDeps, deviceId: string, at: number): Promise<void> {
  await evaluateAlarms([makeRecord({ deviceId, payload: { ts: BASE_TIME + at, metrics: { a: 1 } }, receivedAt: BASE_TIME + at })], deps);
}

describe('checkSilence', () => {
  it('does not raise a device whose stored lastSeen is a window old but may trail its newest reading', async () => {
    const { notifier, clock, deps } = setup();
    await seen(deps, 'd1', 0);
    clock.set(BASE_TIME + 300_000 + LAG - 1);

    expect(await checkSilence(deps)).toEqual({ checked: 0, raised: 0, deferred: 0, failed: [] });
    expect(notifier.events).toEqual([]);
  });

  it('raises a silent device once its window has passed, publishes it and clears the outbox', async () => {
    const { states, notifier, metrics, clock, deps } = setup();
    await seen(deps, 'd1', 0);
    clock.set(BASE_TIME + 300_000 + LAG);

    const outcome = await checkSilence(deps);

    expect(outcome).toEqual({ checked: 1, raised: 1, deferred: 0, failed: [] });
    expect(notifier.events).toEqual([
      { alarmId: 'd1/silent', deviceId: 'd1', ruleId: 'silent', metric: null, state: 'ALARM', previousState: 'OK', severity: 'major', value: 450, threshold: 300, ts: BASE_TIME + 300_000 + LAG, action: null, by: null, note: null },
    ]);
    expect(states.get('d1')?.outbox).toEqual([]);
    expect(metrics.total(METRIC.alarmsRaised)).toBe(1);
  });

  it('does not look at a device seen within the shortest window', async () => {
    const { notifier, clock, deps } = setup();
    await seen(deps, 'd1', 1);
    clock.set(BASE_TIME + 300_000 + LAG);

    expect(await checkSilence(deps)).toEqual({ checked: 0, raised: 0, deferred: 0, failed: [] });
    expect(notifier.events).toEqual([]);
  });

  it('emits nothing new when it runs again, and raises the longer window when it comes', async () => {
    const { notifier, clock, deps } = setup();
    await seen(deps, 'd1', 0);
    clock.set(BASE_TIME + 300_000 + LAG);
    await checkSilence(deps);
    clock.set(BASE_TIME + 360_000 + LAG);

    expect(await checkSilence(deps)).toEqual({ checked: 1, raised: 0, deferred: 0, failed: [] });
    clock.set(BASE_TIME + 3_600_000 + LAG);
    expect(await checkSilence(deps)).toEqual({ checked: 1, raised: 1, deferred: 0, failed: [] });
    expect(notifier.events.map((e) => e.ruleId)).toEqual(['silent', 'very-silent']);
  });

  it('clears on the next reading through the alarms use case', async () => {
    const { notifier, clock, deps } = setup();
    await seen(deps, 'd1', 0);
    clock.set(BASE_TIME + 4_000_000);
    await checkSilence(deps);

    await seen(deps, 'd1', 4_000_000);

    expect(notifier.events.map((e) => `${e.ruleId} ${e.state}`)).toEqual(['silent ALARM', 'very-silent ALARM', 'silent OK', 'very-silent OK']);
  });

  it('reports a device whose notification fails and publishes its outbox once on the next run', async () => {
    const { states, notifier, clock, log, deps } = setup();
    await seen(deps, 'd1', 0);
    await seen(deps, 'd2', 0);
    clock.set(BASE_TIME + 300_000 + LAG);
    notifier.failNext(1);

    const first = await checkSilence({ ...deps, maxConcurrentDevices: 1 });

    expect(first).toEqual({ checked: 2, raised: 2, deferred: 0, failed: ['d1'] });
    expect(states.get('d1')?.outbox).toHaveLength(1);
    expect(log.at('error').map((e) => e.message)).toEqual(['alarm notification failed, kept in the outbox']);

    const second = await checkSilence(deps);

    expect(second).toEqual({ checked: 2, raised: 0, deferred: 0, failed: [] });
    expect(notifier.events.map((e) => e.deviceId).sort()).toEqual(['d1', 'd2']);
    expect(states.get('d1')?.outbox).toEqual([]);
  });

  it('reloads after losing the conditional write to a concurrent writer and raises once', async () => {
    const { states, notifier, metrics, clock, deps } = setup();
    await seen(deps, 'd1', 0);
    clock.set(BASE_TIME + 300_000 + LAG);
    states.beforeNextSave(async (store) => {
      const current = store.get('d1');
      if (current !== undefined) await store.save({ ...current, version: current.version + 1 }, current.version);
    });

    const outcome = await checkSilence(deps);

    expect(outcome).toEqual({ checked: 1, raised: 1, deferred: 0, failed: [] });
    expect(notifier.events).toHaveLength(1);
    expect(metrics.total(METRIC.stateConflicts)).toBe(1);
  });

  it('skips a candidate deleted before it is reloaded', async () => {
    const { states, clock, deps } = setup();
    await seen(deps, 'd1', 0);
    clock.set(BASE_TIME + 300_000 + LAG);
    const vanishing = { ...states, listSeenBefore: states.listSeenBefore.bind(states), listDueBy: states.listDueBy.bind(states), load: async () => undefined, save: async () => false };

    expect(await checkSilence({ ...deps, states: vanishing, maxConflictRetries: 1 })).toEqual({ checked: 1, raised: 0, deferred: 0, failed: [] });
  });

  it('reports a device whose store call throws a RetryableError and rethrows any other error', async () => {
    const { states, clock, deps } = setup();
    await seen(deps, 'd1', 0);
    clock.set(BASE_TIME + 300_000 + LAG);
    const throttled = { ...states, listSeenBefore: states.listSeenBefore.bind(states), listDueBy: states.listDueBy.bind(states), load: states.load.bind(states), save: async () => Promise.reject(new RetryableError('throttled')) };
    const denied = { ...throttled, save: async () => Promise.reject(new Error('AccessDenied')) };

    expect(await checkSilence({ ...deps, states: throttled })).toEqual({ checked: 1, raised: 0, deferred: 0, failed: ['d1'] });
    await expect(checkSilence({ ...deps, states: denied })).rejects.toThrow('AccessDenied');
  });

  it('does nothing without silentFor rules', async () => {
    const { states, deps } = setup({ rules: parseThresholds({ rules: [{ id: 'hot', metric: 't', when: { above: 1 }, severity: 'info' }] }) });
    const spy = { ...states, listSeenBefore: async () => Promise.reject(new Error('must not be called')), listDueBy: states.listDueBy.bind(states), load: states.load.bind(states), save: states.save.bind(states) };

    expect(await checkSilence({ ...deps, states: spy })).toEqual({ checked: 0, raised: 0, deferred: 0, failed: [] });
  });

  it('starts no device once its run budget has passed, and the next run raises the ones it left', async () => {
    const { notifier, clock, deps } = setup();
    for (const deviceId of ['d1', 'd2', 'd3']) await seen(deps, deviceId, 0);
    clock.set(BASE_TIME + 300_000 + LAG);
    // Each notification takes 600 ms of the clock: the third device would start past the 1 s budget.
    const slow = { notify: async (events: Parameters<RecordingNotifier['notify']>[0]) => { clock.advance(600); await notifier.notify(events); } };
    const budgeted = { ...deps, notifier: slow, maxConcurrentDevices: 1, runBudgetMs: 1000 };

    const first = await checkSilence(budgeted);
    const second = await checkSilence(budgeted);

    expect(first).toEqual({ checked: 3, raised: 2, deferred: 1, failed: [] });
    expect(second).toEqual({ checked: 3, raised: 1, deferred: 0, failed: [] });
    expect(notifier.events.map((event) => event.deviceId).sort()).toEqual(['d1', 'd2', 'd3']);
  });
});
