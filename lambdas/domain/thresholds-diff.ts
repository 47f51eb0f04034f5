/**
 * What a new thresholds file changes, rule by rule: the rule ids added, changed and removed between the
 * rules in force and the new ones. A reload logs it (README, "Run the local stack"), so an operator sees
 * at once whether the edit did what was meant. A rule is the same rule when its id is; it changed when
 * anything else about it did (bound, clear, debounce, severity, scope, latch, reminders, kind).
 */
import type { ThresholdRules } from './thresholds.js';

export interface ThresholdsDiff {
  /** Ids in the new rules only, in the new file's order. */
  readonly added: readonly string[];
  /** Ids in both whose rule differs, in the new file's order. */
  readonly changed: readonly string[];
  /** Of the changed, those whose kind changed (their alarm state starts afresh). */
  readonly kindChanged: readonly string[];
  /** Ids in the old rules only, in the old file's order. */
  readonly removed: readonly string[];
}

/** The rule ids added, changed and removed from `before` to `after`. */
export function diffThresholds(before: ThresholdRules, after: ThresholdRules): ThresholdsDiff {
  const old = new Map(before.rules.map((rule) => [rule.id, rule]));
  const kept = new Set(after.rules.map((rule) => rule.id));
  const added: string[] = [];
  const changed: string[] = [];
  const kindChanged: string[] = [];
  for (const rule of after.rules) {
    const previous = old.get(rule.id);
    if (previous === undefined) added.push(rule.id);
    else if (!sameValue(previous, rule)) {
      changed.push(rule.id);
      if (previous.kind !== rule.kind) kindChanged.push(rule.id);
    }
  }
  const removed = before.rules.filter((rule) => !kept.has(rule.id)).map((rule) => rule.id);
  return { added, changed, kindChanged, removed };
}

/** True when the two rule sets differ in no rule (the order of the rules in the file does not count). */
export function isEmptyDiff(diff: ThresholdsDiff): boolean {
  return diff.added.length === 0 && diff.changed.length === 0 && diff.removed.length === 0;
}

/** Deep equality of validated rules (plain data: objects, numbers, strings, booleans), whatever the key order. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && sameValue(left[key], right[key]));
}
