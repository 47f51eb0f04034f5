/**
 * The answers of the console's JSON read routes (server.ts routes the requests here): the fleet
 * overview, a device with its alarms, its chart readings, the alarms view and the rejects.
 */
import type { Clock } from '../../../lambdas/ports/clock.js';
import type { ReadingsReader } from '../../../lambdas/ports/readings-reader.js';
import type { AlarmRow, ConsoleDb } from './console-db.js';
import { ConsoleRequestError } from './errors.js';
import { ACTIVE_ALARM_STATES, ofRulesInForce, silenceRulesOf, summarizeDevice, type FleetCache } from './fleet.js';
import type { LiveFeed } from './live-feed.js';
import { deviceParam, limitParam, severitiesParam, timeRange } from './params.js';
import type { ConsoleSources } from './sources.js';

export const HOUR_MS = 3_600_000;

interface ReadApiParts {
  readonly store: ConsoleSources['store'];
  readonly registry: ConsoleSources['registry'];
  /** The rules in force now: read at each request, since the thresholds file may change. */
  readonly thresholds: ConsoleSources['thresholds'];
  readonly clock: Clock;
  readonly db: ConsoleDb;
  readonly fleet: FleetCache;
  readonly feed: LiveFeed;
  /** Through the readings read port: a console over a deployed stack passes a DynamoDbReadingsReader. */
  readonly readingsReader: ReadingsReader;
}

type AlarmRowWithSnoozeEnd = AlarmRow & { snoozedUntil: number | null };

export class ConsoleReadApi {
  constructor(private readonly parts: ReadApiParts) {}

  /** `/api/overview?q=&limit=`: fleet totals and the devices whose id or type contains `q`. */
  overview(p: URLSearchParams) {
    const summary = this.parts.feed.overview();
    const { devices } = this.parts.fleet.get();
    const q = (p.get('q') ?? '').trim().toLowerCase();
    const matching = q === '' ? devices : devices.filter((d) => d.deviceId.toLowerCase().includes(q) || (d.type ?? '').toLowerCase().includes(q));
    const limit = limitParam(p, 'limit', { fallback: 500, max: 10_000 });
    return { ...summary, matched: matching.length, devices: matching.slice(0, limit) };
  }

  /** `/api/alarms?severity=&device=&limit=`: alarms not at rest, transitions and commands. */
  async alarms(p: URLSearchParams) {
    const { db, store } = this.parts;
    const filter = { deviceId: deviceParam(p.get('device')), severities: severitiesParam(p) };
    const limit = limitParam(p, 'limit', { fallback: 200, max: 5_000 });
    return {
      active: await this.withSnoozeEnds(ofRulesInForce(db.activeAlarms(filter), this.parts.thresholds.current()), filter.deviceId),
      transitions: db.transitionHistory({ ...filter, limit }),
      commands: store.queryCommands({ ...(filter.deviceId === undefined ? {} : { deviceId: filter.deviceId }), limit, order: 'desc' }),
    };
  }

  /** `/api/rejects?device=&limit=` */
  rejects(p: URLSearchParams) {
    const deviceId = deviceParam(p.get('device'));
    const limit = limitParam(p, 'limit', { fallback: 100, max: 5_000 });
    return { rejects: this.parts.store.queryRejects({ ...(deviceId === undefined ? {} : { deviceId }), limit }) };
  }

  /** `/api/devices/<id>`: summary, alarms not at rest, history. */
  async deviceDetail(deviceId: string, p: URLSearchParams) {
    const { db, store, registry, clock } = this.parts;
    // Fresh, not from the fleet cache: one device costs three primary-key lookups.
    const registered = registry.get(deviceId);
    const info = registered?.role === 'device' ? registered : undefined;
    const mark = db.deviceMark(deviceId);
    if (info === undefined && mark === undefined) throw new ConsoleRequestError(404, 'no such device (not registered, no reading stored)');
    // A rule removed from the thresholds file is no alarm any more, though its last transition is stored.
    const active = ofRulesInForce(db.activeAlarms({ deviceId }), this.parts.thresholds.current());
    const device = summarizeDevice({
      deviceId,
      info,
      last: mark === undefined ? undefined : { ts: mark.lastTs, receivedAt: mark.lastReceivedAt },
      // As the fleet list counts them.
      active: active.filter((a) => ACTIVE_ALARM_STATES.has(a.state)),
      silence: silenceRulesOf(this.parts.thresholds.current()),
      now: clock.now(),
    });
    const limit = limitParam(p, 'limit', { fallback: 200, max: 5_000 });
    return {
      device,
      active: await this.withSnoozeEnds(active, deviceId),
      transitions: db.transitionHistory({ deviceId, limit }),
      commands: store.queryCommands({ deviceId, limit, order: 'desc' }),
    };
  }

  /** `/api/devices/<id>/readings?since=&until=&limit=`: the newest `limit` of the range, oldest first. */
  async readings(deviceId: string, p: URLSearchParams, now: number) {
    const { since, until } = timeRange(p, { since: now - HOUR_MS, until: now + 1 });
    const limit = limitParam(p, 'limit', { fallback: 20_000, max: 100_000 });
    // One more than `limit` tells whether there were more.
    const rows = await this.parts.readingsReader.deviceReadings({ deviceId, since, until, limit: limit + 1, order: 'desc' });
    const truncated = rows.length > limit;
    const kept = rows.slice(0, limit).reverse();
    return { deviceId, since, until, truncated, readings: kept.map((r) => ({ ts: r.ts, seq: r.seq, metrics: r.metrics })) };
  }

  /**
   * The alarm rows with, for a snoozed one, when its snooze ends: the engine's own view of the state
   * (the transitions the rows come from do not carry it).
   */
  private async withSnoozeEnds(rows: AlarmRow[], deviceId: string | undefined): Promise<AlarmRowWithSnoozeEnd[]> {
    if (!rows.some((r) => r.state === 'SNOOZED')) return rows.map((r) => ({ ...r, snoozedUntil: null }));
    // Read under the rules in force now.
    const views = await this.parts.store.alarmReader(this.parts.thresholds.current()).listAlarms({ state: 'SNOOZED', ...(deviceId === undefined ? {} : { deviceId }) });
    const ends = new Map(views.map((v) => [v.alarmId, v.snoozedUntil]));
    return rows.map((r) => ({ ...r, snoozedUntil: r.state === 'SNOOZED' ? (ends.get(r.alarmId) ?? null) : null }));
  }
}
