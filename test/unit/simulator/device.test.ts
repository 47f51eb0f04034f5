import { describe, expect, it } from 'vitest';
import type { DeviceSpec, Pending } from '../../../simulator/device.js';
import { DeviceModel, generateReadings, Outbox } from '../../../simulator/device.js';
import { createRng, pickIndices } from '../../../simulator/random.js';

const spec = (over: Partial<DeviceSpec> = {}): DeviceSpec => ({
  seed: 'seed-1',
  index: 3,
  kind: 'env-sensor',
  rate: 1,
  startOffsetMs: 0,
  jitter: 0.2,
  windows: [],
  env: { startHour: 10 },
  ...over,
});

const pending = (seq: number): Pending => ({ seq, ts: 1000 + seq, payload: `{"seq":${seq}}` });

describe('generateReadings', () => {
  it('gives the same values and offsets for the same seed', () => {
    const a = generateReadings(spec({ kind: 'vehicle' }), 120_000);
    const b = generateReadings(spec({ kind: 'vehicle' }), 120_000);

    expect(a.length).toBeGreaterThan(100);
    expect(b).toEqual(a);
  });

  it('gives different readings for another seed or another device', () => {
    const base = generateReadings(spec(), 30_000);

    expect(generateReadings(spec({ seed: 'seed-2' }), 30_000)).not.toEqual(base);
    expect(generateReadings(spec({ index: 4 }), 30_000)).not.toEqual(base);
  });

  it('numbers readings 0, 1, 2... and spaces them about one period apart, jittered', () => {
    const readings = generateReadings(spec({ rate: 2, jitter: 0.2 }), 60_000);

    expect(readings.map((r) => r.seq)).toEqual(readings.map((_, i) => i));
    const gaps = readings.slice(1).map((r, i) => r.offsetMs - (readings[i] as { offsetMs: number }).offsetMs);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(400);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(600);
    expect(new Set(gaps).size).toBeGreaterThan(1);
  });

  it('starts a device no earlier than its ramp slot and within one period of it', () => {
    const [first] = generateReadings(spec({ rate: 0.1, startOffsetMs: 7_000 }), 60_000);

    expect(first?.offsetMs).toBeGreaterThanOrEqual(7_000);
    expect(first?.offsetMs).toBeLessThan(17_000 + 1_000);
  });

  it('sends nothing and uses no seq while the device is silent', () => {
    const readings = generateReadings(spec({ windows: [{ kind: 'silent', fromMs: 10_000, toMs: 20_000 }] }), 30_000);

    expect(readings.some((r) => r.offsetMs >= 10_000 && r.offsetMs < 20_000)).toBe(false);
    expect(readings.some((r) => r.offsetMs >= 20_000)).toBe(true);
    expect(readings.map((r) => r.seq)).toEqual(readings.map((_, i) => i));
  });

  it('raises the temperature above the overheat threshold only inside the anomaly window', () => {
    const readings = generateReadings(spec({ windows: [{ kind: 'overheat', fromMs: 60_000, toMs: 90_000 }] }), 120_000);

    const inside = readings.filter((r) => r.offsetMs >= 60_000 && r.offsetMs < 90_000);
    const outside = readings.filter((r) => r.offsetMs < 60_000 || r.offsetMs >= 90_000);
    expect(inside.length).toBeGreaterThanOrEqual(3);
    expect(inside.every((r) => (r.metrics.temperature as number) > 80)).toBe(true);
    expect(outside.every((r) => (r.metrics.temperature as number) < 75)).toBe(true);
  });

  it('shows the level a scenario asks for', () => {
    const readings = generateReadings(spec({ windows: [{ kind: 'battery-low', fromMs: 0, toMs: 10_000, level: 3.0 }] }), 10_000);

    expect(readings.every((r) => Math.abs((r.metrics.battery as number) - 3.0) < 0.1)).toBe(true);
  });
});

describe('DeviceModel', () => {
  it('offers its next due time before producing the reading', () => {
    const model = new DeviceModel(spec());
    const due = model.nextOffsetMs;

    const reading = model.take();

    expect(reading?.offsetMs).toBe(due);
    expect(model.nextOffsetMs).toBeGreaterThan(due);
  });
});

describe('Outbox', () => {
  it('keeps at most the window in flight and releases the next on ack', () => {
    const outbox = new Outbox({ capacity: 10, window: 2 });
    [0, 1, 2].forEach((s) => outbox.push(pending(s)));

    const sent = [outbox.take({ track: true }), outbox.take({ track: true }), outbox.take({ track: true })];

    expect(sent.map((p) => p?.seq)).toEqual([0, 1, undefined]);
    expect(outbox.ack(0)?.seq).toBe(0);
    expect(outbox.take({ track: true })?.seq).toBe(2);
    expect(outbox.inFlightCount).toBe(2);
  });

  it('drops the oldest buffered reading when full and counts it', () => {
    const outbox = new Outbox({ capacity: 3, window: 1 });

    [0, 1, 2, 3, 4].forEach((s) => outbox.push(pending(s)));

    expect(outbox.dropped).toBe(2);
    expect(outbox.queued).toBe(3);
    expect(outbox.take({ track: false })?.seq).toBe(2);
  });

  it('puts in-flight readings back in front, in seq order, after a disconnect', () => {
    const outbox = new Outbox({ capacity: 10, window: 3 });
    [0, 1, 2, 3, 4].forEach((s) => outbox.push(pending(s)));
    [0, 1, 2].forEach(() => outbox.take({ track: true }));
    outbox.ack(1);

    const requeued = outbox.requeueInFlight();

    expect(requeued).toBe(2);
    expect(outbox.inFlightCount).toBe(0);
    const order: number[] = [];
    for (let p = outbox.take({ track: false }); p !== undefined; p = outbox.take({ track: false })) order.push(p.seq);
    expect(order).toEqual([0, 2, 3, 4]);
  });

  it('ignores an ack for a reading that is not in flight', () => {
    const outbox = new Outbox({ capacity: 10, window: 3 });
    outbox.push(pending(0));

    expect(outbox.ack(0)).toBeUndefined();
    expect(outbox.queued).toBe(1);
  });

  it('lets everything out at once under QoS 0 (nothing tracked)', () => {
    const outbox = new Outbox({ capacity: 100, window: Number.POSITIVE_INFINITY });
    for (let s = 0; s < 70; s++) outbox.push(pending(s));

    let n = 0;
    while (outbox.take({ track: false }) !== undefined) n += 1;

    expect(n).toBe(70);
    expect(outbox.inFlightCount).toBe(0);
  });
});

describe('createRng', () => {
  it('repeats its stream for the same seed parts and differs for others', () => {
    const a = createRng('s', 1);
    const b = createRng('s', 1);
    const c = createRng('s', 2);

    const xs = Array.from({ length: 5 }, () => a.next());

    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('draws normal numbers with mean about 0 and deviation about 1', () => {
    const rng = createRng('gauss');
    const xs = Array.from({ length: 20_000 }, () => rng.gaussian());

    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);

    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(sd - 1)).toBeLessThan(0.05);
  });

  it('picks distinct indices, sorted, as many as asked', () => {
    const picked = pickIndices(createRng('pick'), 50, 10);

    expect(new Set(picked).size).toBe(10);
    expect([...picked].sort((x, y) => x - y)).toEqual(picked);
    expect(picked.every((i) => i >= 0 && i < 50)).toBe(true);
  });
});
