import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../../lambdas/domain/errors.js';
import { parseThresholds, RULE_KINDS, safeParseThresholds, thresholdsJsonSchema, ThresholdsError } from '../../../lambdas/domain/thresholds.js';

const overheat = {
  id: 'overheat',
  metric: 'temperature',
  match: { type: 'env-sensor' },
  when: { above: 80 },
  clear: { below: 75 },
  for: { samples: 3 },
  severity: 'critical',
};
const batteryLow = { id: 'battery-low', metric: 'battery', when: { below: 3.3 }, clear: { above: 3.5 }, severity: 'warning' };
const silent = { id: 'silent', when: { silentFor: { seconds: 300 } }, severity: 'major' };

function problemsOf(rules: unknown[]): readonly string[] {
  const result = safeParseThresholds({ rules });
  if (result.success) throw new Error('expected the rules to be refused');
  return result.error.problems;
}

describe('parseThresholds', () => {
  it('reads the project thresholds file into rules discriminated by kind', () => {
    const rules = parseThresholds(JSON.parse(readFileSync('config/thresholds.json', 'utf8')));

    expect(rules.rules.map((rule) => [rule.id, rule.kind])).toEqual([
      ['overheat', 'above'],
      ['cold-chain-breach', 'above'],
      ['battery-low', 'below'],
      ['silent', 'silentFor'],
      ['engine-hot', 'atOrAbove'],
      ['fuel-reserve', 'atOrBelow'],
      ['reefer-door-open', 'equals'],
      ['engine-fault', 'notEquals'],
      ['speeding', 'above'],
      ['reefer-warming', 'risesBy'],
      ['fuel-drop', 'fallsBy'],
      ['door-contact-stuck', 'unchangedFor'],
      ['gps-lost', 'metricSilentFor'],
    ]);
    // One rule of each kind, and a threshold read from another metric.
    expect(new Set(rules.rules.map((rule) => rule.kind))).toEqual(new Set(RULE_KINDS));
    expect(rules.rules.find((rule) => rule.id === 'speeding')?.when).toEqual({ above: { metric: 'speedLimit' } });
  });

  it('normalizes each kind of rule, keeping only the keys given', () => {
    const { rules } = parseThresholds({ rules: [overheat, batteryLow, silent, { id: 'hot', metric: 't', when: { above: 1 }, for: { seconds: 2.5 }, severity: 'info' }] });

    expect(rules).toStrictEqual([
      { id: 'overheat', severity: 'critical', match: { type: 'env-sensor' }, kind: 'above', metric: 'temperature', when: { above: 80 }, clear: { below: 75 }, for: { samples: 3 } },
      { id: 'battery-low', severity: 'warning', kind: 'below', metric: 'battery', when: { below: 3.3 }, clear: { above: 3.5 } },
      { id: 'silent', severity: 'major', kind: 'silentFor', when: { silentFor: { seconds: 300 } } },
      { id: 'hot', severity: 'info', kind: 'above', metric: 't', when: { above: 1 }, for: { seconds: 2.5 } },
    ]);
  });

  it('returns frozen rules', () => {
    const { rules } = parseThresholds({ rules: [overheat] });

    expect(Object.isFrozen(rules)).toBe(true);
    expect(Object.isFrozen(rules[0]?.when)).toBe(true);
  });

  it('accepts an empty rule set, a clear bound equal to the when bound and a match on a device', () => {
    expect(parseThresholds({ rules: [] }).rules).toEqual([]);
    expect(parseThresholds({ rules: [{ ...overheat, clear: { below: 80 } }, { ...batteryLow, clear: { above: 3.3 }, match: { deviceId: 'd:1' } }] }).rules).toHaveLength(2);
  });

  it('throws a ConfigError naming the rule and both sides of a hysteresis conflict', () => {
    const act = () => parseThresholds({ rules: [{ ...overheat, clear: { below: 85 } }] });

    expect(act).toThrow(ConfigError);
    expect(act).toThrow('rule "overheat": clear.below must be at or below when.above (80)');
  });

  it('reports every problem, each naming its rule', () => {
    const result = safeParseThresholds({ rules: [{ ...overheat, severity: 'fatal' }, { ...batteryLow, clear: { above: 3 } }] });

    expect(result.success).toBe(false);
    expect(result.success ? undefined : result.error).toBeInstanceOf(ThresholdsError);
    expect(result.success ? [] : result.error.problems).toEqual([
      'rule "overheat": severity: must be one of critical, major, minor, warning, info',
      'rule "battery-low": clear.above must be at or above when.below (3.3)',
    ]);
    expect(result.success ? '' : result.error.message).toBe(
      'rule "overheat": severity: must be one of critical, major, minor, warning, info; rule "battery-low": clear.above must be at or above when.below (3.3)',
    );
  });

  describe.each([
    ['an unknown key in a rule', { ...overheat, extra: 1 }, 'rule "overheat": unknown key "extra"'],
    ['two unknown keys', { ...overheat, extra: 1, more: 2 }, 'rule "overheat": unknown keys "extra", "more"'],
    ['an unknown key in when', { ...overheat, when: { above: 80, abov: 1 } }, 'rule "overheat": when: unknown key "abov"'],
    ['an unknown key in match', { ...overheat, match: { typ: 'x' } }, 'rule "overheat": match: unknown key "typ"'],
    ['an unknown key in for', { ...overheat, for: { sample: 3 } }, 'rule "overheat": for: unknown key "sample"'],
    ['an unknown key in clear', { ...overheat, clear: { below: 70, hysteresis: 1 } }, 'rule "overheat": clear: unknown key "hysteresis"'],
    ['an unknown key in silentFor', { ...silent, when: { silentFor: { seconds: 1, minutes: 1 } } }, 'rule "silent": when.silentFor: unknown key "minutes"'],
    ['an unknown severity', { ...overheat, severity: 'fatal' }, 'rule "overheat": severity: must be one of critical, major, minor, warning, info'],
    ['a missing severity', { ...overheat, severity: undefined }, 'rule "overheat": severity: required'],
    ['a bad id', { ...overheat, id: 'over heat' }, 'rule "over heat": id: must be 1 to 64 of [A-Za-z0-9_.-]'],
    ['a too long id', { ...overheat, id: 'x'.repeat(65) }, `rule "${'x'.repeat(65)}": id: must be 1 to 64 of [A-Za-z0-9_.-]`],
    ['a missing id', { ...overheat, id: undefined }, 'rule at index 0: id: required'],
    ['an id that is not a string', { ...overheat, id: 7 }, 'rule at index 0: id: expected a string'],
    ['a bad metric name', { ...overheat, metric: 'temp erature' }, 'rule "overheat": metric: must be 1 to 64 of [A-Za-z0-9_.-]'],
    ['a bad match type', { ...overheat, match: { type: 'a b' } }, 'rule "overheat": match.type: must be 1 to 64 of [A-Za-z0-9_.:-]'],
    ['a bad match deviceId', { ...overheat, match: { deviceId: 'a/b' } }, 'rule "overheat": match.deviceId: must be 1 to 128 of [A-Za-z0-9_:-]'],
    ['a metric rule without metric', { ...batteryLow, metric: undefined }, 'rule "battery-low": metric: required on a below rule'],
    ['a missing when', { ...overheat, when: undefined }, 'rule "overheat": when: required'],
    ['a when that is not an object', { ...overheat, when: 80 }, 'rule "overheat": when: expected an object'],
    ['a bound that is not a number', { ...overheat, when: { above: '80' } }, 'rule "overheat": when.above: expected a number or {"metric": "<name>"}'],
    ['an empty when', { ...overheat, when: {} }, 'rule "overheat": when: must have exactly one of above, below, atOrAbove, atOrBelow, equals, notEquals, risesBy, fallsBy, unchangedFor, silentFor, metricSilentFor (has none)'],
    ['a when with above and below', { ...overheat, when: { above: 80, below: 10 } }, 'rule "overheat": when: must have exactly one of above, below, atOrAbove, atOrBelow, equals, notEquals, risesBy, fallsBy, unchangedFor, silentFor, metricSilentFor (has above and below)'],
    ['a when with below and silentFor', { ...silent, when: { below: 1, silentFor: { seconds: 1 } } }, 'rule "silent": when: must have exactly one of above, below, atOrAbove, atOrBelow, equals, notEquals, risesBy, fallsBy, unchangedFor, silentFor, metricSilentFor (has below and silentFor)'],
    ['an above rule clearing with above', { ...overheat, clear: { above: 70 } }, 'rule "overheat": clear.above: an above rule clears with clear.below'],
    ['an above rule with an empty clear', { ...overheat, clear: {} }, 'rule "overheat": clear: must have below (an above rule clears below its threshold)'],
    ['an above rule clearing above its bound', { ...overheat, clear: { below: 80.5 } }, 'rule "overheat": clear.below must be at or below when.above (80)'],
    ['a below rule clearing with below', { ...batteryLow, clear: { below: 3.5 } }, 'rule "battery-low": clear.below: a below rule clears with clear.above'],
    ['a below rule with an empty clear', { ...batteryLow, clear: {} }, 'rule "battery-low": clear: must have above (a below rule clears above its threshold)'],
    ['a below rule clearing below its bound', { ...batteryLow, clear: { above: 3.2 } }, 'rule "battery-low": clear.above must be at or above when.below (3.3)'],
    ['an empty for', { ...overheat, for: {} }, 'rule "overheat": for: must have exactly one of samples, seconds (has none)'],
    ['a for with samples and seconds', { ...overheat, for: { samples: 3, seconds: 10 } }, 'rule "overheat": for: must have exactly one of samples, seconds (has samples and seconds)'],
    ['fractional samples', { ...overheat, for: { samples: 2.5 } }, 'rule "overheat": for.samples: must be an integer'],
    ['zero samples', { ...overheat, for: { samples: 0 } }, 'rule "overheat": for.samples: must be at least 1'],
    ['zero seconds of debounce', { ...overheat, for: { seconds: 0 } }, 'rule "overheat": for.seconds: must be greater than 0'],
    ['a silentFor rule with a metric', { ...silent, metric: 'temperature' }, 'rule "silent": metric: not allowed on a silentFor rule'],
    ['a silentFor rule with clear', { ...silent, clear: { below: 1 } }, 'rule "silent": clear: not allowed on a silentFor rule'],
    ['a silentFor rule with for', { ...silent, for: { samples: 2 } }, 'rule "silent": for: not allowed on a silentFor rule'],
    ['zero silentFor seconds', { ...silent, when: { silentFor: { seconds: 0 } } }, 'rule "silent": when.silentFor.seconds: must be greater than 0'],
    ['negative silentFor seconds', { ...silent, when: { silentFor: { seconds: -5 } } }, 'rule "silent": when.silentFor.seconds: must be greater than 0'],
    ['a rule that is not an object', 'overheat', 'rule at index 0: expected an object'],
  ])('refuses %s', (_what, rule, problem) => {
    it('with a message naming the rule and the field', () => {
      expect(problemsOf([rule])).toEqual([problem]);
    });
  });

  it('refuses duplicate ids, naming the first', () => {
    expect(problemsOf([overheat, batteryLow, { ...batteryLow, metric: 'voltage' }])).toEqual(['rule "battery-low": duplicate id (also rule at index 1)']);
  });

  it.each([
    [null, ['thresholds: expected an object']],
    [[], ['thresholds: expected an object']],
    [{}, ['thresholds: rules: required']],
    [{ rules: {} }, ['thresholds: rules: expected an array']],
    [{ rules: [], version: 2 }, ['thresholds: unknown key "version"']],
  ])('refuses the file %j', (input, problems) => {
    const result = safeParseThresholds(input);

    expect(result.success ? [] : result.error.problems).toEqual(problems);
  });
});

