import { describe, expect, it } from 'vitest';
import { figure } from '../../../bench/report/figure.js';
import { latencySummary, median, percentileOfSorted, spread } from '../../../bench/report/stats.js';

describe('median', () => {
  it('takes the middle run of an odd count and the mean of the two middle runs of an even count', () => {
    expect(median([30, 10, 20])).toBe(20);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('is NaN without runs', () => {
    expect(median([])).toBeNaN();
  });
});

describe('percentileOfSorted', () => {
  it('picks by nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);

    expect(percentileOfSorted(sorted, 50)).toBe(50);
    expect(percentileOfSorted(sorted, 99)).toBe(99);
    expect(percentileOfSorted(sorted, 100)).toBe(100);
    expect(percentileOfSorted([7], 99)).toBe(7);
  });
});

describe('latencySummary', () => {
  it('gives p50, p99, max and the sample count of unsorted samples', () => {
    const samples = [5, 1, 4, 2, 3];

    expect(latencySummary(samples)).toEqual({ p50: 3, p99: 5, max: 5, count: 5 });
  });
});

describe('figure', () => {
  it('reports the median of the runs beside the median of the baseline runs, and their ratio', () => {
    const result = figure('pipeline-vs-broker', 'msg/s', [60, 50, 55], [100, 90, 110]);

    expect(result).toEqual({ name: 'pipeline-vs-broker', value: 55, unit: 'msg/s', baseline: 100, ratio: 0.55, runs: [60, 50, 55] });
  });

  it('has no baseline and no ratio when there is no baseline', () => {
    const result = figure('broker-baseline', 'msg/s', [1, 2, 3], null);

    expect(result.baseline).toBeNull();
    expect(result.ratio).toBeNull();
  });

  it('rounds to the digits asked for and keeps the note and details', () => {
    const result = figure('latency', 'ms', [1.234, 1.25, 1.26], [0.5, 0.5, 0.5], { digits: 1, note: 'n', detail: { p99: 3 } });

    expect(result.value).toBe(1.3);
    expect(result.runs).toEqual([1.2, 1.3, 1.3]);
    expect(result.ratio).toBe(2.5);
    expect(result.note).toBe('n');
    expect(result.detail).toEqual({ p99: 3 });
  });
});

describe('spread', () => {
  it('is the distance between the slowest and the fastest run, relative to the median', () => {
    expect(spread([121_000, 165_000, 140_000])).toBeCloseTo(44_000 / 140_000, 10);
    expect(spread([5, 5, 5])).toBe(0);
  });

  it('is NaN without runs or around a median of 0', () => {
    expect(spread([])).toBeNaN();
    expect(spread([-1, 0, 1])).toBeNaN();
  });
});
