/**
 * The threshold rules (config/thresholds.json; README.md, "Contracts", Thresholds):
 * schema, validation and the normalized types the alarm engine runs on.
 *
 * Validation is strict so a typo fails loudly at start-up, at synth and in tests: unknown keys are
 * refused anywhere, and every message names the rule (its id, or its index when it has none) and the
 * field, e.g. `rule "overheat": clear.below must be at or below when.above (80)`.
 */
import { ConfigError } from './errors.js';
import type { Severity } from './model.js';
import { describeIssue, fileSchema, ruleLabel, ruleSchema } from './thresholds-schema.js';
import { normalizeRule } from './thresholds-rules.js';

export { thresholdsJsonSchema } from './thresholds-schema.js';

/** Scopes a rule to readings of one device type and/or one device. Omitted fields match everything. */
export interface RuleMatch {
  readonly type?: string;
  readonly deviceId?: string;
}

/** Debounce: raise on the Nth consecutive breaching sample, or after N seconds of event time in breach. */
export type Debounce = { readonly samples: number } | { readonly seconds: number };

export interface RuleCommon {
  /** Unique in the file; part of the alarm id `${deviceId}/${ruleId}`. */
  readonly id: string;
  readonly severity: Severity;
  readonly match?: RuleMatch;
  /** An ALARM that clears without having been acknowledged goes to LATCHED instead of OK. */
  readonly latch?: true;
  /** While ALARM and unacknowledged, the offline check publishes the event again every `seconds`. */
  readonly remindEvery?: { readonly seconds: number };
}