describe('parseThresholds: the six comparisons and metric thresholds', () => {
  const rule = (when: object, extra: object = {}) => ({ id: 'r', metric: 'm', when, severity: 'info', ...extra });

  it('normalizes every comparison, with a number or another metric as the threshold', () => {
    const { rules } = parseThresholds({
      rules: [
        rule({ atOrAbove: 5 }, { id: 'a', clear: { below: 4 }, for: { samples: 2 } }),
        rule({ atOrBelow: 5 }, { id: 'b', clear: { above: 6 } }),
        rule({ equals: 3 }, { id: 'c', for: { seconds: 10 } }),
        rule({ notEquals: { metric: 'expected' } }, { id: 'd' }),
        rule({ below: { metric: 'minimum' } }, { id: 'e', for: { samples: 3 } }),
      ],
    });

    expect(rules).toStrictEqual([
      { id: 'a', severity: 'info', kind: 'atOrAbove', metric: 'm', when: { atOrAbove: 5 }, clear: { below: 4 }, for: { samples: 2 } },
      { id: 'b', severity: 'info', kind: 'atOrBelow', metric: 'm', when: { atOrBelow: 5 }, clear: { above: 6 } },
      { id: 'c', severity: 'info', kind: 'equals', metric: 'm', when: { equals: 3 }, for: { seconds: 10 } },
      { id: 'd', severity: 'info', kind: 'notEquals', metric: 'm', when: { notEquals: { metric: 'expected' } } },
      { id: 'e', severity: 'info', kind: 'below', metric: 'm', when: { below: { metric: 'minimum' } }, for: { samples: 3 } },
    ]);
  });

  it('lists every kind in RULE_KINDS, the comparisons first', () => {
    expect(RULE_KINDS.slice(0, 6)).toEqual(['above', 'below', 'atOrAbove', 'atOrBelow', 'equals', 'notEquals']);
    expect(RULE_KINDS).toContain('silentFor');
  });

  it.each([
    ['a clear on equals', rule({ equals: 1 }, { clear: { below: 0 } }), 'rule "r": clear: not allowed on an equals rule (it clears as soon as the comparison no longer holds)'],
    ['a clear on notEquals', rule({ notEquals: 1 }, { clear: { above: 2 } }), 'rule "r": clear: not allowed on a notEquals rule (it clears as soon as the comparison no longer holds)'],
    ['a clear with a metric threshold', rule({ above: { metric: 'limit' } }, { clear: { below: 1 } }), 'rule "r": clear: not allowed with a metric threshold (the rule clears as soon as the comparison no longer holds)'],
    ['an atOrAbove rule clearing with above', rule({ atOrAbove: 5 }, { clear: { above: 4 } }), 'rule "r": clear.above: an atOrAbove rule clears with clear.below'],
    ['an atOrAbove rule clearing above its threshold', rule({ atOrAbove: 5 }, { clear: { below: 6 } }), 'rule "r": clear.below must be at or below when.atOrAbove (5)'],
    ['an atOrBelow rule clearing below its threshold', rule({ atOrBelow: 5 }, { clear: { above: 4 } }), 'rule "r": clear.above must be at or above when.atOrBelow (5)'],
    ['an atOrBelow rule with an empty clear', rule({ atOrBelow: 5 }, { clear: {} }), 'rule "r": clear: must have above (an atOrBelow rule clears above its threshold)'],
    ['a threshold naming the rule\'s own metric', rule({ above: { metric: 'm' } }), "rule \"r\": when.above.metric: must name another metric than the rule's metric (m)"],
    ['a threshold metric with a bad name', rule({ below: { metric: 'a b' } }), 'rule "r": when.below.metric: must be 1 to 64 of [A-Za-z0-9_.-]'],
    ['a threshold object without metric', rule({ equals: {} }), 'rule "r": when.equals: expected a number or {"metric": "<name>"}'],
    ['a threshold object with another key', rule({ notEquals: { metric: 'x', value: 1 } }), 'rule "r": when.notEquals: unknown key "value"'],
    ['a comparison without metric', { id: 'r', when: { atOrBelow: 1 }, severity: 'info' }, 'rule "r": metric: required on an atOrBelow rule'],
    ['two comparisons', rule({ equals: 1, notEquals: 2 }), 'rule "r": when: must have exactly one of above, below, atOrAbove, atOrBelow, equals, notEquals, risesBy, fallsBy, unchangedFor, silentFor, metricSilentFor (has equals and notEquals)'],
  ])('refuses %s, naming the rule and the field', (_what, raw, problem) => {
    expect(problemsOf([raw])).toEqual([problem]);
  });
});

