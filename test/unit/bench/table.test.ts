import { describe, expect, it } from 'vitest';
import { figure } from '../../../bench/report/figure.js';
import type { BenchReport } from '../../../bench/report/table.js';
import { formatReport, formatTable, renderReport } from '../../../bench/report/table.js';

const machine = { cpuModel: 'Test CPU', cores: 2, node: 'v24.0.0', platform: 'linux 6 x64', memoryGiB: 8, loadAverage1m: 1.5 };

describe('formatTable', () => {
  it('prints one row per figure with its baseline, ratio, min, max and spread of the runs, then the notes', () => {
    const table = formatTable([figure('a', 'msg/s', [10, 30, 20], [40, 40, 40], { note: 'what a is' })]);
    const lines = table.split('\n');

    expect(lines[0]).toMatch(/^figure\s+value \(median\)\s+unit\s+baseline\s+ratio\s+min\s+max\s+spread\s+runs$/);
    expect(lines[2]).toMatch(/^a\s+20\s+msg\/s\s+40\s+0\.500\s+10\s+30\s+100\.0%\s+3$/);
    expect(lines.slice(3)).toEqual(['', 'notes:', '  a: what a is']);
  });

  it('aligns every column: names and units to the left, numbers to the right', () => {
    const table = formatTable([figure('a long figure name', 'records/s', [1_000_000, 1_000_000, 1_000_000], null), figure('b', 'ms', [1.5, 1.5, 1.5], [0.5, 0.5, 0.5], { digits: 1 })]);
    const [header, rule, first, second] = table.split('\n') as [string, string, string, string];

    expect(new Set([header.length, rule.length, first.length, second.length]).size).toBe(1);
    expect(first.startsWith('a long figure name  ')).toBe(true);
    expect(second.startsWith('b                   ')).toBe(true);
    expect(first).toContain('1,000,000  records/s');
    expect(second).toMatch(/ 1\.5 {2}ms\s+0\.5\s+3\.000\s+1\.5\s+1\.5\s+0\.0%\s+3$/);
  });

  it('shows a dash where a figure has no baseline, no ratio or no meaningful spread', () => {
    const [, , line] = formatTable([figure('zero', 'ms', [0, 0, 0], null)]).split('\n') as [string, string, string];

    expect(line.trim().split(/\s+/)).toEqual(['zero', '0', 'ms', '-', '-', '0', '0', '-', '3']);
  });

  it('lists the details of a figure after its note, numbers formatted as in the table', () => {
    const table = formatTable([figure('pipeline', 'msg/s', [1, 2, 3], null, { detail: { stackCpuPct: 104, rssMiB: 1234.5678, verdict: 'ok' } })]);

    expect(table).toContain('  pipeline:  [stackCpuPct=104, rssMiB=1,234.568, verdict=ok]');
  });

  it('has no notes section when no figure has a note or a detail', () => {
    expect(formatTable([figure('a', 'ms', [1, 2, 3], null)])).not.toContain('notes:');
  });
});

describe('formatReport', () => {
  const report: BenchReport = { machine, profile: 'quick', durationS: 12.3, results: [figure('a', 'ms', [1, 2, 3], null)] };

  it('names the machine and the load it started under above the table', () => {
    const lines = formatReport(report).split('\n');

    expect(lines[0]).toBe('machine: Test CPU, 2 cores, 8 GiB, Node v24.0.0, linux 6 x64; load 1.5 at start');
    expect(lines[1]).toMatch(/^profile: quick, 12\.3 s; .*spread = \(max - min\) \/ median$/);
    expect(lines[3]).toMatch(/^figure\s+value/);
  });

  it('is the JSON of the report, machine first, with --json', () => {
    const json = renderReport(report, true);

    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(report)));
    expect(Object.keys(JSON.parse(json) as object)).toEqual(['machine', 'profile', 'durationS', 'results']);
    expect(renderReport(report, false)).toBe(formatReport(report));
  });
});
