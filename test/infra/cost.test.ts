import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CostInputError,
  SERVICES,
  envelopeBytes,
  estimateMonthlyCost,
  invocationsPerSecondPerShard,
  operationalAlarmCount,
  shardsNeeded,
} from '../../infra/aws/cost/estimate.js';
import type { CostEstimate } from '../../infra/aws/cost/estimate.js';
import { PRICE_TABLE, SOURCES } from '../../infra/aws/cost/prices.js';
import type { Price } from '../../infra/aws/cost/prices.js';
import { pipeline } from '../../infra/pipeline.js';

/** The line of `service` whose item starts with `item`. */
const line = (e: CostEstimate, item: string, service?: string) => {
  const found = e.lines.find((l) => l.item.startsWith(item) && (service === undefined || l.service === service));
  if (found === undefined) throw new Error(`no line ${item}`);
  return found;
};

describe('estimateMonthlyCost', () => {
  it('prices 10,000 devices at one reading a minute with the arithmetic the price table implies', () => {
    const e = estimateMonthlyCost({ devices: 10_000, intervalSeconds: 60 });

    expect(e.traffic.messagesPerMonth).toBeCloseTo(438_000_000, 0); // 10,000 x 60 x 730
    expect(line(e, 'connectivity').monthlyUsd).toBeCloseTo(35.04, 2); // 438 M minutes x $0.08 per million
    expect(line(e, 'rules triggered').monthlyUsd).toBeCloseTo(65.7, 2); // 438 M x $0.15 per million
    expect(line(e, 'rule actions').monthlyUsd).toBeCloseTo(65.7, 2);
    expect(line(e, 'shard-hours').monthlyUsd).toBeCloseTo(2 * 730 * 0.015, 6); // the pipeline's 2 shards
    expect(line(e, 'PUT payload units').monthlyUsd).toBeCloseTo(438 * 0.014, 6); // one 25 KB unit per record
    expect(line(e, 'writes', 'Timestream').monthlyUsd).toBeCloseTo(438 * 0.5, 6); // Timestream: one 1 KB write per reading
    expect(line(e, 'alarms', 'CloudWatch').quantity).toBe(10);
    expect(e.totalUsd).toBeCloseTo(
      e.lines.reduce((sum, l) => sum + l.monthlyUsd, 0),
      9,
    );
    expect(Object.values(e.byService).reduce((a, b) => a + b, 0)).toBeCloseTo(e.totalUsd, 9);
  });

  it('applies the IoT Core messaging tiers past 1 and 5 billion messages a month', () => {
    const e = estimateMonthlyCost({ devices: 1_000_000, intervalSeconds: 60 });
    const messages = line(e, 'messaging').quantity;
    expect(messages).toBeGreaterThan(5e9);
    expect(line(e, 'messaging').monthlyUsd).toBeCloseTo(1000 * 1.0 + 4000 * 0.8 + ((messages - 5e9) / 1e6) * 0.7, 6);
  });

  it('meters IoT messages and rules in 5 KB increments', () => {
    const small = estimateMonthlyCost({ devices: 100, intervalSeconds: 60, payloadBytes: 5000 });
    const large = estimateMonthlyCost({ devices: 100, intervalSeconds: 60, payloadBytes: 5200 });
    expect(line(large, 'rules triggered').quantity).toBeCloseTo(2 * line(small, 'rules triggered').quantity, 6);
  });

  it('reports the shards the fleet needs and bills at least the pipeline definition\'s', () => {
    expect(estimateMonthlyCost({ devices: 100, intervalSeconds: 60 }).stream).toEqual({
      mode: 'provisioned',
      shardsNeeded: 1,
      shardsConfigured: pipeline.stream.shardCount,
      shardsBilled: pipeline.stream.shardCount,
    });
    // 100,000 devices at 1/min = 1,667 records/s: over two shards at 80% of 1,000 records/s.
    expect(estimateMonthlyCost({ devices: 100_000, intervalSeconds: 60 }).stream).toMatchObject({
      shardsNeeded: 3,
      shardsBilled: 3,
    });
  });

  it('bills an on-demand stream per stream-hour and GB, read once by each consumer, and no shard-hours', () => {
    const e = estimateMonthlyCost({ devices: 10_000, intervalSeconds: 60, streamMode: 'on-demand' });
    expect(e.lines.some((l) => l.item.startsWith('shard-hours'))).toBe(false);
    expect(e.stream.shardsBilled).toBe(0);
    const gbIn = line(e, 'data in').quantity;
    expect(gbIn).toBeCloseTo((438e6 * 1024) / 1024 ** 3, 6); // a 377-byte record counts as 1 KB
    expect(line(e, 'data out').quantity).toBeCloseTo(2 * gbIn, 6);
    expect(line(e, 'stream-hours').monthlyUsd).toBeCloseTo(730 * 0.04, 6);
  });

  it('leaves out Timestream and the ingest function without a time-series store', () => {
    const e = estimateMonthlyCost({ devices: 10_000, intervalSeconds: 60, timeSeriesStore: 'none' });
    expect(e.byService.Timestream).toBe(0);
    expect(e.lines.some((l) => l.item.startsWith('ingest'))).toBe(false);
    expect(line(e, 'alarms', 'CloudWatch').quantity).toBe(operationalAlarmCount('none'));
  });

  it('writes alarm state once per device per alarms batch, never more than once per reading', () => {
    // Few devices: each batch holds readings of distinct devices, so one write per reading.
    const slow = estimateMonthlyCost({ devices: 10_000, intervalSeconds: 60 });
    expect(line(slow, 'writes (alarm state)').quantity).toBeCloseTo(slow.traffic.messagesPerMonth, 0);
    // Fast devices: a one-second batch holds ten readings per device, written once.
    const fast = estimateMonthlyCost({ devices: 10, intervalSeconds: 0.1 });
    expect(line(fast, 'writes (alarm state)').quantity).toBeLessThan(fast.traffic.messagesPerMonth / 5);
  });

  it('costs more, service by service, for more devices', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000_000 }),
        fc.integer({ min: 1, max: 2_000_000 }),
        fc.integer({ min: 1, max: 3600 }),
        fc.integer({ min: 1, max: 20_000 }),
        (a, b, interval, payload) => {
          const [fewer, more] = a <= b ? [a, b] : [b, a];
          const low = estimateMonthlyCost({ devices: fewer, intervalSeconds: interval, payloadBytes: payload });
          const high = estimateMonthlyCost({ devices: more, intervalSeconds: interval, payloadBytes: payload });
          for (const service of SERVICES) {
            expect(high.byService[service]).toBeGreaterThanOrEqual(low.byService[service] - 1e-9);
          }
          expect(high.stream.shardsNeeded).toBeGreaterThanOrEqual(low.stream.shardsNeeded);
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each([
    [{ devices: 0, intervalSeconds: 60 }, /devices: expected a positive integer, got 0/],
    [{ devices: 1.5, intervalSeconds: 60 }, /devices: expected a positive integer/],
    [{ devices: 10, intervalSeconds: 0 }, /intervalSeconds: expected a positive number/],
    [{ devices: 10, intervalSeconds: Number.NaN }, /intervalSeconds/],
    [{ devices: 10, intervalSeconds: 60, payloadBytes: 200_000 }, /payloadBytes: IoT Core takes at most 131072/],
    [{ devices: 10, intervalSeconds: 60, region: 'eu-west-1' }, /region: no prices for eu-west-1 .*have: us-east-1/],
  ])('refuses %j, naming the field', (input, message) => {
    expect(() => estimateMonthlyCost(input)).toThrow(CostInputError);
    expect(() => estimateMonthlyCost(input)).toThrow(message);
  });
});