/** The six comparisons of AWS IoT Events (GreaterThan, LessThan, GreaterThanOrEqual, LessThanOrEqual, Equal, NotEqual). */
export const COMPARISON_KINDS = ['above', 'below', 'atOrAbove', 'atOrBelow', 'equals', 'notEquals'] as const;
export type ComparisonKind = (typeof COMPARISON_KINDS)[number];
/** Every kind of rule: the one key of its `when`. */
export const RULE_KINDS = [...COMPARISON_KINDS, 'risesBy', 'fallsBy', 'unchangedFor', 'silentFor', 'metricSilentFor'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** A comparison's threshold: a fixed number, or the value of another metric of the same reading. */
export type Bound = number | { readonly metric: string };

/**
 * Raises when the comparison `metric <op> when[kind]` holds (debounced by `for`); clears when it no
 * longer holds, or, with a `clear` bound (above/atOrAbove: `clear.below`; below/atOrBelow:
 * `clear.above`; numeric thresholds only), strictly past that bound.
 */
interface ComparisonRuleOf<K extends ComparisonKind, Clear> extends RuleCommon {
  readonly kind: K;
  readonly metric: string;
  readonly when: { readonly [P in K]: Bound };
  readonly clear?: Clear;
  readonly for?: Debounce;
}

export type AboveRule = ComparisonRuleOf<'above', { readonly below: number }>;
export type AtOrAboveRule = ComparisonRuleOf<'atOrAbove', { readonly below: number }>;
export type BelowRule = ComparisonRuleOf<'below', { readonly above: number }>;
export type AtOrBelowRule = ComparisonRuleOf<'atOrBelow', { readonly above: number }>;
export type EqualsRule = ComparisonRuleOf<'equals', never>;
export type NotEqualsRule = ComparisonRuleOf<'notEquals', never>;
export type ComparisonRule = AboveRule | AtOrAboveRule | BelowRule | AtOrBelowRule | EqualsRule | NotEqualsRule;

/** A change of at least `amount` within `withinSeconds` of event time. */
export interface Change {
  readonly amount: number;
  readonly withinSeconds: number;
}

/**
 * risesBy: raises when the metric's value minus the lowest value of that metric in the device's
 * readings of the preceding `withinSeconds` is at least `amount`; fallsBy: when the highest minus the
 * value is. Clears when that no longer holds. Debounced by `for`.
 */
export interface RisesByRule extends RuleCommon {
  readonly kind: 'risesBy';
  readonly metric: string;
  readonly when: { readonly risesBy: Change };
  readonly for?: Debounce;
}
export interface FallsByRule extends RuleCommon {
  readonly kind: 'fallsBy';
  readonly metric: string;
  readonly when: { readonly fallsBy: Change };
  readonly for?: Debounce;
}
export type ChangeRule = RisesByRule | FallsByRule;

/** Raises when the metric has reported exactly the same value over at least `seconds` of event time; the first other value clears it. */
export interface UnchangedRule extends RuleCommon {
  readonly kind: 'unchangedFor';
  readonly metric: string;
  readonly when: { readonly unchangedFor: { readonly seconds: number } };
}

/** Raises (by the scheduled check) when no reading carried the metric for `seconds`; the next one that does clears it. */
export interface MetricSilenceRule extends RuleCommon {
  readonly kind: 'metricSilentFor';
  readonly metric: string;
  readonly when: { readonly metricSilentFor: { readonly seconds: number } };
}

/** Raises when a device has sent nothing for `seconds`; clears on its next reading. */
export interface SilenceRule extends RuleCommon {
  readonly kind: 'silentFor';
  readonly when: { readonly silentFor: { readonly seconds: number } };
}

/** The rules that watch one metric of a reading. */
export type MetricRule = ComparisonRule | ChangeRule | UnchangedRule | MetricSilenceRule;
/** One rule, discriminated by `kind` (the key of `when`). */
export type ThresholdRule = MetricRule | SilenceRule;

/** A validated, frozen rule set. */
export interface ThresholdRules {
  readonly rules: readonly ThresholdRule[];
  /**
   * The floor of the lastSeen write bound B, ms (lastSeenWriteBoundMs). Never in a thresholds file:
   * only a caller that shortens windows below what the floor suits sets it (the demo's 20 s silence,
   * which the default 60 s floor would delay past the demo's end). @default 60,000
   */
  readonly lastSeenBoundFloorMs?: number;
}

/** The thresholds are invalid; `problems` lists each one, naming the rule and the field. */
export class ThresholdsError extends ConfigError {
  constructor(
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(problems.join('; '), options);
  }
}

export type SafeParseThresholdsResult =
  | { readonly success: true; readonly data: ThresholdRules }
  | { readonly success: false; readonly error: ThresholdsError };

/**
 * Validates threshold rules (the parsed JSON of a thresholds file) and normalizes them.
 * @throws ThresholdsError (a ConfigError) naming every problem, rule and field.
 * @example
 * const rules = parseThresholds(JSON.parse(readFileSync('config/thresholds.json', 'utf8')));
 */
export function parseThresholds(input: unknown): ThresholdRules {
  const result = safeParseThresholds(input);
  if (!result.success) throw result.error;
  return result.data;
}

/** {@link parseThresholds} without throwing: `{ success, data }` or `{ success: false, error }`. */
export function safeParseThresholds(input: unknown): SafeParseThresholdsResult {
  const file = fileSchema.safeParse(input);
  if (!file.success) {
    const problems = file.error.issues.map((issue) => `thresholds: ${describeIssue(issue, input)}`);
    return { success: false, error: new ThresholdsError(problems) };
  }
  const problems: string[] = [];
  const rules: ThresholdRule[] = [];
  const firstIndexOfId = new Map<string, number>();
  file.data.rules.forEach((raw, index) => {
    const label = ruleLabel(raw, index);
    const parsed = ruleSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${label}: ${describeIssue(issue, raw)}`);
      return;
    }
    const seen = firstIndexOfId.get(parsed.data.id);
    if (seen !== undefined) {
      problems.push(`${label}: duplicate id (also rule at index ${seen})`);
      return;
    }
    firstIndexOfId.set(parsed.data.id, index);
    const rule = normalizeRule(parsed.data);
    if (typeof rule === 'string') problems.push(`${label}: ${rule}`);
    else rules.push(rule);
  });
  if (problems.length > 0) return { success: false, error: new ThresholdsError(problems) };
  return { success: true, data: deepFreeze({ rules }) };
}

/** The threshold a comparison rule compares its metric with. */
export function comparisonBound(rule: ComparisonRule): Bound {
  return (rule.when as Readonly<Record<ComparisonKind, Bound>>)[rule.kind];
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
