/**
 * The arithmetic behind every figure: medians over runs, percentiles of latency samples, the spread
 * of repeats, rounding for display.
 */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The p-th percentile (0..100) by nearest rank of an already sorted array; NaN when empty. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** p50, p99 and max of latency samples (ms). */
export function latencySummary(samples: readonly number[] | Float64Array): { p50: number; p99: number; max: number; count: number } {
  const sorted = Float64Array.from(samples).sort();
  return {
    p50: percentileOfSorted(sorted, 50),
    p99: percentileOfSorted(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
    count: sorted.length,
  };
}

/**
 * How far a figure's repeats lie apart: (max - min) / median. A ratio of two figures is worth
 * reading only where it moves by more than their spreads; NaN without runs or with a median of 0.
 */
export function spread(runs: readonly number[]): number {
  const mid = median(runs);
  if (runs.length === 0 || mid === 0) return Number.NaN;
  return (Math.max(...runs) - Math.min(...runs)) / Math.abs(mid);
}

/** Rounds to `digits` significant decimals for display and JSON (3 for ratios, 1 for ms, 0 for rates). */
export function round(value: number, digits = 0): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