describe('shardsNeeded', () => {
  it('adds a shard past 80% of a shard\'s 1,000 records a second', () => {
    expect(shardsNeeded(800, 400, 0.8)).toBe(1);
    expect(shardsNeeded(801, 400, 0.8)).toBe(2);
  });

  it('adds a shard past 80% of a shard\'s 1 MB a second when records are large', () => {
    const recordBytes = envelopeBytes(100_000, 12); // about 133 KB
    expect(shardsNeeded(6, recordBytes, 0.8)).toBe(1);
    expect(shardsNeeded(7, recordBytes, 0.8)).toBe(2);
  });

  it('never answers fewer than one shard', () => {
    expect(shardsNeeded(0.001, 100, 0.8)).toBe(1);
  });
});

describe('invocationsPerSecondPerShard', () => {
  const alarms = pipeline.consumers.alarms; // batch 100, no window: Lambda polls once a second

  it('invokes once per record while records are rarer than polls', () => {
    expect(invocationsPerSecondPerShard(0.25, alarms)).toBe(0.25);
  });

  it('invokes once per poll while a poll\'s records fit one batch', () => {
    expect(invocationsPerSecondPerShard(50, alarms)).toBe(1);
  });

  it('invokes with full batches beyond', () => {
    expect(invocationsPerSecondPerShard(800, alarms)).toBe(8);
  });
});

describe('envelopeBytes', () => {
  it('is the size of the record the rule puts on the stream', () => {
    const payload = Buffer.alloc(200, 1);
    const actual = JSON.stringify({
      payload: payload.toString('base64'),
      topic: 'dt/fleet/sensor-00001/telemetry',
      clientId: 'sensor-00001',
      receivedAt: Date.UTC(2025, 10, 25),
    });
    expect(envelopeBytes(200, 'sensor-00001'.length)).toBe(Buffer.byteLength(actual));
  });
});

describe('the price table', () => {
  it('is dated, and names the source and how it was checked for every price', () => {
    expect(PRICE_TABLE.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const prices: Price[] = [];
    const collect = (value: unknown): void => {
      if (value !== null && typeof value === 'object') {
        if ('usd' in value && 'source' in value) prices.push(value as Price);
        else Object.values(value).forEach(collect);
      }
    };
    collect(PRICE_TABLE.regions);
    expect(prices.length).toBeGreaterThan(20);
    for (const price of prices) {
      expect(Object.keys(SOURCES)).toContain(price.source);
      expect(['aws', 'secondary', 'unverified']).toContain(price.check);
      expect(price.usd).toBeGreaterThan(0);
    }
  });

  it('lists in every estimate the prices nobody re-read', () => {
    const e = estimateMonthlyCost({ devices: 100, intervalSeconds: 60 });
    expect(e.unverifiedPrices.length).toBeGreaterThan(0);
    expect(e.unverifiedPrices.every((p) => / USD per /.test(p))).toBe(true);
  });
});