describe('parseThresholds: change, stuck value and metric silence', () => {
  const rule = (when: object, extra: object = {}) => ({ id: 'r', metric: 'm', when, severity: 'info', ...extra });

  it('normalizes risesBy, fallsBy (with a debounce), unchangedFor and metricSilentFor', () => {
    const { rules } = parseThresholds({
      rules: [
        rule({ risesBy: { amount: 5, withinSeconds: 60 } }, { id: 'a', for: { samples: 2 } }),
        rule({ fallsBy: { amount: 0.5, withinSeconds: 1.5 } }, { id: 'b', match: { type: 'vehicle' } }),
        rule({ unchangedFor: { seconds: 600 } }, { id: 'c', latch: true }),
        rule({ metricSilentFor: { seconds: 300 } }, { id: 'd', remindEvery: { seconds: 3600 } }),
      ],
    });

    expect(rules).toStrictEqual([
      { id: 'a', severity: 'info', kind: 'risesBy', metric: 'm', when: { risesBy: { amount: 5, withinSeconds: 60 } }, for: { samples: 2 } },
      { id: 'b', severity: 'info', match: { type: 'vehicle' }, kind: 'fallsBy', metric: 'm', when: { fallsBy: { amount: 0.5, withinSeconds: 1.5 } } },
      { id: 'c', severity: 'info', latch: true, kind: 'unchangedFor', metric: 'm', when: { unchangedFor: { seconds: 600 } } },
      { id: 'd', severity: 'info', remindEvery: { seconds: 3600 }, kind: 'metricSilentFor', metric: 'm', when: { metricSilentFor: { seconds: 300 } } },
    ]);
    expect(RULE_KINDS).toEqual(['above', 'below', 'atOrAbove', 'atOrBelow', 'equals', 'notEquals', 'risesBy', 'fallsBy', 'unchangedFor', 'silentFor', 'metricSilentFor']);
  });

  it.each([
    ['a risesBy with clear', rule({ risesBy: { amount: 1, withinSeconds: 1 } }, { clear: { below: 0 } }), 'rule "r": clear: not allowed on a risesBy rule'],
    ['a fallsBy with a bad debounce', rule({ fallsBy: { amount: 1, withinSeconds: 1 } }, { for: {} }), 'rule "r": for: must have exactly one of samples, seconds (has none)'],
    ['a risesBy without metric', { id: 'r', when: { risesBy: { amount: 1, withinSeconds: 1 } }, severity: 'info' }, 'rule "r": metric: required on a risesBy rule'],
    ['a risesBy with zero amount', rule({ risesBy: { amount: 0, withinSeconds: 1 } }), 'rule "r": when.risesBy.amount: must be greater than 0'],
    ['a fallsBy without withinSeconds', rule({ fallsBy: { amount: 1 } }), 'rule "r": when.fallsBy.withinSeconds: required'],
    ['a fallsBy with an unknown key', rule({ fallsBy: { amount: 1, withinSeconds: 1, percent: true } }), 'rule "r": when.fallsBy: unknown key "percent"'],
    ['an unchangedFor with for', rule({ unchangedFor: { seconds: 60 } }, { for: { samples: 2 } }), 'rule "r": for: not allowed on an unchangedFor rule'],
    ['an unchangedFor with clear', rule({ unchangedFor: { seconds: 60 } }, { clear: { above: 1 } }), 'rule "r": clear: not allowed on an unchangedFor rule'],
    ['an unchangedFor with negative seconds', rule({ unchangedFor: { seconds: -1 } }), 'rule "r": when.unchangedFor.seconds: must be greater than 0'],
    ['a metricSilentFor without metric', { id: 'r', when: { metricSilentFor: { seconds: 60 } }, severity: 'info' }, 'rule "r": metric: required on a metricSilentFor rule'],
    ['a metricSilentFor with for', rule({ metricSilentFor: { seconds: 60 } }, { for: { seconds: 5 } }), 'rule "r": for: not allowed on a metricSilentFor rule'],
    ['a metricSilentFor given as a number', rule({ metricSilentFor: 60 }), 'rule "r": when.metricSilentFor: expected an object'],
    ['risesBy and fallsBy together', rule({ risesBy: { amount: 1, withinSeconds: 1 }, fallsBy: { amount: 1, withinSeconds: 1 } }), 'rule "r": when: must have exactly one of above, below, atOrAbove, atOrBelow, equals, notEquals, risesBy, fallsBy, unchangedFor, silentFor, metricSilentFor (has risesBy and fallsBy)'],
  ])('refuses %s, naming the rule and the field', (_what, raw, problem) => {
    expect(problemsOf([raw])).toEqual([problem]);
  });
});

