/**
 * Server-sent events for every open console page, fed by ONE poll of the store shared by all of
 * them: with a fleet of thousands and several pages open, the cost is one poll per interval, not one
 * per page. The poll runs only while a page is connected.
 *
 * Each interval it checks, cheaply:
 * - the devices some page watches: their row in `devices` (a primary-key lookup); when it moved, the
 *   readings after the last one sent (one range scan) go to those pages as `readings`;
 * - new alarm transitions (the ts index bounds the scan to TRANSITION_LOOKBACK_MS of event time), sent as `alarm`;
 * - the newest reject id (max of the rowid), sent as `rejects` when it grew;
 * - every OVERVIEW_EVERY_MS, the fleet's totals, active alarms by severity and ingest rate, as `overview`.
 *
 * Event stream format: https://html.spec.whatwg.org/multipage/server-sent-events.html
 */
import type { ServerResponse } from 'node:http';
import { METRIC } from '../../../lambdas/ports/observability.js';
import type { ConsoleDb, DeviceMark, TransitionMark } from './console-db.js';
import { summarize, type FleetCache, type FleetOverview, type IngestRate } from './fleet.js';
import type { ConsoleSources } from './sources.js';
import type { ReadingRow } from '../../../lambdas/adapters/local/sqlite-queries.js';

export interface LiveFeedOptions {
  readonly sources: ConsoleSources;
  readonly db: ConsoleDb;
  readonly ingestRate: IngestRate;
  readonly fleet: FleetCache;
  /** How often the store is polled, ms. @default 500 */
  readonly pollIntervalMs?: number;
  /** How often the overview is sent, ms. @default 2000 */
  readonly overviewEveryMs?: number;
}

/**
 * Transitions whose event time is older than this when recorded are not pushed as `alarm` events:
 * alarm_transitions has no index on recorded_at, so the poll scans its ts index from now minus this.
 * Measured on 100,000 transitions a day: 24 h of lookback cost 186 ms per poll, 1 h 10 ms. Pages still
 * show late transitions: they reload when the overview's active-alarm counts change.
 */
export const TRANSITION_LOOKBACK_MS = 15 * 60_000;
/**
 * recorded_at is stamped before its transaction commits, so a poll can miss a row stamped just
 * before it and committed just after: each poll looks this far behind its last run and skips the
 * transitions it already sent.
 */
const RECORDED_SLACK_MS = 10_000;
/** The most readings one event carries; beyond that the page is told to reload the range. */
const MAX_READINGS_PER_EVENT = 1_000;
/** A page that stops reading is dropped once this much is queued for it. */
const MAX_BUFFERED_BYTES = 1 << 20;

/** A position before every reading (seq is never below -1). */
const BEFORE_ALL = { ts: Number.MIN_SAFE_INTEGER, seq: -2 } as const;

interface Client {
  readonly res: ServerResponse;
  readonly deviceId: string | undefined;
}

interface Watch {
  mark: DeviceMark | undefined;
  /** The last reading sent: (ts, seq as stored, -1 for none). */
  after: { ts: number; seq: number };
}

/** The live part of a reading: what the device view charts. */
export interface LiveReading {
  readonly ts: number;
  readonly seq: number | null;
  readonly metrics: Readonly<Record<string, number>>;
}

export class LiveFeed {
  private readonly clients = new Set<Client>();
  private readonly watches = new Map<string, Watch>();
  private timer: NodeJS.Timeout | undefined;
  private lastOverviewAt = 0;
  private rejectId = 0;
  private recordedWatermark = 0;
  /** Transitions sent (or present at start), by key, with recordedAt for pruning. */
  private readonly sentTransitions = new Map<string, number>();
  private readonly pollIntervalMs: number;
  private readonly overviewEveryMs: number;

  constructor(private readonly options: LiveFeedOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.overviewEveryMs = options.overviewEveryMs ?? 2_000;
  }

