import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../simulator/histogram.js';
import { TimerWheel } from '../../../simulator/timer-wheel.js';

/** A wheel on a manual clock. */
function manualWheel(slots = 8) {
  let now = 0;
  const wheel = new TimerWheel({ tickMs: 10, slots, now: () => now });
  return {
    wheel,
    to(ms: number) {
      now = ms;
      wheel.advance();
    },
  };
}

describe('TimerWheel', () => {
  it('runs each timer once its time has come, in time order', () => {
    const { wheel, to } = manualWheel();
    const ran: string[] = [];
    wheel.schedule(35, () => ran.push('b'));
    wheel.schedule(21, () => ran.push('a'));
    wheel.schedule(500, () => ran.push('c'));

    to(20);
    expect(ran).toEqual([]);
    to(40);
    expect(ran).toEqual(['a', 'b']);
    to(499);
    expect(ran).toEqual(['a', 'b']);
    to(510);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(wheel.pending).toBe(0);
  });

  it('keeps timers more than one turn away until their own turn', () => {
    const { wheel, to } = manualWheel(4);
    const ran: number[] = [];
    wheel.schedule(15, () => ran.push(15));
    wheel.schedule(55, () => ran.push(55));

    to(20);
    expect(ran).toEqual([15]);
    to(45);
    expect(ran).toEqual([15]);
    to(60);
    expect(ran).toEqual([15, 55]);
  });

  it('catches up after a long stall without losing timers', () => {
    const { wheel, to } = manualWheel(4);
    const ran: number[] = [];
    for (const at of [10, 30, 70, 200, 990]) wheel.schedule(at, () => ran.push(at));

    to(1000);

    expect(ran).toEqual([10, 30, 70, 200, 990]);
  });

  it('never runs a cancelled timer', () => {
    const { wheel, to } = manualWheel();
    const ran: number[] = [];
    const handle = wheel.schedule(30, () => ran.push(1));
    wheel.cancel(handle);

    to(100);

    expect(ran).toEqual([]);
    expect(wheel.pending).toBe(0);
  });

  it('runs a timer scheduled in the past at the next tick', () => {
    const { wheel, to } = manualWheel();
    to(100);
    const ran: number[] = [];
    wheel.schedule(5, () => ran.push(5));

    to(110);

    expect(ran).toEqual([5]);
  });
});

describe('LatencyHistogram', () => {
  it('reports quantiles within 2% and the exact maximum', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i / 10);

    expect(h.count).toBe(1000);
    expect(h.quantile(0.5)).toBeGreaterThanOrEqual(50);
    expect(h.quantile(0.5)).toBeLessThanOrEqual(50 * 1.02);
    expect(h.quantile(0.99)).toBeGreaterThanOrEqual(99);
    expect(h.quantile(0.99)).toBeLessThanOrEqual(99 * 1.02);
    expect(h.max()).toBe(100);
  });

  it('is empty (nulls) until something is recorded, and after a reset', () => {
    const h = new LatencyHistogram();
    expect(h.quantile(0.5)).toBeNull();
    h.record(3);
    h.reset();
    expect(h.quantile(0.99)).toBeNull();
    expect(h.max()).toBeNull();
  });

  it('merges another histogram', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.record(1);
    b.record(1000);

    a.merge(b);

    expect(a.count).toBe(2);
    expect(a.max()).toBe(1000);
  });
});
