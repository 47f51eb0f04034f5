/**
 * The threshold rules (config/thresholds.json; README.md, "Contracts", Thresholds):
 * schema, validation and the normalized types the alarm engine runs on.
 *
 * Validation is strict so a typo fails loudly at start-up, at synth and in tests: unknown keys are
 * refused anywhere, and every message names the rule (its id, or its index when it has none) and the
 * field, e.g. `rule "overheat": clear.below must be at or below when.above (80)`.
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';
import type { Severity } from './model.js';
import { SEVERITIES, TELEMETRY_LIMITS } from './model.js';

/** Scopes a rule to readings of one device type and/or one device. Omitted fields match everything. */
export interface RuleMatch {
  readonly type?: string;
  readonly deviceId?: string;
}

/** Debounce: raise on the Nth consecutive breaching sample, or after N seconds of event time in breach. */
export type Debounce = { readonly samples: number } | { readonly seconds: number };

interface RuleCommon {
  /** Unique in the file; part of the alarm id `${deviceId}/${ruleId}`. */
  readonly id: string;
  readonly severity: Severity;
  readonly match?: RuleMatch;
  /** An ALARM that clears without having been acknowledged goes to LATCHED instead of OK. */
  readonly latch?: true;
  /** While ALARM and unacknowledged, the offline check publishes the event again every `seconds`. */
  readonly remindEvery?: { readonly seconds: number };
}

/** Raises when `metric` > `when.above`; clears when it is below `clear.below` (default: not above `when.above`). */
export interface AboveRule extends RuleCommon {
  readonly kind: 'above';
  readonly metric: string;
  readonly when: { readonly above: number };
  readonly clear?: { readonly below: number };
  readonly for?: Debounce;
}

/** Raises when `metric` < `when.below`; clears when it is above `clear.above` (default: not below `when.below`). */
export interface BelowRule extends RuleCommon {
  readonly kind: 'below';
  readonly metric: string;
  readonly when: { readonly below: number };
  readonly clear?: { readonly above: number };
  readonly for?: Debounce;
}

/** Raises when a device has sent nothing for `seconds`; clears on its next reading. */
export interface SilenceRule extends RuleCommon {
  readonly kind: 'silentFor';
  readonly when: { readonly silentFor: { readonly seconds: number } };
}

export type MetricRule = AboveRule | BelowRule;
/** One rule, discriminated by `kind` (derived from the key of `when`). */
export type ThresholdRule = MetricRule | SilenceRule;

/** A validated, frozen rule set. */
export interface ThresholdRules {
  readonly rules: readonly ThresholdRule[];
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

const RULE_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const DEVICE_TYPE = /^[A-Za-z0-9_.:-]{1,64}$/;

const bound = z.number();
const ruleSchema = z.strictObject({
  id: z.string().regex(RULE_ID, { error: 'must be 1 to 64 of [A-Za-z0-9_.-]' }),
  severity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }),
  metric: z.string().regex(TELEMETRY_LIMITS.metricName, { error: 'must be 1 to 64 of [A-Za-z0-9_.-]' }).optional(),
  match: z
    .strictObject({
      type: z.string().regex(DEVICE_TYPE, { error: 'must be 1 to 64 of [A-Za-z0-9_.:-]' }).optional(),
      deviceId: z.string().regex(TELEMETRY_LIMITS.deviceId, { error: 'must be 1 to 128 of [A-Za-z0-9_:-]' }).optional(),
    })
    .optional(),
  when: z.strictObject({
    above: bound.optional(),
    below: bound.optional(),
    silentFor: z
      .strictObject({ seconds: z.number().positive({ error: 'must be greater than 0' }) })
      .optional(),
  }),
  clear: z.strictObject({ above: bound.optional(), below: bound.optional() }).optional(),
  latch: z.boolean().optional(),
  remindEvery: z.strictObject({ seconds: z.number().positive({ error: 'must be greater than 0' }) }).optional(),
  for: z
    .strictObject({
      samples: z.number().int({ error: 'must be an integer' }).min(1, { error: 'must be at least 1' }).optional(),
      seconds: z.number().positive({ error: 'must be greater than 0' }).optional(),
    })
    .optional(),
});
type RawRule = z.infer<typeof ruleSchema>;

const fileSchema = z.strictObject({ rules: z.array(z.unknown()) });

/**
 * The thresholds file's shape as a JSON Schema, generated from the zod schema above so the two cannot
 * drift: AWS AppConfig validates a deployment with it before any function reads it. Draft 4, the one
 * version AppConfig's inline JSON_SCHEMA validator supports (docs/architecture.md, "Thresholds on AWS"). It
 * checks the shape only; the cross-field rules (exactly one condition, a clear bound on the right side)
 * are checked by {@link parseThresholds}, which `npm run thresholds -- validate` runs first.
 */
