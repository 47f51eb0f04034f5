/**
 * Every metric name the decoder accepts is a metric, including the names of Object.prototype's
 * members: a reading published with `constructor` or `__proto__` is decoded with it, stored, read
 * back by the query side and exported to CSV with exactly its values, and a reading without it
 * leaves that CSV cell empty (never `function Object() { [native code] }` or `[object Object]`).
 * Real SQLite file, the console's real CSV writer behind a real HTTP server on 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTelemetry } from '../../../lambdas/domain/telemetry.js';
import { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import { ConsoleDb } from '../../../infra/local/console/console-db.js';
import { writeReadingsCsv } from '../../../infra/local/console/csv.js';
import { metricValue } from '../../../infra/local/console/metric-value.js';
import { telemetryTopic } from '../../../infra/pipeline.js';
import { tempDir } from '../local-adapters/temp-dir.js';
import { join } from 'node:path';

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'toLocaleString', '__defineGetter__'];

/** Names the decoder accepts: 1 to 64 of [A-Za-z0-9_.-], biased towards Object.prototype's members. */
const metricName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/) },
);
/** One reading's metrics as entries (never an object literal: `{ __proto__: 1 }` would set the prototype). */
const metricEntries = fc.uniqueArray(fc.tuple(metricName, fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 })), {
  minLength: 1,
  maxLength: 6,
  selector: ([name]) => name,
});

/** JSON text of an object with exactly these own keys, in this order. */
function objectJson(entries: readonly (readonly [string, unknown])[]): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',')}}`;
}

/** Entries by name: an object lists integer-like keys ("0") first, whatever the JSON order. */
function byName(entries: readonly (readonly [string, number])[]): [string, number][] {
  return [...entries].map(([name, value]): [string, number] => [name, value]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** RFC 4180 fields of one CRLF-terminated line without quoted fields (our numbers and names need none). */
function csvRows(text: string): string[][] {
  return text.split('\r\n').filter((line) => line !== '').map((line) => line.split(','));
}

describe('metric names that are JavaScript object keys', () => {
  const dir = tempDir('fleet-metric-names-');
  const file = join(dir.path, 'store.db');
  let store: SqliteStore;
  let db: ConsoleDb;
  let server: Server;
  let origin: string;
  const csvOf = new Map<string, { since: number; until: number }>();

  beforeAll(async () => {
    store = SqliteStore.open(file);
    db = new ConsoleDb(file);
    server = createServer((req, res) => {
      const deviceId = new URL(req.url ?? '/', 'http://x').searchParams.get('device') ?? '';
      const range = csvOf.get(deviceId);
      if (range === undefined) {
        res.writeHead(404).end();
        return;
      }
      void writeReadingsCsv(db, { deviceId, ...range }, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    db.close();
    store.close();
    dir.remove();
  });

  it('reads only own properties: a missing prototype-named metric is absent, a present one is its value', () => {
    const metrics = JSON.parse('{"__proto__":1.5,"valueOf":-2}') as Record<string, number>;
    expect(metricValue(metrics, '__proto__')).toBe(1.5);
    expect(metricValue(metrics, 'valueOf')).toBe(-2);
    expect(metricValue(metrics, 'constructor')).toBeUndefined();
    expect(metricValue(metrics, 'toString')).toBeUndefined();
    expect(metricValue({}, '__proto__')).toBeUndefined();
  });

  it('decodes, stores, queries and exports every accepted name with exactly its values', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(metricEntries, { minLength: 1, maxLength: 5 }), async (readings) => {
        run += 1;
        const deviceId = `proto-${run}`;
        const t0 = Date.UTC(2025, 5, 1) + run * 60_000;
        const decoded = readings.map((entries, i) => {
          const payload = Buffer.from(objectJson([['ts', t0 + i * 1000], ['seq', i], ['metrics', JSON.parse(objectJson(entries))]])).toString('base64');
          // Built from JSON text, as a device's payload: `__proto__` is an own key there.
          const result = decodeTelemetry({ topic: telemetryTopic(deviceId), payload, clientId: deviceId, receivedAt: t0 });
          if (!result.success) throw new Error(`decoder refused ${objectJson(entries)}: ${result.rejection.reason}`);
          expect(byName(Object.entries(result.reading.metrics))).toEqual(byName(entries));
          return result.reading;
        });
        await store.timeSeries.write(decoded);

        const stored = store.queryReadings({ deviceId, order: 'asc' });
        expect(stored.map((r) => byName(Object.entries(r.metrics)))).toEqual(readings.map(byName));

        csvOf.set(deviceId, { since: t0, until: t0 + readings.length * 1000 });
        const res = await fetch(`${origin}/?device=${deviceId}`);
        expect(res.status).toBe(200);
        const [header, ...rows] = csvRows(await res.text());
        const names = [...new Set(readings.flatMap((entries) => entries.map(([name]) => name)))].sort();
        expect(header).toEqual(['ts_iso', 'ts_ms', 'seq', ...names]);
        const expected = readings.map((entries, i) => {
          const values = new Map(entries);
          return [new Date(t0 + i * 1000).toISOString(), String(t0 + i * 1000), String(i), ...names.map((name) => (values.has(name) ? String(values.get(name)) : ''))];
        });
        expect(rows).toEqual(expected);
      }),
      { seed: 17, numRuns: 60 },
    );
  });
});
