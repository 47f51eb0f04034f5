import { describe, expect, it } from 'vitest';
import { estimateMonthlyCost } from '../../infra/aws/cost/estimate.js';
import type { CostEstimate } from '../../infra/aws/cost/estimate.js';
import { parseDeviceTypeWeights, perReadingStateShare } from '../../infra/aws/cost/rule-write-share.js';
import { parseThresholds } from '../../lambdas/domain/thresholds.js';

const mixed = new Map([['env-sensor', 1], ['cold-chain', 1], ['vehicle', 1]]);
const rules = (...list: object[]) => parseThresholds({ rules: list });
const risesBy = (id: string, match?: object) => ({
  id, metric: 'temperature', severity: 'major', when: { risesBy: { amount: 3, withinSeconds: 600 } }, ...(match === undefined ? {} : { match }),
});

function writes(estimate: CostEstimate) {
  const found = estimate.lines.find((line) => line.item.startsWith('alarm-state writes'));
  if (found === undefined) throw new Error('no alarm-state writes line');
  return found;
}

describe('perReadingStateShare', () => {
  it('counts the device types a risesBy, fallsBy or unchangedFor rule matches, each type once', () => {
    const set = rules(
      risesBy('reefer', { type: 'cold-chain' }),
      { id: 'stuck', metric: 'door', severity: 'minor', when: { unchangedFor: { seconds: 600 } }, match: { type: 'cold-chain' } },
      { id: 'fuel', metric: 'fuel', severity: 'major', when: { fallsBy: { amount: 5, withinSeconds: 300 } }, match: { type: 'vehicle' } },
      { id: 'hot', metric: 'temperature', severity: 'critical', when: { above: 80 } },
    );
    expect(perReadingStateShare(set, mixed)).toBeCloseTo(2 / 3, 12);
    expect(perReadingStateShare(set, new Map([['cold-chain', 1], ['vehicle', 3]]))).toBe(1);
    expect(perReadingStateShare(set, new Map([['env-sensor', 9], ['cold-chain', 1]]))).toBeCloseTo(0.1, 12);
  });

  it('is the whole fleet for an unscoped rule, and nothing for rules that only change on a transition', () => {
    expect(perReadingStateShare(rules(risesBy('any')), mixed)).toBe(1);
    expect(perReadingStateShare(rules(risesBy('one', { deviceId: 'truck-7' })), mixed)).toBe(0);
    const transitionsOnly = rules(
      { id: 'hot', metric: 'temperature', severity: 'critical', when: { above: 80 } },
      { id: 'quiet', metric: 'lat', severity: 'major', when: { metricSilentFor: { seconds: 300 } } },
      { id: 'silent', severity: 'major', when: { silentFor: { seconds: 300 } } },
    );
    expect(perReadingStateShare(transitionsOnly, mixed)).toBe(0);
  });
});

describe('parseDeviceTypeWeights', () => {
  it('reads type=weight pairs and refuses malformed lists with the reason', () => {
    expect([...parseDeviceTypeWeights('env-sensor=2, vehicle=0.5')]).toEqual([['env-sensor', 2], ['vehicle', 0.5]]);
    expect(() => parseDeviceTypeWeights('vehicle')).toThrow('expected type=weight pairs separated by commas, got "vehicle"');
    expect(() => parseDeviceTypeWeights('a=1,a=2')).toThrow('device type a given twice');
    expect(() => parseDeviceTypeWeights('a=0')).toThrow('at least one device type needs a weight above 0');
  });
});

describe('the estimate with rules that keep per-reading state', () => {
  it('writes those devices on every reading, one write unit each (their items stay under 1 KB), and the others once per write bound', () => {
    const base = { devices: 10_000, intervalSeconds: 60, alarmStateCapacity: 'on-demand' as const, silentForSeconds: 300 };
    const none = estimateMonthlyCost(base);
    const all = estimateMonthlyCost({ ...base, perReadingStateShare: 1 });
    const third = estimateMonthlyCost({ ...base, perReadingStateShare: 1 / 3 });
    const month = 730 * 3600;
    const transitions = writes(none).quantity - (10_000 * month) / 180; // each device every 180 s (bound 150 s at 60 s readings)
    expect(transitions).toBeGreaterThan(0);
    expect(writes(all).quantity).toBeCloseTo((10_000 * month) / 60 + transitions, 0);
    expect(writes(third).quantity).toBeCloseTo(((10_000 / 3) * month) / 60 + ((20_000 / 3) * month) / 180 + transitions, 0);
    expect(writes(third).item).toContain('3333 devices every reading');
    expect(() => estimateMonthlyCost({ ...base, perReadingStateShare: 1.5 })).toThrow('perReadingStateShare: expected a share from 0 to 1, got 1.5');
  });
});
