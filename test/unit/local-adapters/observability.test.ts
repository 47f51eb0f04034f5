import { describe, it, expect } from 'vitest';
import { ConfigError } from '../../../lambdas/domain/errors.js';
import { METRIC } from '../../../lambdas/ports/observability.js';
import { CounterMetrics, stderrLog } from '../../../lambdas/adapters/local/observability.js';

function capture(): { out: { write(line: string): void }; lines: () => Record<string, unknown>[] } {
  const written: string[] = [];
  return {
    out: { write: (line) => void written.push(line) },
    lines: () => written.map((l) => {
      expect(l.endsWith('\n')).toBe(true);
      return JSON.parse(l) as Record<string, unknown>;
    }),
  };
}

describe('stderrLog', () => {
  const now = () => new Date(1_764_028_800_123);

  it('writes one JSON object per line with level, message, timestamp, service and the extra fields', () => {
    const sink = capture();
    const log = stderrLog({ level: 'info', name: 'ingest', out: sink.out, now });

    log.info('batch stored', { records: 500, shardId: 'shardId-000000000000' });

    expect(sink.lines()).toEqual([
      { level: 'INFO', message: 'batch stored', timestamp: '2025-11-25T00:00:00.123Z', service: 'ingest', records: 500, shardId: 'shardId-000000000000' },
    ]);
  });

  it('drops the levels below the configured one', () => {
    const sink = capture();
    const log = stderrLog({ level: 'warn', name: 'x', out: sink.out, now });

    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');

    expect(sink.lines().map((l) => l.level)).toEqual(['WARN', 'ERROR']);
  });

  it('spells out errors with their cause, and survives cycles and bigints', () => {
    const sink = capture();
    const log = stderrLog({ level: 'debug', name: 'x', out: sink.out, now });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;

    log.error('failed', { err: new Error('outer', { cause: new Error('inner') }), cyclic, big: 10n });

    const [line] = sink.lines();
    expect(line?.err).toMatchObject({ name: 'Error', message: 'outer', cause: { name: 'Error', message: 'inner' } });
    expect(line?.cyclic).toEqual({ a: 1, self: '[Circular]' });
    expect(line?.big).toBe('10');
  });

  it('refuses an unknown level, naming it and the known ones', () => {
    expect(() => stderrLog({ level: 'verbose', name: 'x' })).toThrow(ConfigError);
    expect(() => stderrLog({ level: 'verbose', name: 'x' })).toThrow('log level: "verbose" is not one of debug, info, warn, error');
  });

  it('writes to process.stderr by default', () => {
    const original = process.stderr.write.bind(process.stderr);
    const written: string[] = [];
    process.stderr.write = ((chunk: string) => {
      written.push(chunk);
      return true;
    }) as typeof process.stderr.write;
    try {
      stderrLog({ level: 'info', name: 'local' }).info('hello');
    } finally {
      process.stderr.write = original;
    }

    expect(written.map((w) => JSON.parse(w).message)).toEqual(['hello']);
  });
});

describe('CounterMetrics', () => {
  it('adds counts to the metric total and to its dimension series', () => {
    const metrics = new CounterMetrics();

    metrics.count(METRIC.readingsStored, 500);
    metrics.count(METRIC.readingsStored, 2, { name: 'type', value: 'env-sensor' });
    metrics.count(METRIC.alarmsRaised);

    expect(metrics.snapshot()).toEqual({
      AlarmsRaised: 1,
      ReadingsStored: 502,
      'ReadingsStored{type=env-sensor}': 2,
    });
    expect(metrics.get('ReadingsStored{type=env-sensor}')).toBe(2);
    expect(metrics.get(METRIC.stateConflicts)).toBe(0);
  });

  it('returns a snapshot that later counts do not change', () => {
    const metrics = new CounterMetrics();
    metrics.count(METRIC.readingsRejected);

    const before = metrics.snapshot();
    metrics.count(METRIC.readingsRejected);

    expect(before).toEqual({ ReadingsRejected: 1 });
    expect(metrics.snapshot()).toEqual({ ReadingsRejected: 2 });
  });
});
