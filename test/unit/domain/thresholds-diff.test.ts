import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { diffThresholds, isEmptyDiff } from '../../../lambdas/domain/thresholds-diff.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';

const overheat = { id: 'overheat', metric: 'temperature', when: { above: 80 }, clear: { below: 75 }, for: { samples: 3 }, severity: 'critical' };
const batteryLow = { id: 'battery-low', metric: 'battery', when: { below: 3.3 }, severity: 'warning' };
const silent = { id: 'silent', when: { silentFor: { seconds: 300 } }, severity: 'major' };
const rules = (...list: unknown[]) => parseThresholds({ rules: list });

describe('diffThresholds', () => {
  it('finds nothing between a rule set and itself, nor when only the order of rules or keys moved', () => {
    const before = rules(overheat, batteryLow, silent);
    const reordered = rules(silent, { severity: 'warning', when: { below: 3.3 }, metric: 'battery', id: 'battery-low' }, overheat);

    expect(diffThresholds(before, before)).toEqual({ added: [], changed: [], kindChanged: [], removed: [] });
    expect(isEmptyDiff(diffThresholds(before, reordered))).toBe(true);
  });

  it('names the rules added, in the new file order, and the rules removed, in the old one', () => {
    const diff = diffThresholds(rules(overheat, silent), rules({ ...batteryLow, id: 'b2' }, overheat, batteryLow));

    expect(diff).toEqual({ added: ['b2', 'battery-low'], changed: [], kindChanged: [], removed: ['silent'] });
    expect(isEmptyDiff(diff)).toBe(false);
  });

  it('calls a rule changed when a bound, a nested field, an optional field or its severity changed', () => {
    const before = rules(overheat, batteryLow, silent);
    const after = rules(
      { ...overheat, when: { above: 90 } },
      { ...batteryLow, clear: { above: 3.5 } },
      { ...silent, severity: 'critical' },
    );

    expect(diffThresholds(before, after)).toEqual({ added: [], changed: ['overheat', 'battery-low', 'silent'], kindChanged: [], removed: [] });
    expect(diffThresholds(rules(overheat), rules({ ...overheat, for: { seconds: 3 } })).changed).toEqual(['overheat']);
    expect(diffThresholds(rules(batteryLow), rules({ ...batteryLow, latch: true })).changed).toEqual(['battery-low']);
    expect(isEmptyDiff(diffThresholds(rules(overheat), rules({ ...overheat, when: { above: 90 } })))).toBe(false);
  });

  it('says which changed rules changed kind, the ones whose alarm state starts afresh', () => {
    const diff = diffThresholds(rules(overheat, batteryLow), rules({ ...overheat, when: { below: 10 }, clear: undefined }, { ...batteryLow, when: { below: 3 } }));

    expect(diff.changed).toEqual(['overheat', 'battery-low']);
    expect(diff.kindChanged).toEqual(['overheat']);
  });

  it('partitions the ids: every id of either set is in exactly one of added, changed, removed or unchanged', () => {
    const bound = fc.integer({ min: -50, max: 50 });
    const ruleArb = fc.record({
      id: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
      kind: fc.constantFrom('above', 'below'),
      bound,
      severity: fc.constantFrom('critical', 'info'),
    });
    const ruleSet = fc
      .uniqueArray(ruleArb, { selector: (r) => r.id, maxLength: 5 })
      .map((list) => rules(...list.map((r) => ({ id: r.id, metric: 'm', when: { [r.kind]: r.bound }, severity: r.severity }))));

    fc.assert(
      fc.property(ruleSet, ruleSet, (before, after) => {
        const diff = diffThresholds(before, after);
        const oldIds = before.rules.map((r) => r.id);
        const newIds = after.rules.map((r) => r.id);
        const unchanged = newIds.filter((id) => oldIds.includes(id) && !diff.changed.includes(id));
        expect([...diff.added, ...diff.changed, ...unchanged].sort()).toEqual([...newIds].sort());
        expect(diff.removed.every((id) => oldIds.includes(id) && !newIds.includes(id))).toBe(true);
        expect(diff.kindChanged.every((id) => diff.changed.includes(id))).toBe(true);
        for (const id of unchanged) expect(after.rules.find((r) => r.id === id)).toEqual(before.rules.find((r) => r.id === id));
        expect(isEmptyDiff(diffThresholds(after, after))).toBe(true);
      }),
      { seed: 1414, numRuns: 200 },
    );
  });
});
