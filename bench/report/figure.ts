/**
 * The one result type of the benchmarks: every section, and both measurement aids (bench/stages.ts,
 * bench/consumers.ts), report `BenchFigure`s, which the one table (report/table.ts) prints and
 * `--json` writes as they are.
 */
import { median, round } from './stats.js';

/** One figure, as `--json` prints it. */
export interface BenchFigure {
  readonly name: string;
  /** The median over `runs`. */
  readonly value: number;
  readonly unit: string;
  /** The baseline's median, measured in the same run (null where a figure has none). */
  readonly baseline: number | null;
  /** value / baseline, 3 decimals (null without a baseline). */
  readonly ratio: number | null;
  /** Every run's figure, in run order (at least 3 in `npm run bench`). */
  readonly runs: readonly number[];
  /** What the figure measures and what the baseline is, in a few words. */
  readonly note?: string;
  /** Extra figures of the same measurement (CPU, latency percentiles...). */
  readonly detail?: Readonly<Record<string, number | string | null>>;
}

/** Builds a figure from its runs and, optionally, the baseline's runs. */
export function figure(
  name: string,
  unit: string,
  runs: readonly number[],
  baselineRuns: readonly number[] | null,
  extra: { note?: string | undefined; detail?: Record<string, number | string | null>; digits?: number } = {},
): BenchFigure {
  const digits = extra.digits ?? 0;
  const value = round(median(runs), digits);
  const baseline = baselineRuns === null ? null : round(median(baselineRuns), digits);
  return {
    name,
    value,
    unit,
    baseline,
    // Of the unrounded medians: a ratio of two rounded latencies of 0.1 ms would be mostly rounding.
    ratio: baselineRuns === null || baseline === 0 ? null : round(median(runs) / median(baselineRuns), 3),
    runs: runs.map((r) => round(r, digits)),
    ...(extra.note === undefined ? {} : { note: extra.note }),
    ...(extra.detail === undefined ? {} : { detail: extra.detail }),
  };
}
