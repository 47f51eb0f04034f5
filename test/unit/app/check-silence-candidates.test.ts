import { describe, expect, it } from 'vitest';
import { CapturingLog, CountingMetrics, FakeClock, InMemoryAlarmStateStore, RecordingNotifier } from '../../../lambdas/adapters/memory/index.js';
import { checkSilence, type CheckSilenceDeps } from '../../../lambdas/app/check-silence.js';
import { evaluateAlarms } from '../../../lambdas/app/evaluate-alarms.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import { BASE_TIME, makeRecord } from '../../fixtures/domain/records.js';

const rules = parseThresholds({ rules: [{ id: 'silent', when: { silentFor: { seconds: 300 } }, severity: 'major' }] });
/** How far a stored lastSeen may trail the newest reading for this 300 s window (see lastSeenWriteBoundMs). */
const LAG = 150_000;

describe('checkSilence candidates', () => {
  it('checks a device that is both silent and due once, and raises it once', async () => {
    const states = new InMemoryAlarmStateStore();
    const notifier = new RecordingNotifier();
    const clock = new FakeClock(BASE_TIME);
    const deps: CheckSilenceDeps = { rules, states, notifier, clock, metrics: new CountingMetrics(), log: new CapturingLog() };
    await evaluateAlarms([makeRecord({ deviceId: 'd1', payload: { ts: BASE_TIME, metrics: { a: 1 } }, receivedAt: BASE_TIME })], deps);
    const record = states.get('d1');
    if (record === undefined) throw new Error('the reading stored no alarm state');
    expect(await states.save({ ...record, version: record.version + 1, wakeAt: BASE_TIME + 1 }, record.version)).toBe(true);
    clock.set(BASE_TIME + 300_000 + LAG);
    expect(await states.listSeenBefore(clock.now())).toHaveLength(1);
    expect(await states.listDueBy(clock.now())).toHaveLength(1);

    const outcome = await checkSilence(deps);

    expect(outcome).toEqual({ checked: 1, raised: 1, deferred: 0, failed: [] });
    expect(notifier.events.map((event) => [event.deviceId, event.ruleId, event.state])).toEqual([['d1', 'silent', 'ALARM']]);
  });
});
