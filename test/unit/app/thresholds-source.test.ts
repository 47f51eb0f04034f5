import { describe, expect, it } from 'vitest';
import { evaluateAlarms } from '../../../lambdas/app/evaluate-alarms.js';
import { CapturingLog, CountingMetrics, InMemoryAlarmStateStore, RecordingNotifier } from '../../../lambdas/adapters/memory/index.js';
import type { ThresholdRules } from '../../../lambdas/domain/thresholds.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import type { ThresholdsSource } from '../../../lambdas/ports/thresholds-source.js';
import { BASE_TIME, makeRecord } from '../../fixtures/domain/records.js';

const hotAbove = (bound: number): ThresholdRules =>
  parseThresholds({ rules: [{ id: 'hot', metric: 'temperature', when: { above: bound }, severity: 'critical' }] });

/** A source whose rules the test swaps, counting how often the use case asks. */
class SwappableSource implements ThresholdsSource {
  reads = 0;
  constructor(public rules: ThresholdRules) {}
  async current(): Promise<ThresholdRules> {
    this.reads += 1;
    return this.rules;
  }
}

describe('a use case given a thresholds source', () => {
  it('reads it once per invocation and decides the next batch under the changed rules', async () => {
    const source = new SwappableSource(hotAbove(80));
    const notifier = new RecordingNotifier();
    const deps = { rules: source, states: new InMemoryAlarmStateStore(), notifier, metrics: new CountingMetrics(), log: new CapturingLog() };
    const reading = (deviceId: string, ts: number, temperature: number) =>
      makeRecord({ deviceId, payload: { ts: BASE_TIME + ts, metrics: { temperature } } });

    await evaluateAlarms([reading('d1', 0, 70), reading('d2', 0, 70)], deps);
    expect(source.reads).toBe(1);
    expect(notifier.events).toEqual([]);

    source.rules = hotAbove(60);
    await evaluateAlarms([reading('d1', 1, 70)], deps);
    expect(source.reads).toBe(2);
    expect(notifier.events.map((event) => `${event.deviceId}/${event.ruleId} ${event.state} >${String(event.threshold)}`)).toEqual(['d1/hot ALARM >60']);
  });
});