  /** How many pages are connected. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Makes `res` an event stream; `deviceId` subscribes it to that device's readings. */
  attach(res: ServerResponse, deviceId: string | undefined): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Tells proxies not to buffer the stream (none between here and a loopback browser, but harmless).
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    if (this.clients.size === 0) this.startPolling();
    const client: Client = { res, deviceId };
    this.clients.add(client);
    if (deviceId !== undefined && !this.watches.has(deviceId)) this.watches.set(deviceId, this.newWatch(deviceId));
    this.send(client, 'overview', this.overview());
    // The response's close, not the request's: it fires when the page goes away or the server ends the stream.
    res.on('close', () => this.detach(client));
  }

  /** Ends every stream and stops polling. */
  close(): void {
    for (const client of [...this.clients]) {
      client.res.end();
      this.detach(client);
    }
  }

  /** The overview the `overview` event carries (also GET /api/overview's summary part). */
  overview(): FleetOverview {
    const { now, devices, active } = this.options.fleet.get();
    return {
      now,
      ...summarize(devices, active),
      ingestRate: this.options.ingestRate.rate(),
      readingsStored: this.options.sources.metrics.get(METRIC.readingsStored),
    };
  }

  private detach(client: Client): void {
    if (!this.clients.delete(client)) return;
    if (client.deviceId !== undefined && ![...this.clients].some((c) => c.deviceId === client.deviceId)) {
      this.watches.delete(client.deviceId);
    }
    if (this.clients.size === 0) this.stopPolling();
  }

  private startPolling(): void {
    const { db, sources } = this.options;
    const now = sources.clock.now();
    this.rejectId = db.newestRejectId();
    this.recordedWatermark = now;
    this.sentTransitions.clear();
    for (const t of db.transitionsRecorded(now - TRANSITION_LOOKBACK_MS, now - RECORDED_SLACK_MS)) {
      this.sentTransitions.set(transitionKey(t), t.recordedAt);
    }
    this.lastOverviewAt = now;
    this.timer = setInterval(() => this.poll(), this.pollIntervalMs);
    this.timer.unref();
  }

  private stopPolling(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private newWatch(deviceId: string): Watch {
    const newest = this.options.sources.store.queryReadings({ deviceId, limit: 1 })[0];
    return { mark: this.options.db.deviceMark(deviceId), after: newest === undefined ? BEFORE_ALL : position(newest) };
  }

  private poll(): void {
    try {
      this.pollReadings();
      this.pollTransitions();
      this.pollRejects();
      const now = this.options.sources.clock.now();
      if (now - this.lastOverviewAt >= this.overviewEveryMs) {
        this.lastOverviewAt = now;
        this.broadcast('overview', this.overview());
      }
    } catch (error) {
      // The store may be closing under us (stop): the next poll, if any, tries again.
      this.options.sources.log.warn('console live feed poll failed', { error: String(error) });
    }
  }

  private pollReadings(): void {
    const { db } = this.options;
    for (const [deviceId, watch] of this.watches) {
      const mark = db.deviceMark(deviceId);
      if (mark === undefined || (watch.mark !== undefined && mark.lastTs === watch.mark.lastTs && mark.lastReceivedAt === watch.mark.lastReceivedAt)) continue;
      watch.mark = mark;
      const page = db.readingsPage(deviceId, watch.after, Number.MAX_SAFE_INTEGER, MAX_READINGS_PER_EVENT);
      const last = page.rows[page.rows.length - 1];
      if (last !== undefined) watch.after = position(last);
      if (page.next !== undefined || page.rows.length === 0) {
        // Too many at once, or the device's times moved without a newer reading (a late one arrived,
        // older than the newest): the page reloads its range instead.
        this.toDevice(deviceId, 'resync', { deviceId });
        if (page.next !== undefined) watch.after = position(newestOf(this.options.sources, deviceId) ?? last ?? watch.after);
        continue;
      }
      const readings: LiveReading[] = page.rows.map((r) => ({ ts: r.ts, seq: r.seq, metrics: r.metrics }));
      this.toDevice(deviceId, 'readings', { deviceId, readings });
    }
  }

  private pollTransitions(): void {
    const now = this.options.sources.clock.now();
    const found = this.options.db.transitionsRecorded(now - TRANSITION_LOOKBACK_MS, this.recordedWatermark - RECORDED_SLACK_MS);
    const fresh: TransitionMark[] = [];
    for (const t of found) {
      const key = transitionKey(t);
      if (this.sentTransitions.has(key)) continue;
      this.sentTransitions.set(key, t.recordedAt);
      fresh.push(t);
    }
    this.recordedWatermark = now;
    for (const [key, recordedAt] of this.sentTransitions) {
      if (recordedAt < now - 2 * RECORDED_SLACK_MS) this.sentTransitions.delete(key);
    }
    fresh.sort((a, b) => a.ts - b.ts);
    for (const t of fresh) this.broadcast('alarm', t);
  }

  private pollRejects(): void {
    const newest = this.options.db.newestRejectId();
    if (newest <= this.rejectId) return;
    const added = newest - this.rejectId;
    this.rejectId = newest;
    this.broadcast('rejects', { newestId: newest, added });
  }

  private toDevice(deviceId: string, event: string, data: unknown): void {
    const frame = encodeEvent(event, data);
    for (const client of this.clients) if (client.deviceId === deviceId) this.write(client, frame);
  }

  private broadcast(event: string, data: unknown): void {
    const frame = encodeEvent(event, data);
    for (const client of this.clients) this.write(client, frame);
  }

  private send(client: Client, event: string, data: unknown): void {
    this.write(client, encodeEvent(event, data));
  }

  private write(client: Client, frame: string): void {
    if (client.res.writableLength > MAX_BUFFERED_BYTES) {
      client.res.destroy();
      this.detach(client);
      return;
    }
    client.res.write(frame);
  }
}

/** One SSE frame. JSON never contains a raw newline, so the data fits one `data:` line. */
function encodeEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function transitionKey(t: { alarmId: string; ts: number; state: string }): string {
  return `${t.alarmId} ${t.ts} ${t.state}`;
}

function position(r: { ts: number; seq: number | null }): { ts: number; seq: number } {
  return { ts: r.ts, seq: r.seq ?? -1 };
}

function newestOf(sources: ConsoleSources, deviceId: string): ReadingRow | undefined {
  return sources.store.queryReadings({ deviceId, limit: 1 })[0];
}
