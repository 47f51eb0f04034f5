import { describe, it, expect } from 'vitest';
import { runUseCaseBench } from '../../../bench/sections/use-cases.js';

describe('runUseCaseBench', () => {
  it('measures every subject against the same-run baseline and reports each run', async () => {
    const lines: string[] = [];

    const results = await runUseCaseBench({ records: 2_000, batchSize: 500, runs: 3, devices: 50, progress: (line) => lines.push(line) });

    expect(results.map((r) => r.name)).toEqual([
      'use-case: baseline: JSON.parse envelope + base64 + JSON.parse payload',
      'use-case: decodeStreamRecord',
      'use-case: storeReadings (memory store, 100 per write)',
      'use-case: evaluateAlarms (memory state store, config/thresholds.json)',
    ]);
    for (const result of results) {
      expect(result.unit).toBe('records/s');
      expect(result.runs).toHaveLength(3);
      expect(result.value).toBe([...result.runs].sort((a, b) => a - b)[1]);
      expect(result.baseline).toBe(results[0]?.value);
      expect(result.ratio).toBeCloseTo(result.value / (result.baseline as number), 2);
    }
    expect(lines).toHaveLength(4);
  });
});
