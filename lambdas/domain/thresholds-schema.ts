/**
 * The shape of the thresholds file (config/thresholds.json) as a zod schema, the same shape as a JSON
 * Schema, and how a zod issue is said to a person editing the file. The cross-field rules (exactly one
 * condition, which options a condition takes, a clear bound on the right side) are in
 * thresholds-rules.ts.
 */
import { z } from 'zod';
import { SEVERITIES, TELEMETRY_LIMITS } from './model.js';

const RULE_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const DEVICE_TYPE = /^[A-Za-z0-9_.:-]{1,64}$/;

const positive = z.number().positive({ error: 'must be greater than 0' });
const metricName = z.string().regex(TELEMETRY_LIMITS.metricName, { error: 'must be 1 to 64 of [A-Za-z0-9_.-]' });
/** A comparison's threshold: a number, or another metric of the same reading. */
const bound = z.union([z.number(), z.strictObject({ metric: metricName })]);
const seconds = z.strictObject({ seconds: positive });
const change = z.strictObject({ amount: positive, withinSeconds: positive });

export const ruleSchema = z.strictObject({
  id: z.string().regex(RULE_ID, { error: 'must be 1 to 64 of [A-Za-z0-9_.-]' }),
  severity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }),
  metric: metricName.optional(),
  match: z
    .strictObject({
      type: z.string().regex(DEVICE_TYPE, { error: 'must be 1 to 64 of [A-Za-z0-9_.:-]' }).optional(),
      deviceId: z.string().regex(TELEMETRY_LIMITS.deviceId, { error: 'must be 1 to 128 of [A-Za-z0-9_:-]' }).optional(),
    })
    .optional(),
  when: z.strictObject({
    above: bound.optional(),
    below: bound.optional(),
    atOrAbove: bound.optional(),
    atOrBelow: bound.optional(),
    equals: bound.optional(),
    notEquals: bound.optional(),
    risesBy: change.optional(),
    fallsBy: change.optional(),
    unchangedFor: seconds.optional(),
    silentFor: seconds.optional(),
    metricSilentFor: seconds.optional(),
  }),
  clear: z.strictObject({ above: z.number().optional(), below: z.number().optional() }).optional(),
  latch: z.boolean().optional(),
  remindEvery: seconds.optional(),
  for: z
    .strictObject({
      samples: z.number().int({ error: 'must be an integer' }).min(1, { error: 'must be at least 1' }).optional(),
      seconds: positive.optional(),
    })
    .optional(),
});
export type RawRule = z.infer<typeof ruleSchema>;

export const fileSchema = z.strictObject({ rules: z.array(z.unknown()) });

/**
 * The thresholds file's shape as a JSON Schema, generated from the zod schema above so the two cannot
 * drift: AWS AppConfig validates a deployment with it before any function reads it. Draft 4, the one
 * version AppConfig's inline JSON_SCHEMA validator supports (docs/architecture.md, "Thresholds on AWS"). It
 * checks the shape only; the cross-field rules (exactly one condition, a clear bound on the right side)
 * are checked by parseThresholds, which `npm run thresholds -- validate` runs first.
 */
export function thresholdsJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(z.strictObject({ rules: z.array(ruleSchema) }), { target: 'draft-04' }) as Record<string, unknown>;
}

/** `rule "id"`, or `rule at index N` when the rule has no usable id. */
export function ruleLabel(raw: unknown, index: number): string {
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? `rule ${JSON.stringify(id)}` : `rule at index ${index}`;
}

/** `field.path: what is wrong`, in words a person editing the JSON file understands. */
export function describeIssue(issue: z.core.$ZodIssue, root: unknown): string {
  const path = issue.path.map(String).join('.');
  const prefix = path === '' ? '' : `${path}: `;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => JSON.stringify(key)).join(', ');
    return `${prefix}unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}`;
  }
  if (valueAt(root, issue.path) === undefined) return `${prefix}required`;
  // Only a comparison's bound is a union: a number or {"metric": name}.
  if (issue.code === 'invalid_union') return `${prefix}expected a number or {"metric": "<name>"}`;
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
