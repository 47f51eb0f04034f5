/**
 * The fleet as the console shows it: every device, online or silent, last seen, its active alarms;
 * the fleet's active alarms by severity and the ingest rate. Read from the registry, the store's read
 * side and the consumers' counters; nothing here writes.
 */
import type { Severity } from '../../../lambdas/domain/model.js';
import { SEVERITIES } from '../../../lambdas/domain/model.js';
import type { SilenceRule, ThresholdRules } from '../../../lambdas/domain/thresholds.js';
import type { RecordedAlarmEvent } from '../../../lambdas/adapters/local/sqlite-queries.js';
import type { ConsoleSources } from './sources.js';
import type { DeviceInfo } from '../registry/index.js';

/**
 * `online`: sent something within its silence window; `silent`: nothing for that long (or its
 * silentFor alarm is active); `never-seen`: registered, no reading stored yet.
 */
type DeviceStatus = 'online' | 'silent' | 'never-seen';

export interface DeviceSummary {
  readonly deviceId: string;
  /** The registry's type, null for a device no longer (or never) registered. */
  readonly type: string | null;
  readonly registered: boolean;
  /** Newest event time stored, epoch ms. */
  readonly lastSeen: number | null;
  /** Newest rules-engine receive time stored, epoch ms. */
  readonly lastReceivedAt: number | null;
  readonly status: DeviceStatus;
  /** The silence window that decides `status`, seconds. */
  readonly silentAfterSeconds: number;
  readonly activeAlarms: number;
  /** The most severe active alarm, null when none is active. */
  readonly worstSeverity: Severity | null;
}

interface FleetTotals {
  readonly devices: number;
  readonly online: number;
  readonly silent: number;
  readonly neverSeen: number;
}

export interface FleetOverview {
  /** When this was computed, epoch ms. */
  readonly now: number;
  readonly totals: FleetTotals;
  /** Alarms in state ALARM, by severity (every severity present, 0 when none). */
  readonly activeAlarms: Readonly<Record<Severity, number>>;
  /** Readings stored per second, over the last INGEST_RATE_WINDOW_MS. */
  readonly ingestRate: number;
  /** Readings stored since the stack started. */
  readonly readingsStored: number;
}

/**
 * The states the fleet counts as active alarms: raised, acknowledged (still in breach) and latched
 * (cleared, not yet seen by anyone). Snoozed and disabled rules raise nothing, so they are not.
 */
export const ACTIVE_ALARM_STATES: ReadonlySet<string> = new Set(['ALARM', 'ACKNOWLEDGED', 'LATCHED']);

/** The silence window when no silentFor rule applies and the rule set has none: the contract's example. */
export const DEFAULT_SILENT_AFTER_SECONDS = 300;

/** The overview and every device (sorted: most severe alarm first, then silent, then by id). */
export function fleetDevices(sources: ConsoleSources, now: number): { devices: DeviceSummary[]; active: RecordedAlarmEvent[] } {
  const registered = new Map(
    sources.registry
      .list()
      .filter((d) => d.role === 'device')
      .map((d) => [d.deviceId, d]),
  );
  const seen = new Map(sources.store.lastSeen().map((s) => [s.deviceId, s]));
  const active = ofRulesInForce(sources.store.queryAlarmStates({}), sources.thresholds.current()).filter((a) => ACTIVE_ALARM_STATES.has(a.state));
  const alarmsByDevice = new Map<string, RecordedAlarmEvent[]>();
  for (const alarm of active) alarmsByDevice.set(alarm.deviceId, [...(alarmsByDevice.get(alarm.deviceId) ?? []), alarm]);
  const silence = silenceRulesOf(sources.thresholds.current());
  const ids = [...new Set([...registered.keys(), ...seen.keys()])];
  const devices = ids.map((deviceId) =>
    summarizeDevice({ deviceId, info: registered.get(deviceId), last: seen.get(deviceId), active: alarmsByDevice.get(deviceId) ?? [], silence, now }),
  );
  devices.sort(byConcern);
  return { devices, active };
}

/** What one device's summary is made of. */
export interface DeviceFacts {
  readonly deviceId: string;
  /** Its registry entry, if registered. */
  readonly info: DeviceInfo | undefined;
  /** Its newest times in the store (event time `ts`), if it sent anything. */
  readonly last: { readonly ts: number; readonly receivedAt: number } | undefined;
  /** Its active alarms (ACTIVE_ALARM_STATES). */
  readonly active: readonly RecordedAlarmEvent[];
  readonly silence: readonly SilenceRule[];
  readonly now: number;
}

