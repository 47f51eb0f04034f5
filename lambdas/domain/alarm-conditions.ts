/**
 * What one reading says about one rule's condition: the value compared, the threshold it was compared
 * with, whether the condition holds and whether an alarm clears (docs/architecture.md, "Conditions").
 */
import type { ComparisonRule } from './thresholds.js';
import { comparisonBound } from './thresholds.js';

/** One reading's comparison for a comparison rule. */
export interface Comparison {
  /** The condition holds (the rule is in breach). */
  readonly breach: boolean;
  /** The rule's metric in the reading. */
  readonly value: number;
  /** The threshold compared with: the rule's number, or the other metric's value in the same reading. */
  readonly threshold: number;
}

/**
 * The comparison of a reading, or undefined when the reading does not carry the rule's metric or the
 * metric its threshold names: such a reading does not evaluate the rule.
 */
export function compareReading(rule: ComparisonRule, metrics: Readonly<Record<string, number>>): Comparison | undefined {
  const value = metricOf(metrics, rule.metric);
  if (value === undefined) return undefined;
  const bound = comparisonBound(rule);
  const threshold = typeof bound === 'number' ? bound : metricOf(metrics, bound.metric);
  if (threshold === undefined) return undefined;
  return { breach: holds(rule.kind, value, threshold), value, threshold };
}

/**
 * Whether an alarm of the rule clears on this comparison, and the threshold its event names: with a
 * `clear` bound, strictly past it; without one, as soon as the condition no longer holds.
 */
export function clearing(rule: ComparisonRule, comparison: Comparison): { readonly cleared: boolean; readonly threshold: number } {
  const { clear } = rule;
  if (clear === undefined) return { cleared: !comparison.breach, threshold: comparison.threshold };
  if ('below' in clear) return { cleared: comparison.value < clear.below, threshold: clear.below };
  return { cleared: comparison.value > clear.above, threshold: clear.above };
}

function holds(kind: ComparisonRule['kind'], value: number, threshold: number): boolean {
  switch (kind) {
    case 'above':
      return value > threshold;
    case 'below':
      return value < threshold;
    case 'atOrAbove':
      return value >= threshold;
    case 'atOrBelow':
      return value <= threshold;
    case 'equals':
      return value === threshold;
    case 'notEquals':
      return value !== threshold;
  }
}

/** The reading's value of a metric; typeof, not `!== undefined`: a metric named like an Object.prototype member must not match it. */
export function metricOf(metrics: Readonly<Record<string, number>>, metric: string): number | undefined {
  const value = metrics[metric];
  return typeof value === 'number' ? value : undefined;
}
