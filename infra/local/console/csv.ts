/**
 * CSV export of one device's readings over a time range (RFC 4180: CRLF line ends, fields with a
 * comma, quote or line break quoted, quotes doubled). Header: `ts_iso,ts_ms,seq`, then one column
 * per metric present in the range, sorted by name; a reading without that metric leaves it empty.
 *
 * Streamed: rows are read in keyset pages and written as the socket drains, so a range of millions
 * of readings holds one page in memory and never blocks the event loop for long.
 */
import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import { ConsoleDb } from './console-db.js';
import { metricValue } from './metric-value.js';

/** Readings per page: one short synchronous query between awaits. */
const PAGE_ROWS = 2_000;

export interface CsvExportRequest {
  readonly deviceId: string;
  /** Inclusive, epoch ms. */
  readonly since: number;
  /** Exclusive, epoch ms. */
  readonly until: number;
}

/** Writes the export to `res` (headers included) and ends it. Resolves once written or the client left. */
export async function writeReadingsCsv(db: ConsoleDb, request: CsvExportRequest, res: ServerResponse): Promise<void> {
  const { deviceId, since, until } = request;
  const metrics = db.metricNames(deviceId, since, until);
  const filename = `${deviceId.replace(/[^A-Za-z0-9_-]/g, '_')}-${isoForFile(since)}-${isoForFile(until)}.csv`;
  res.writeHead(200, {
    'content-type': 'text/csv; charset=utf-8; header=present',
    'content-disposition': `attachment; filename="${filename}"`,
    'cache-control': 'no-store',
  });
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  res.write(csvLine(['ts_iso', 'ts_ms', 'seq', ...metrics]));
  let after: { ts: number; seq: number } | undefined = ConsoleDb.firstPosition(since);
  while (after !== undefined && !closed) {
    const page = db.readingsPage(deviceId, after, until, PAGE_ROWS);
    let chunk = '';
    for (const row of page.rows) {
      chunk += csvLine([
        new Date(row.ts).toISOString(),
        String(row.ts),
        row.seq === null ? '' : String(row.seq),
        ...metrics.map((m) => {
          const v = metricValue(row.metrics, m);
          return v === undefined ? '' : String(v);
        }),
      ]);
    }
    after = page.next;
    if (chunk.length > 0 && !res.write(chunk) && !closed) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    // Let other requests and the pipeline run between pages.
    else await new Promise((resolve) => setImmediate(resolve));
  }
  if (!closed) res.end();
}

/** One CSV record with its CRLF (RFC 4180 section 2). */
export function csvLine(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function isoForFile(ms: number): string {
  return new Date(ms).toISOString().replace(/[:.]/g, '-');
}