/** One device's summary: status from the silence window that applies to it (see DeviceStatus). */
export function summarizeDevice(facts: DeviceFacts): DeviceSummary {
  const { deviceId, info, last, active, silence, now } = facts;
  const type = info?.type ?? null;
  const windows = silence.filter((r) => ruleApplies(r, deviceId, type)).map((r) => r.when.silentFor.seconds);
  // A device no silentFor rule covers is called silent after the shortest window of the rule set.
  const fallbackSeconds = silence.length > 0 ? Math.min(...silence.map((r) => r.when.silentFor.seconds)) : DEFAULT_SILENT_AFTER_SECONDS;
  const silentAfterSeconds = windows.length > 0 ? Math.min(...windows) : fallbackSeconds;
  const silentAlarm = active.some((a) => a.metric === null && silence.some((r) => r.id === a.ruleId));
  // Event time, as the offline check decides silence (lambdas/domain/alarm-engine.ts applySilence).
  const status: DeviceStatus =
    last === undefined ? 'never-seen' : silentAlarm || now - last.ts >= silentAfterSeconds * 1000 ? 'silent' : 'online';
  return {
    deviceId,
    type,
    registered: info !== undefined,
    lastSeen: last?.ts ?? null,
    lastReceivedAt: last?.receivedAt ?? null,
    status,
    silentAfterSeconds,
    activeAlarms: active.length,
    worstSeverity: worstOf(active.map((a) => a.severity)),
  };
}

/** Counts of a device list and of active alarms. */
export function summarize(devices: readonly DeviceSummary[], active: readonly RecordedAlarmEvent[]): { totals: FleetTotals; activeAlarms: Record<Severity, number> } {
  const totals = { devices: devices.length, online: 0, silent: 0, neverSeen: 0 };
  for (const d of devices) {
    if (d.status === 'online') totals.online++;
    else if (d.status === 'silent') totals.silent++;
    else totals.neverSeen++;
  }
  const activeAlarms = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const a of active) activeAlarms[a.severity]++;
  return { totals, activeAlarms };
}

/** The worst of some severities (SEVERITIES is ordered most severe first). */
export function worstOf(severities: readonly Severity[]): Severity | null {
  let best: number | undefined;
  for (const s of severities) {
    const i = SEVERITIES.indexOf(s);
    if (best === undefined || i < best) best = i;
  }
  return best === undefined ? null : (SEVERITIES[best] as Severity);
}

/**
 * The alarms of rules still in force: a rule removed from the thresholds file while the stack runs
 * leaves its last transition in the store, but is no alarm any more (its state is dropped).
 */
export function ofRulesInForce<A extends { readonly ruleId: string }>(alarms: readonly A[], rules: ThresholdRules): A[] {
  const ids = new Set(rules.rules.map((r) => r.id));
  return alarms.filter((a) => ids.has(a.ruleId));
}

/** The silentFor rules of a rule set. */
export function silenceRulesOf(rules: ThresholdRules): SilenceRule[] {
  return rules.rules.filter((r): r is SilenceRule => r.kind === 'silentFor');
}

function ruleApplies(rule: SilenceRule, deviceId: string, type: string | null): boolean {
  if (rule.match?.deviceId !== undefined && rule.match.deviceId !== deviceId) return false;
  if (rule.match?.type !== undefined && rule.match.type !== type) return false;
  return true;
}

const STATUS_ORDER: Record<DeviceStatus, number> = { silent: 0, online: 1, 'never-seen': 2 };

function byConcern(a: DeviceSummary, b: DeviceSummary): number {
  const sa = a.worstSeverity === null ? SEVERITIES.length : SEVERITIES.indexOf(a.worstSeverity);
  const sb = b.worstSeverity === null ? SEVERITIES.length : SEVERITIES.indexOf(b.worstSeverity);
  return sa - sb || STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0);
}

/** Every device and the active alarms, as of `now`. */
interface FleetView {
  readonly now: number;
  readonly devices: readonly DeviceSummary[];
  readonly active: readonly RecordedAlarmEvent[];
}

/**
 * The fleet, computed at most once per `maxAgeMs` however many pages and requests ask: for 5,000
 * devices one computation reads the registry and the store's `devices` table (tens of ms), so
 * open pages polling it must not multiply it.
 */
export class FleetCache {
  private snapshot: FleetView | undefined;

  constructor(
    private readonly sources: ConsoleSources,
    private readonly maxAgeMs: number,
  ) {}

  get(): FleetView {
    const now = this.sources.clock.now();
    if (this.snapshot === undefined || now - this.snapshot.now >= this.maxAgeMs || now < this.snapshot.now) {
      this.snapshot = { now, ...fleetDevices(this.sources, now) };
    }
    return this.snapshot;
  }
}

/** How far back the ingest rate looks. */
export const INGEST_RATE_WINDOW_MS = 10_000;

/**
 * Readings stored per second, from samples of the ingest consumer's ReadingsStored counter. One
 * sample a second is kept for the window; the rate is the counter's rise over the oldest sample held.
 */
export class IngestRate {
  private readonly samples: { at: number; count: number }[] = [];

  sample(at: number, count: number): void {
    this.samples.push({ at, count });
    while (this.samples.length > 2 && (this.samples[1] as { at: number }).at <= at - INGEST_RATE_WINDOW_MS) this.samples.shift();
  }

  /** Readings per second, 0 until two samples are a moment apart. */
  rate(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (first === undefined || last === undefined || last.at - first.at < 500) return 0;
    return ((last.count - first.count) * 1000) / (last.at - first.at);
  }
}
