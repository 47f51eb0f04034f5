/**
 * The one table formatter: what `npm run bench` and the measurement aids print on stdout (without
 * `--json`). One row per figure with its baseline and ratio, then the repeats' min, max and spread,
 * then each figure's note and detail.
 */
import type { BenchFigure } from './figure.js';
import type { MachineInfo } from './machine.js';
import { spread } from './stats.js';

/** A report as `--json` prints it: the machine, then every figure. */
export interface BenchReport {
  readonly machine: MachineInfo;
  readonly profile: string;
  readonly durationS: number;
  readonly results: readonly BenchFigure[];
}

const HEADER = ['figure', 'value (median)', 'unit', 'baseline', 'ratio', 'min', 'max', 'spread', 'runs'] as const;
/** Text columns are left-aligned, numbers right-aligned. */
const LEFT_ALIGNED = new Set([0, 2]);

function formatNumber(n: number | null): string {
  if (n === null) return '-';
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 3 }) : String(n);
}

/** (max - min) / median in percent, one decimal: `12.5%`; `-` where it means nothing. */
function formatSpread(runs: readonly number[]): string {
  const value = spread(runs);
  return Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : '-';
}

function row(f: BenchFigure): string[] {
  return [
    f.name,
    formatNumber(f.value),
    f.unit,
    formatNumber(f.baseline),
    f.ratio === null ? '-' : f.ratio.toFixed(3),
    formatNumber(Math.min(...f.runs)),
    formatNumber(Math.max(...f.runs)),
    formatSpread(f.runs),
    String(f.runs.length),
  ];
}

function notes(figures: readonly BenchFigure[]): string[] {
  const explained = figures.filter((f) => f.note !== undefined || f.detail !== undefined);
  if (explained.length === 0) return [];
  return [
    '',
    'notes:',
    ...explained.map((f) => {
      const entries = Object.entries(f.detail ?? {}).map(([k, v]) => `${k}=${typeof v === 'number' ? formatNumber(v) : String(v)}`);
      return `  ${f.name}: ${f.note ?? ''}${f.detail === undefined ? '' : ` [${entries.join(', ')}]`}`;
    }),
  ];
}

/** The figures as an aligned table, then their notes. */
export function formatTable(figures: readonly BenchFigure[]): string {
  const rows = figures.map(row);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((cells) => (cells[i] as string).length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (LEFT_ALIGNED.has(i) ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
  return [line(HEADER), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ...notes(figures)].join('\n');
}

/** The machine first, then the table. */
export function formatReport(report: BenchReport): string {
  const m = report.machine;
  return [
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; load ${m.loadAverage1m} at start`,
    `profile: ${report.profile}, ${report.durationS} s; each figure is the median of its runs; ratio = value / baseline (same run); spread = (max - min) / median`,
    '',
    formatTable(report.results),
  ].join('\n');
}

/** What a bench command prints on stdout: the table, or with `json` the report as JSON. */
export function renderReport(report: BenchReport, json: boolean): string {
  return json ? JSON.stringify(report, null, 2) : formatReport(report);
}