describe('parseThresholds: the lifecycle options', () => {
  it('keeps latch and remindEvery on any kind of rule, and leaves latch out when false', () => {
    const { rules } = parseThresholds({
      rules: [
        { id: 'hot', metric: 't', when: { above: 1 }, latch: true, remindEvery: { seconds: 600 }, severity: 'critical' },
        { id: 'quiet', when: { silentFor: { seconds: 60 } }, latch: false, remindEvery: { seconds: 0.5 }, severity: 'info' },
      ],
    });

    expect(rules[0]).toMatchObject({ latch: true, remindEvery: { seconds: 600 } });
    expect(rules[1]).not.toHaveProperty('latch');
    expect(rules[1]).toMatchObject({ remindEvery: { seconds: 0.5 } });
  });

  it.each([
    [{ latch: 'yes' }, 'rule "r": latch: expected a boolean'],
    [{ remindEvery: { seconds: 0 } }, 'rule "r": remindEvery.seconds: must be greater than 0'],
    [{ remindEvery: { minutes: 5 } }, 'rule "r": remindEvery: unknown key "minutes"'],
  ])('refuses %j naming the rule and the field', (extra, problem) => {
    const result = safeParseThresholds({ rules: [{ id: 'r', metric: 't', when: { above: 1 }, severity: 'info', ...extra }] });

    expect(result.success).toBe(false);
    expect(result.success ? [] : result.error.problems).toContain(problem);
  });
});

describe('thresholdsJsonSchema', () => {
  it('describes every kind of condition, and a threshold that is a number or another metric', () => {
    const schema = thresholdsJsonSchema() as { properties: { rules: { items: { properties: { when: { properties: Record<string, { anyOf?: unknown[] }> } } } } } };
    const when = schema.properties.rules.items.properties.when.properties;

    expect(Object.keys(when)).toEqual([...RULE_KINDS]);
    expect(when.atOrAbove?.anyOf).toEqual([
      { type: 'number' },
      { type: 'object', properties: { metric: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } }, required: ['metric'], additionalProperties: false },
    ]);
  });
});
