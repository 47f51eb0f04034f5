/**
 * The shape every benchmark reports, and the arithmetic behind it: medians over runs, percentiles of
 * latency samples, ratios against a baseline measured in the same run.
 */

/** One figure of `npm run bench`, as `--json` prints it. */
export interface BenchFigure {
  readonly name: string;
  /** The median over `runs`. */
  readonly value: number;
  readonly unit: string;
  /** The baseline's median, measured in the same run (null where a figure has none). */
  readonly baseline: number | null;
  /** value / baseline, 3 decimals (null without a baseline). */
  readonly ratio: number | null;
  /** Every run's figure, in run order (at least 3). */
  readonly runs: readonly number[];
  /** What the figure measures and what the baseline is, in a few words. */
  readonly note?: string;
  /** Extra figures of the same measurement (min, max, CPU, latency percentiles...). */
  readonly detail?: Readonly<Record<string, number | string | null>>;
}

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

/** Rounds to `digits` significant decimals for display and JSON (3 for ratios, 1 for ms, 0 for rates). */
export function round(value: number, digits = 0): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Builds a figure from its runs and, optionally, the baseline's runs. */
export function figure(
  name: string,
  unit: string,
  runs: readonly number[],
  baselineRuns: readonly number[] | null,
  extra: { note?: string; detail?: Record<string, number | string | null>; digits?: number } = {},
): BenchFigure {
  const digits = extra.digits ?? 0;
  const value = round(median(runs), digits);
  const baseline = baselineRuns === null ? null : round(median(baselineRuns), digits);
  return {
    name,
    value,
    unit,
    baseline,
    ratio: baseline === null || baseline === 0 ? null : round(median(runs) / median(baselineRuns as number[]), 3),
    runs: runs.map((r) => round(r, digits)),
    ...(extra.note === undefined ? {} : { note: extra.note }),
    ...(extra.detail === undefined ? {} : { detail: extra.detail }),
  };
}

/** The table on stdout: one row per figure, the baseline beside it, then min and max of the runs. */
export function formatTable(figures: readonly BenchFigure[]): string {
  const fmt = (n: number | null) => (n === null ? '-' : Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 3 }) : String(n));
  const header = ['figure', 'value (median)', 'unit', 'baseline', 'ratio', 'min', 'max', 'runs'];
  const rows = figures.map((f) => [
    f.name,
    fmt(f.value),
    f.unit,
    fmt(f.baseline),
    f.ratio === null ? '-' : f.ratio.toFixed(3),
    fmt(Math.min(...f.runs)),
    fmt(Math.max(...f.runs)),
    String(f.runs.length),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === 0 || i === 2 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const notes = figures.filter((f) => f.note !== undefined || f.detail !== undefined);
  if (notes.length > 0) {
    out.push('', 'notes:');
    for (const f of notes) {
      const detail = f.detail === undefined ? '' : ` [${Object.entries(f.detail).map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : String(v)}`).join(', ')}]`;
      out.push(`  ${f.name}: ${f.note ?? ''}${detail}`);
    }
  }
  return out.join('\n');
}
