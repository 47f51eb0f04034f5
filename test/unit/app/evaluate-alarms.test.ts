import { describe, it, expect } from 'vitest';
import { evaluateAlarms } from '../../../lambdas/app/evaluate-alarms.js';
import type { EvaluateAlarmsDeps } from '../../../lambdas/app/evaluate-alarms.js';
import { CapturingLog, CountingMetrics, InMemoryAlarmStateStore, RecordingNotifier } from '../../../lambdas/adapters/memory/index.js';
import { applyReadings } from '../../../lambdas/domain/alarm-engine.js';
import { RetryableError } from '../../../lambdas/domain/errors.js';
import type { AlarmEvent, StreamRecord } from '../../../lambdas/domain/model.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import type { AlarmNotifier } from '../../../lambdas/ports/alarm-notifier.js';
import { METRIC } from '../../../lambdas/ports/observability.js';
import { BASE_TIME, makeRawRecord, makeRecord } from '../../fixtures/domain/records.js';

const rules = parseThresholds({
  rules: [
    { id: 'hot', metric: 'temperature', when: { above: 80 }, clear: { below: 75 }, severity: 'critical' },
    { id: 'silent', when: { silentFor: { seconds: 300 } }, severity: 'major' },
  ],
});

function setup(options: { notifier?: AlarmNotifier; maxConflictRetries?: number } = {}) {
  const states = new InMemoryAlarmStateStore();
  const notifier = new RecordingNotifier();
  const metrics = new CountingMetrics();
  const log = new CapturingLog();
  const deps: EvaluateAlarmsDeps = {
    rules,
    states,
    notifier: options.notifier ?? notifier,
    metrics,
    log,
    ...(options.maxConflictRetries === undefined ? {} : { maxConflictRetries: options.maxConflictRetries }),
  };
  return { states, notifier, metrics, log, deps };
}

function temp(deviceId: string, ts: number, temperature: number, seq?: number): StreamRecord {
  return makeRecord({ deviceId, payload: { ts: BASE_TIME + ts, ...(seq === undefined ? {} : { seq }), metrics: { temperature } } });
}

function summary(events: readonly AlarmEvent[]) {
  return events.map((e) => `${e.deviceId}/${e.ruleId} ${e.state} @${e.ts - BASE_TIME}`);
}

