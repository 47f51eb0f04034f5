/**
 * The cross-field rules of a threshold rule that zod's shape cannot express: exactly one condition in
 * `when`, which options each condition takes, and a `clear` bound on the right side of its threshold.
 * Each problem is returned as `field: what is wrong` (the caller prefixes the rule's label).
 */
import type { RawRule } from './thresholds-schema.js';
import type { Bound, ComparisonKind, ComparisonRule, Debounce, RuleCommon, RuleKind, ThresholdRule } from './thresholds.js';

/** Which side a comparison clears on with hysteresis; equals and notEquals take no clear bound. */
const CLEAR_SIDE: Readonly<Record<ComparisonKind, 'above' | 'below' | undefined>> = {
  above: 'below',
  below: 'above',
  atOrAbove: 'below',
  atOrBelow: 'above',
  equals: undefined,
  notEquals: undefined,
};

type Option = 'metric' | 'clear' | 'for';

/**
 * The options each of the other kinds refuses: a stuck value and the silences are judged on time
 * alone, so a debounce would only lengthen their window, and none has a bound to clear past.
 */
const REFUSED: Readonly<Record<Exclude<RuleKind, ComparisonKind>, readonly Option[]>> = {
  risesBy: ['clear'],
  fallsBy: ['clear'],
  unchangedFor: ['clear', 'for'],
  silentFor: ['metric', 'clear', 'for'],
  metricSilentFor: ['clear', 'for'],
};

const KINDS = [...Object.keys(CLEAR_SIDE), ...Object.keys(REFUSED)] as RuleKind[];

/** The normalized rule, or its first problem (without the rule label). */
export function normalizeRule(raw: RawRule): ThresholdRule | string {
  const common: RuleCommon = {
    id: raw.id,
    severity: raw.severity,
    ...(raw.match === undefined ? {} : { match: raw.match }),
    ...(raw.latch === true ? { latch: true as const } : {}),
    ...(raw.remindEvery === undefined ? {} : { remindEvery: { seconds: raw.remindEvery.seconds } }),
  };
  const keys = KINDS.filter((key) => raw.when[key] !== undefined);
  const [kind] = keys;
  if (keys.length !== 1 || kind === undefined) {
    const has = keys.length === 0 ? 'none' : keys.join(' and ');
    return `when: must have exactly one of ${KINDS.join(', ')} (has ${has})`;
  }
  if (kind in CLEAR_SIDE) return normalizeComparison(raw, kind as ComparisonKind, raw.when[kind] as Bound, common);
  return normalizeOther(raw, kind as Exclude<RuleKind, ComparisonKind>, common);
}

function normalizeOther(raw: RawRule, kind: Exclude<RuleKind, ComparisonKind>, common: RuleCommon): ThresholdRule | string {
  const given = REFUSED[kind].find((option) => raw[option] !== undefined);
  if (given !== undefined) return `${given}: not allowed on ${article(kind)} rule`;
  const { when } = raw;
  if (kind === 'silentFor') return { ...common, kind, when: { silentFor: { seconds: (when.silentFor as { seconds: number }).seconds } } };
  if (raw.metric === undefined) return `metric: required on ${article(kind)} rule`;
  const metric = raw.metric;
  if (kind === 'unchangedFor' || kind === 'metricSilentFor') {
    const { seconds } = when[kind] as { seconds: number };
    return { ...common, kind, metric, when: { [kind]: { seconds } } } as ThresholdRule;
  }
  const debounce = normalizeDebounce(raw.for);
  if (typeof debounce === 'string') return debounce;
  const { amount, withinSeconds } = when[kind] as { amount: number; withinSeconds: number };
  return { ...common, kind, metric, when: { [kind]: { amount, withinSeconds } }, ...(debounce === undefined ? {} : { for: debounce }) } as ThresholdRule;
}

function normalizeComparison(raw: RawRule, kind: ComparisonKind, bound: Bound, common: RuleCommon): ComparisonRule | string {
  if (raw.metric === undefined) return `metric: required on ${article(kind)} rule`;
  if (typeof bound === 'object' && bound.metric === raw.metric) {
    return `when.${kind}.metric: must name another metric than the rule's metric (${raw.metric})`;
  }
  const debounce = normalizeDebounce(raw.for);
  if (typeof debounce === 'string') return debounce;
  const clear = normalizeClear(raw.clear, kind, bound);
  if (typeof clear === 'string') return clear;
  const when = { [kind]: typeof bound === 'number' ? bound : { metric: bound.metric } };
  return {
    ...common,
    kind,
    metric: raw.metric,
    when,
    ...(clear === undefined ? {} : { clear }),
    ...(debounce === undefined ? {} : { for: debounce }),
  } as ComparisonRule;
}

/**
 * Hysteresis: a rule that raises above its threshold clears strictly below `clear.below`, which must be
 * at or below the threshold (and the mirror for the rules that raise below). Refused where it has no
 * meaning: on equals / notEquals (no side to clear on) and with a metric threshold (the bound moves
 * with every reading, so a fixed clear bound cannot be ordered against it).
 */
function normalizeClear(clear: RawRule['clear'], kind: ComparisonKind, bound: Bound): { above: number } | { below: number } | undefined | string {
  if (clear === undefined) return undefined;
  const side = CLEAR_SIDE[kind];
  if (side === undefined) return `clear: not allowed on ${article(kind)} rule (it clears as soon as the comparison no longer holds)`;
  if (typeof bound !== 'number') return `clear: not allowed with a metric threshold (the rule clears as soon as the comparison no longer holds)`;
  const other = side === 'below' ? 'above' : 'below';
  if (clear[other] !== undefined) return `clear.${other}: ${article(kind)} rule clears with clear.${side}`;
  const value = clear[side];
  if (value === undefined) return `clear: must have ${side} (${article(kind)} rule clears ${side} its threshold)`;
  if (side === 'below' && value > bound) return `clear.below must be at or below when.${kind} (${bound})`;
  if (side === 'above' && value < bound) return `clear.above must be at or above when.${kind} (${bound})`;
  return side === 'below' ? { below: value } : { above: value };
}

function normalizeDebounce(raw: RawRule['for']): Debounce | undefined | string {
  if (raw === undefined) return undefined;
  if (raw.samples !== undefined && raw.seconds === undefined) return { samples: raw.samples };
  if (raw.seconds !== undefined && raw.samples === undefined) return { seconds: raw.seconds };
  const has = raw.samples === undefined ? 'none' : 'samples and seconds';
  return `for: must have exactly one of samples, seconds (has ${has})`;
}

function article(kind: string): string {
  return /^[aeiou]/i.test(kind) ? `an ${kind}` : `a ${kind}`;
}
