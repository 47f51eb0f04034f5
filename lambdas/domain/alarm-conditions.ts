/**
 * What one reading says about one rule's condition: the value compared, the threshold it was compared
 * with, whether the condition holds and whether an alarm clears (docs/architecture.md, "Conditions").
 */
import type { ChangeRule, ComparisonRule } from './thresholds.js';
import { comparisonBound } from './thresholds.js';

/**
 * At most this many [ts, value] candidates are kept per risesBy / fallsBy rule and device (about 25
 * bytes each in the stored JSON). Only a run of more than this many readings, each higher (risesBy) or
 * lower (fallsBy) than the one before, inside one window can reach it.
 */
export const CHANGE_WINDOW_CAP = 16;

/** One reading of a change window: [event time, value]. */
export type WindowEntry = readonly [number, number];

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
 * The comparison of a reading's `value` of the rule's metric, or undefined when the reading does not
 * carry the metric its threshold names: such a reading does not evaluate the rule.
 */
export function compareReading(rule: ComparisonRule, value: number, metrics: Readonly<Record<string, number>>): Comparison | undefined {
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

/** One reading's change for a risesBy / fallsBy rule, and the window to keep. */
export interface ChangeStep {
  /** risesBy: value - lowest in the window; fallsBy: highest - value. Undefined when the window was empty. */
  readonly change: number | undefined;
  readonly window: WindowEntry[];
}

/**
 * Slides a risesBy / fallsBy window to a reading at `ts`. The window holds the candidates for its
 * extreme (a monotonic deque: lowest first for risesBy, highest first for fallsBy): the readings at or
 * after `ts - withinMs`, each of which some later moment could still see as the window's extreme. The
 * change is rounded to 12 significant digits, so 23.3 - 20.1 is 3.2 and not 3.1999999999999993.
 *
 * Beyond {@link CHANGE_WINDOW_CAP} candidates, the one (neither the extreme nor the newest) whose value
 * is closest to the next newer one's is dropped: until it would have left the window, the next newer
 * one stands for it, so the change may be understated (by that difference), never overstated. The rule
 * may then raise later or clear sooner; it never raises where the exact window would not.
 */
export function slideWindow(rule: ChangeRule, window: readonly WindowEntry[] | undefined, ts: number, value: number): ChangeStep {
  const { withinSeconds } = rule.kind === 'risesBy' ? rule.when.risesBy : rule.when.fallsBy;
  const sign = rule.kind === 'risesBy' ? 1 : -1;
  const from = ts - Math.ceil(withinSeconds * 1000);
  const kept = (window ?? []).filter(([at]) => at >= from);
  const extreme = kept[0];
  const change = extreme === undefined ? undefined : Number((sign * (value - extreme[1])).toPrecision(12));
  // A candidate no lower (risesBy) than the new reading can never be the extreme again: the new one outlives it.
  while (kept.length > 0 && sign * (kept[kept.length - 1] as WindowEntry)[1] >= sign * value) kept.pop();
  kept.push([ts, value]);
  if (kept.length > CHANGE_WINDOW_CAP) kept.splice(closestInterior(kept, sign), 1);
  return { change, window: kept };
}

/** The index (not the first, not the last) whose value is closest to the next one's; the oldest of equals. */
function closestInterior(window: readonly WindowEntry[], sign: number): number {
  let best = 1;
  let bestGap = Infinity;
  for (let i = 1; i < window.length - 1; i++) {
    const gap = sign * ((window[i + 1] as WindowEntry)[1] - (window[i] as WindowEntry)[1]);
    if (gap < bestGap) {
      best = i;
      bestGap = gap;
    }
  }
  return best;
}