export function thresholdsJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(z.strictObject({ rules: z.array(ruleSchema) }), { target: 'draft-04' }) as Record<string, unknown>;
}

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

/** The rules that raise on silence (the offline check runs only if there is one). */
export function silenceRules(rules: ThresholdRules): readonly SilenceRule[] {
  return rules.rules.filter((rule): rule is SilenceRule => rule.kind === 'silentFor');
}

/** Cross-field checks zod's shape cannot express; a problem (without the rule label) or the rule. */
function normalizeRule(raw: RawRule): ThresholdRule | string {
  const common: RuleCommon = {
    id: raw.id,
    severity: raw.severity,
    ...(raw.match === undefined ? {} : { match: raw.match }),
    ...(raw.latch === true ? { latch: true as const } : {}),
    ...(raw.remindEvery === undefined ? {} : { remindEvery: { seconds: raw.remindEvery.seconds } }),
  };
  const { above, below, silentFor } = raw.when;
  const whenKeys = [above !== undefined && 'above', below !== undefined && 'below', silentFor !== undefined && 'silentFor']
    .filter((key): key is string => key !== false);
  if (whenKeys.length !== 1) {
    const has = whenKeys.length === 0 ? 'none' : whenKeys.join(' and ');
    return `when: must have exactly one of above, below, silentFor (has ${has})`;
  }

  if (silentFor !== undefined) {
    for (const key of ['metric', 'clear', 'for'] as const) {
      if (raw[key] !== undefined) return `${key}: not allowed on a silentFor rule`;
    }
    return { ...common, kind: 'silentFor', when: { silentFor: { seconds: silentFor.seconds } } };
  }

  if (raw.metric === undefined) return 'metric: required on an above or below rule';
  const debounce = normalizeDebounce(raw.for);
  if (typeof debounce === 'string') return debounce;
  const withFor = debounce === undefined ? {} : { for: debounce };

  if (above !== undefined) {
    // An above rule clears below its bound: hysteresis needs clear.below <= when.above.
    if (raw.clear?.above !== undefined) return 'clear.above: an above rule clears with clear.below';
    const clearBelow = raw.clear?.below;
    if (raw.clear !== undefined && clearBelow === undefined) return 'clear: must have below (an above rule clears below its bound)';
    if (clearBelow !== undefined && clearBelow > above) {
      return `clear.below must be at or below when.above (${above})`;
    }
    const clear = clearBelow === undefined ? {} : { clear: { below: clearBelow } };
    return { ...common, kind: 'above', metric: raw.metric, when: { above }, ...clear, ...withFor };
  }

  // A below rule clears above its bound: hysteresis needs clear.above >= when.below.
  const whenBelow = below as number;
  if (raw.clear?.below !== undefined) return 'clear.below: a below rule clears with clear.above';
  const clearAbove = raw.clear?.above;
  if (raw.clear !== undefined && clearAbove === undefined) return 'clear: must have above (a below rule clears above its bound)';
  if (clearAbove !== undefined && clearAbove < whenBelow) {
    return `clear.above must be at or above when.below (${whenBelow})`;
  }
  const clear = clearAbove === undefined ? {} : { clear: { above: clearAbove } };
  return { ...common, kind: 'below', metric: raw.metric, when: { below: whenBelow }, ...clear, ...withFor };
}

function normalizeDebounce(raw: RawRule['for']): Debounce | undefined | string {
  if (raw === undefined) return undefined;
  if (raw.samples !== undefined && raw.seconds === undefined) return { samples: raw.samples };
  if (raw.seconds !== undefined && raw.samples === undefined) return { seconds: raw.seconds };
  const has = raw.samples === undefined ? 'none' : 'samples and seconds';
  return `for: must have exactly one of samples, seconds (has ${has})`;
}

function ruleLabel(raw: unknown, index: number): string {
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? `rule ${JSON.stringify(id)}` : `rule at index ${index}`;
}

/** `field.path: what is wrong`, in words a person editing the JSON file understands. */
function describeIssue(issue: z.core.$ZodIssue, root: unknown): string {
  const path = issue.path.map(String).join('.');
  const prefix = path === '' ? '' : `${path}: `;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => JSON.stringify(key)).join(', ');
    return `${prefix}unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}`;
  }
  if (valueAt(root, issue.path) === undefined) return `${prefix}required`;
  if (issue.code === 'invalid_type' && issue.expected !== 'int') return `${prefix}expected ${article(issue.expected)}`;
  return `${prefix}${issue.message}`;
}

/** The input value an issue is about. Zod reports paths only through objects and arrays it descended into. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) value = (value as Record<PropertyKey, unknown>)[key];
  return value;
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
