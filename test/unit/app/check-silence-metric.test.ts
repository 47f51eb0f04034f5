import { describe, it, expect } from 'vitest';
import { checkSilence } from '../../../lambdas/app/check-silence.js';
import type { CheckSilenceDeps } from '../../../lambdas/app/check-silence.js';
import { evaluateAlarms } from '../../../lambdas/app/evaluate-alarms.js';
import { CapturingLog, CountingMetrics, FakeClock, InMemoryAlarmStateStore, RecordingNotifier } from '../../../lambdas/adapters/memory/index.js';
import { lastSeenWriteBoundMs } from '../../../lambdas/domain/alarm-engine.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import { METRIC } from '../../../lambdas/ports/observability.js';
import { BASE_TIME, makeRecord } from '../../fixtures/domain/records.js';

/** A rule set with a metric silence and no silentFor rule: the check finds the device through its wakeAt. */
const rules = parseThresholds({ rules: [{ id: 'gps-lost', metric: 'lat', when: { metricSilentFor: { seconds: 300 } }, severity: 'minor' }] });
const B = lastSeenWriteBoundMs(rules);

function setup() {
  const states = new InMemoryAlarmStateStore();
  const notifier = new RecordingNotifier();
  const metrics = new CountingMetrics();
  const clock = new FakeClock(BASE_TIME);
  const deps: CheckSilenceDeps = { rules, states, notifier, clock, metrics, log: new CapturingLog() };
  return { states, notifier, metrics, clock, deps };
}

async function report(deps: CheckSilenceDeps, at: number, metrics: Record<string, number>): Promise<void> {
  await evaluateAlarms([makeRecord({ deviceId: 'd1', payload: { ts: BASE_TIME + at, metrics }, receivedAt: BASE_TIME + at })], deps);
}

describe('checkSilence with a metricSilentFor rule', () => {
  it('raises a metric gone quiet on a device that keeps reporting, once, and the next reading carrying it clears it', async () => {
    const { states, notifier, metrics, clock, deps } = setup();
    await report(deps, 0, { lat: 53.5, speed: 10 });
    for (let at = 60_000; at <= 600_000; at += 60_000) await report(deps, at, { speed: 10 });
    const due = BASE_TIME + 300_000 + B;

    expect(states.get('d1')?.wakeAt).toBe(due);
    clock.set(due - 1);
    expect((await checkSilence(deps)).raised).toBe(0);
    clock.set(due);
    expect(await checkSilence(deps)).toEqual({ checked: 1, raised: 1, deferred: 0, failed: [] });
    expect(await checkSilence(deps)).toEqual({ checked: 0, raised: 0, deferred: 0, failed: [] });
    await report(deps, 660_000, { lat: 53.6, speed: 10 });

    expect(notifier.events.map((e) => [e.ruleId, e.metric, e.state, e.value, e.threshold, e.ts - BASE_TIME])).toEqual([
      ['gps-lost', 'lat', 'ALARM', 450, 300, 450_000],
      ['gps-lost', 'lat', 'OK', null, 300, 660_000],
    ]);
    expect(metrics.total(METRIC.alarmsRaised)).toBe(1);
    expect(states.get('d1')?.wakeAt).toBe(BASE_TIME + 660_000 + 300_000 + B);
  });

  it('writes the sighting at most once per bound while the metric keeps reporting', async () => {
    const { states, metrics, deps } = setup();
    await report(deps, 0, { lat: 1 });

    for (let at = 10_000; at <= B; at += 10_000) await report(deps, at, { lat: 1 });
    const versionWithin = states.get('d1')?.version;
    await report(deps, B + 10_000, { lat: 1 });

    expect(versionWithin).toBe(1);
    expect(states.get('d1')?.version).toBe(2);
    expect(metrics.total(METRIC.stateWritesSkipped)).toBe(B / 10_000);
  });
});
