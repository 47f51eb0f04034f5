import { describe, expect, it } from 'vitest';
import type { Log } from '../../../lambdas/ports/observability.js';
import { RateLimitedLog } from '../../../infra/local/rate-limited-log.js';

function collectingLog(): Log & { lines: { message: string; extra?: Record<string, unknown> }[] } {
  const lines: { message: string; extra?: Record<string, unknown> }[] = [];
  const push = (message: string, extra?: Record<string, unknown>) => lines.push(extra === undefined ? { message } : { message, extra });
  return { lines, debug: push, info: push, warn: push, error: push };
}

describe('rate-limited warnings', () => {
  it('writes the first warning of a kind at once, counts the rest of the interval, and writes the count with the next line', () => {
    const log = collectingLog();
    let now = 1_000;
    const warnings = new RateLimitedLog({ log, intervalMs: 10_000, now: () => now });

    warnings.warn('refused', 'publish refused', { clientId: 'a' });
    for (let i = 0; i < 5_000; i++) warnings.warn('refused', 'publish refused', { clientId: 'b' });
    warnings.warn('other', 'something else');
    now += 10_000;
    warnings.warn('refused', 'publish refused', { clientId: 'c' });

    expect(log.lines).toEqual([
      { message: 'publish refused', extra: { clientId: 'a' } },
      { message: 'something else' },
      { message: 'publish refused', extra: { clientId: 'c', suppressed: 5_000, suppressedOverMs: 10_000 } },
    ]);
  });

  it('writes the count of a burst that nothing follows when flushed', () => {
    const log = collectingLog();
    const warnings = new RateLimitedLog({ log, intervalMs: 10_000, now: () => 0 });
    warnings.warn('full', 'disk full', { freeBytes: 10 });
    warnings.warn('full', 'disk full', { freeBytes: 9 });
    warnings.warn('full', 'disk full', { freeBytes: 8 });

    warnings.flushAll();

    expect(log.lines).toEqual([
      { message: 'disk full', extra: { freeBytes: 10 } },
      { message: 'disk full (repeated 2 times since the last line)', extra: { freeBytes: 8, suppressed: 2, suppressedOverMs: 10_000 } },
    ]);
  });
});
