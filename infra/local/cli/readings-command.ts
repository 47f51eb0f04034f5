/**
 * `npm run query -- readings`: the stored readings through the read port, from the local store or
 * (`--target aws`) from the deployed stack, printed the same way for both: a table, `--json` or
 * `--csv`. Kept apart from query.ts so the AWS path can be tested in the process (with a mocked
 * CloudFormation and dynalite) and the output compared with the local one.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openDeployedReadings, type DeployedReadingsOptions } from '../../aws/deployed-readings.js';
import { SqliteReadingsReader } from '../../../lambdas/adapters/local/sqlite-readings-reader.js';
import { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import type { ReadingRow, ReadingsReader } from '../../../lambdas/ports/readings-reader.js';
import { csvLine } from '../console/index.js';
import { CommandFailedError, UsageError } from '../../cli/cli-support.js';

export type ReadingsFormat = 'table' | 'json' | 'csv';

export interface ReadingsQueryOptions {
  readonly target: 'local' | 'aws';
  /** Local data directory (`--data`). */
  readonly data: string;
  /** `--stack`, `--region` (aws only). */
  readonly stack?: string;
  readonly region?: string;
  readonly device?: string;
  readonly since?: number;
  readonly until?: number;
  readonly limit: number;
}

/** Where readings are read from; the AWS side takes client overrides for tests. */
export interface ReadingsSources {
  readonly aws?: DeployedReadingsOptions['clients'];
  /** Told what is being read (stderr in the CLI). */
  readonly info?: (line: string) => void;
}

/** A failure to report as one line on stderr (exit 1). */
export class ReadingsQueryError extends CommandFailedError {}

/**
 * The newest `limit` readings matching the options (one device, or the whole fleet), oldest first
 * like a log tail: the last row is the newest reading.
 */
export async function queryReadings(opts: ReadingsQueryOptions, sources: ReadingsSources = {}): Promise<ReadingRow[]> {
  if (opts.target === 'local' && (opts.stack !== undefined || opts.region !== undefined)) {
    throw new UsageError('--stack and --region need --target aws');
  }
  const opened = opts.target === 'aws' ? await openAws(opts, sources) : openLocal(opts.data);
  try {
    const range = { ...(opts.since === undefined ? {} : { since: opts.since }), ...(opts.until === undefined ? {} : { until: opts.until }) };
    if (opts.device !== undefined) {
      return (await opened.reader.deviceReadings({ deviceId: opts.device, ...range, limit: opts.limit, order: 'desc' })).reverse();
    }
    if (!opened.readsAcrossDevices) {
      throw new UsageError('this stack has no alarm-state table output to list its devices: pass --device ID');
    }
    return (await opened.reader.newestReadings({ ...range, limit: opts.limit })).reverse();
  } finally {
    opened.close();
  }
}

interface Opened {
  readonly reader: ReadingsReader;
  readonly readsAcrossDevices: boolean;
  close(): void;
}

function openLocal(dataDir: string): Opened {
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
    throw new ReadingsQueryError(`no data directory ${dataDir} (start the stack with npm start, or pass --data DIR)`);
  }
  const file = join(dataDir, 'store.db');
  if (!existsSync(file)) throw new ReadingsQueryError(`no store.db in ${dataDir} (has the stack run with --data ${dataDir}?)`);
  const store = SqliteStore.open(file, { readonly: true });
  return { reader: new SqliteReadingsReader(store), readsAcrossDevices: true, close: () => store.close() };
}

async function openAws(opts: ReadingsQueryOptions, sources: ReadingsSources): Promise<Opened> {
  const deployed = await openDeployedReadings({
    ...(opts.stack === undefined ? {} : { stackName: opts.stack }),
    ...(opts.region === undefined ? {} : { region: opts.region }),
    ...(sources.aws === undefined ? {} : { clients: sources.aws }),
  });
  sources.info?.(`reading ${deployed.source}`);
  return deployed;
}

/** The rows as the CLI prints them: an aligned table, one line of JSON, or CSV (lines end CRLF, RFC 4180). */
export function renderReadings(rows: readonly ReadingRow[], format: ReadingsFormat): string {
  if (format === 'json') return JSON.stringify(rows);
  if (format === 'csv') return readingsCsv(rows);
  const iso = (ms: number): string => new Date(ms).toISOString();
  const text = (v: string | number | null): string => (v === null ? '-' : String(v));
  const headers = ['TIME', 'DEVICE', 'SEQ', 'TYPE', 'METRICS'];
  const cells = rows.map((r) => [
    iso(r.ts),
    r.deviceId,
    text(r.seq),
    text(r.type),
    Object.entries(r.metrics)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]): string => c.map((cell, i) => (i === c.length - 1 ? cell : cell.padEnd(widths[i] as number))).join('  ');
  return [line(headers), ...cells.map(line)].join('\n');
}

/** `ts_iso,ts_ms,device_id,seq,type`, then one column per metric present, sorted by name (as the console's export). */
function readingsCsv(rows: readonly ReadingRow[]): string {
  const metrics = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))].sort();
  const lines = [csvLine(['ts_iso', 'ts_ms', 'device_id', 'seq', 'type', ...metrics])];
  for (const r of rows) {
    lines.push(
      csvLine([
        new Date(r.ts).toISOString(),
        String(r.ts),
        r.deviceId,
        r.seq === null ? '' : String(r.seq),
        r.type ?? '',
        // Own properties only: a metric may be called `constructor` or `__proto__`.
        ...metrics.map((m) => (Object.hasOwn(r.metrics, m) ? String(r.metrics[m]) : '')),
      ]),
    );
  }
  return lines.join('');
}