describe('evaluateAlarms', () => {
  it('raises, saves and publishes a transition once, leaving the outbox empty', async () => {
    const { states, notifier, metrics, deps } = setup();

    const outcome = await evaluateAlarms([temp('d1', 0, 70), temp('d1', 1, 85)], deps);

    expect(outcome.failed).toEqual([]);
    expect(summary(notifier.events)).toEqual(['d1/hot ALARM @1']);
    expect(states.get('d1')).toMatchObject({ deviceId: 'd1', version: 2, lastSeen: BASE_TIME + 1, outbox: [] });
    expect(metrics.total(METRIC.alarmsRaised)).toBe(1);
    expect(metrics.total(METRIC.alarmsCleared)).toBe(0);
  });

  it('keeps each device in stream order and evaluates devices independently', async () => {
    const { notifier, metrics, deps } = setup();
    const records = [temp('d1', 0, 85), temp('d2', 0, 70), temp('d1', 1, 70), temp('d2', 1, 90), temp('d1', 2, 86)];

    await evaluateAlarms(records, deps);

    expect(summary(notifier.events).sort()).toEqual(['d1/hot ALARM @0', 'd1/hot ALARM @2', 'd1/hot OK @1', 'd2/hot ALARM @1']);
    expect(summary(notifier.events.filter((e) => e.deviceId === 'd1'))).toEqual(['d1/hot ALARM @0', 'd1/hot OK @1', 'd1/hot ALARM @2']);
    expect(metrics.total(METRIC.alarmsRaised)).toBe(3);
    expect(metrics.total(METRIC.alarmsCleared)).toBe(1);
  });

  it('emits no second alarm when a batch is replayed, and writes nothing', async () => {
    const { states, notifier, deps } = setup();
    const batch = [temp('d1', 0, 85), temp('d1', 1, 70)];
    await evaluateAlarms(batch, deps);
    const savesBefore = states.saves;

    const outcome = await evaluateAlarms(batch, deps);

    expect(outcome.failed).toEqual([]);
    expect(summary(notifier.events)).toEqual(['d1/hot ALARM @0', 'd1/hot OK @1']);
    expect(states.saves).toBe(savesBefore);
  });

  it('emits nothing for an out-of-order late reading', async () => {
    const { states, notifier, deps } = setup();
    await evaluateAlarms([temp('d1', 10, 85)], deps);

    await evaluateAlarms([temp('d1', 5, 60)], deps);

    expect(summary(notifier.events)).toEqual(['d1/hot ALARM @10']);
    expect(states.get('d1')?.lastSeen).toBe(BASE_TIME + 10);
  });

  it('keeps the outbox when the notifier fails, fails the device records, and the retry publishes it once', async () => {
    const { states, notifier, metrics, deps } = setup();
    notifier.failNext(1);
    const batch = [temp('d1', 0, 85), temp('d2', 0, 70)];

    const first = await evaluateAlarms(batch, deps);

    expect(first.failed).toEqual([batch[0]?.ref]);
    expect(notifier.events).toEqual([]);
    expect(summary(states.get('d1')?.outbox ?? [])).toEqual(['d1/hot ALARM @0']);
    expect(metrics.total(METRIC.recordsRetried)).toBe(1);

    const retry = await evaluateAlarms([batch[0] as StreamRecord], deps);

    expect(retry.failed).toEqual([]);
    expect(summary(notifier.events)).toEqual(['d1/hot ALARM @0']);
    expect(states.get('d1')?.outbox).toEqual([]);
    expect(metrics.total(METRIC.alarmsRaised)).toBe(1);
  });

  it('publishes a leftover outbox before the new transitions of the next batch', async () => {
    const { states, notifier, deps } = setup();
    notifier.failNext(1);
    await evaluateAlarms([temp('d1', 0, 85)], deps);

    await evaluateAlarms([temp('d1', 0, 85), temp('d1', 1, 60)], deps);

    expect(summary(notifier.events)).toEqual(['d1/hot ALARM @0', 'd1/hot OK @1']);
    expect(notifier.calls).toBe(3);
    expect(states.get('d1')?.outbox).toEqual([]);
  });

  it('fails the device again when the leftover outbox still cannot be published', async () => {
    const { states, notifier, deps } = setup();
    notifier.failNext(2);
    const record = temp('d1', 0, 85);
    await evaluateAlarms([record], deps);

    const outcome = await evaluateAlarms([record], deps);

    expect(outcome.failed).toEqual([record.ref]);
    expect(states.get('d1')?.outbox).toHaveLength(1);
  });

  it('reloads and re-applies after a concurrent writer wins the conditional write, emitting once', async () => {
    const { states, notifier, metrics, deps } = setup();
    await evaluateAlarms([temp('d1', 0, 70)], deps);
    states.beforeNextSave(async (store) => {
      // Another invocation touches the item first (for example, the offline check flushing an outbox).
      const current = store.get('d1');
      if (current !== undefined) await store.save({ ...current, version: current.version + 1 }, current.version);
    });

    const outcome = await evaluateAlarms([temp('d1', 1, 85)], deps);

    expect(outcome.failed).toEqual([]);
    expect(summary(notifier.events)).toEqual(['d1/hot ALARM @1']);
    expect(metrics.total(METRIC.stateConflicts)).toBe(1);
    expect(states.get('d1')?.version).toBe(4);
  });

  it('does not decide a transition twice when the concurrent writer applied the same readings first', async () => {
    const { states, notifier, deps } = setup();
    const batch = [temp('d1', 0, 85)];
    states.beforeNextSave(async (store) => {
      // A duplicate delivery of the batch, evaluated elsewhere, saved its transition but has not published yet.
      const result = applyReadings({ deviceId: 'd1', state: undefined, readings: [{ deviceId: 'd1', ts: BASE_TIME, metrics: { temperature: 85 }, receivedAt: BASE_TIME }], rules });
      await store.save({ deviceId: 'd1', version: 1, lastSeen: BASE_TIME, state: result.state, outbox: result.events }, undefined);
    });

    const outcome = await evaluateAlarms(batch, deps);

    expect(outcome.failed).toEqual([]);
    expect(summary(notifier.events)).toEqual(['d1/hot ALARM @0']);
    expect(states.get('d1')?.outbox).toEqual([]);
  });

  it('fails the device records when the state keeps conflicting', async () => {
    const { states, notifier, metrics, log, deps } = setup({ maxConflictRetries: 2 });
    const interfere = async (store: InMemoryAlarmStateStore) => {
      const current = store.get('d1');
      await store.save({ deviceId: 'd1', version: (current?.version ?? 0) + 1, lastSeen: 0, state: current?.state, outbox: [] }, current?.version);
    };
    for (let i = 0; i < 3; i += 1) states.beforeNextSave(interfere);
    const record = temp('d1', 0, 85);

    const outcome = await evaluateAlarms([record, temp('d2', 0, 85)], { ...deps, maxConcurrentDevices: 1 });

    expect(outcome.failed).toEqual([record.ref]);
    expect(summary(notifier.events)).toEqual(['d2/hot ALARM @0']);
    expect(metrics.total(METRIC.stateConflicts)).toBe(2);
    expect(log.at('warn').map((e) => e.message)).toEqual(['alarm state kept conflicting, the device will be retried']);
  });

  it('skips and counts malformed records without failing them', async () => {
    const { notifier, metrics, deps } = setup();

    const outcome = await evaluateAlarms([makeRawRecord('junk'), makeRecord({ deviceId: 'd1', payload: { metrics: {} } }), temp('d1', 0, 85)], deps);

    expect(outcome.failed).toEqual([]);
    expect(notifier.events).toHaveLength(1);
    expect(metrics.total(METRIC.readingsRejected, { name: 'consumer', value: 'alarms' })).toBe(2);
  });

  it('clears a silence alarm on the next reading', async () => {
    const { states, notifier, deps } = setup();
    const silenced = applyReadings({ deviceId: 'd1', state: undefined, readings: [], rules });
    states.put({ deviceId: 'd1', version: 1, lastSeen: BASE_TIME - 600_000, state: { ...silenced.state, newest: { ts: BASE_TIME - 600_000, seq: -1 }, rules: [{ rule: 'silent', status: 'ALARM' }] }, outbox: [] });

    await evaluateAlarms([temp('d1', 0, 20)], deps);

    expect(summary(notifier.events)).toEqual(['d1/silent OK @0']);
  });

  it('starts afresh from an unreadable stored state and says so', async () => {
    const { states, notifier, log, deps } = setup();
    states.put({ deviceId: 'd1', version: 3, lastSeen: 0, state: { legacy: true }, outbox: [] });

    await evaluateAlarms([temp('d1', 0, 85)], deps);

    expect(notifier.events).toHaveLength(1);
    expect(states.get('d1')?.version).toBe(5);
    expect(log.at('warn').map((e) => e.message)).toEqual(['stored alarm state unreadable, started afresh']);
  });

  it('fails only the device whose store call throws a RetryableError', async () => {
    const { states, deps } = setup();
    const flaky = {
      load: async (deviceId: string) => {
        if (deviceId === 'd1') throw new RetryableError('ProvisionedThroughputExceededException');
        return states.load(deviceId);
      },
      save: states.save.bind(states),
      listSeenBefore: states.listSeenBefore.bind(states),
      listDueBy: states.listDueBy.bind(states),
    };
    const records = [temp('d1', 0, 85), temp('d2', 0, 85)];

    const outcome = await evaluateAlarms(records, { ...deps, states: flaky });

    expect(outcome.failed).toEqual([records[0]?.ref]);
    expect(states.get('d2')).toBeDefined();
  });

  it('fails the whole invocation on any other store error', async () => {
    const { states, deps } = setup();
    const broken = { ...states, load: async () => Promise.reject(new Error('AccessDeniedException')), save: states.save.bind(states), listSeenBefore: states.listSeenBefore.bind(states), listDueBy: states.listDueBy.bind(states) };

    await expect(evaluateAlarms([temp('d1', 0, 85)], { ...deps, states: broken })).rejects.toThrow('AccessDeniedException');
  });

  it('leaves an outbox that a concurrent writer cleared alone, without failing', async () => {
    const { states, notifier, deps } = setup();
    await evaluateAlarms([temp('d1', 0, 70)], deps);
    // Let the first (state + outbox) save through, then interfere with the outbox-clearing save.
    states.beforeNextSave(() => undefined);
    states.beforeNextSave(async (store) => {
      const current = store.get('d1');
      if (current !== undefined) await store.save({ ...current, version: current.version + 1, outbox: [] }, current.version);
    });

    const outcome = await evaluateAlarms([temp('d1', 1, 85)], deps);

    expect(outcome.failed).toEqual([]);
    expect(notifier.events).toHaveLength(1);
    expect(states.get('d1')?.outbox).toEqual([]);
  });

  it('does not publish an outbox another writer saved a moment ago, and fails the device for a retry', async () => {
    const { states, notifier, deps } = setup();
    await evaluateAlarms([temp('d1', 0, 70)], deps);
    const current = states.get('d1')!;
    const inFlight = { alarmId: 'd1/silent', deviceId: 'd1', ruleId: 'silent', metric: null, state: 'ALARM', previousState: 'OK', severity: 'major', value: 300, threshold: 300, ts: 1, action: null, by: null, note: null } as const;
    await states.save({ ...current, version: current.version + 1, outbox: [{ ...inFlight, pendingSince: Date.now() }] }, current.version);

    const outcome = await evaluateAlarms([temp('d1', 1, 85)], { ...deps, maxConflictRetries: 1 });

    expect(notifier.events).toEqual([]);
    expect(outcome.failed).toHaveLength(1);
  });

  it('publishes an outbox whose writer died (older than the lease) before anything new, once', async () => {
    const { states, notifier, deps } = setup();
    await evaluateAlarms([temp('d1', 0, 70)], deps);
    const current = states.get('d1')!;
    const orphan = { alarmId: 'd1/silent', deviceId: 'd1', ruleId: 'silent', metric: null, state: 'ALARM', previousState: 'OK', severity: 'major', value: 300, threshold: 300, ts: 1, action: null, by: null, note: null } as const;
    await states.save({ ...current, version: current.version + 1, outbox: [{ ...orphan, pendingSince: Date.now() - 60_000 }] }, current.version);

    const outcome = await evaluateAlarms([temp('d1', 1, 70)], { ...deps, outboxLeaseMs: 30_000 });

    expect(outcome.failed).toEqual([]);
    expect(notifier.events).toEqual([orphan]);
    expect(states.get('d1')?.outbox).toEqual([]);
  });
});
