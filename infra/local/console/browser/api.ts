/// <reference lib="dom" />
/** The console's JSON API, from the page. The cookie set at the first load authenticates every call. */
import type { AlarmRow, DeviceSummary, FleetOverview, LiveReading } from '../index.js';
import type { RejectRow } from '../../../../lambdas/adapters/local/sqlite-queries.js';
import type { AlarmCommandRecord } from '../../../../lambdas/ports/alarm-history.js';
import type { StreamDescription } from '../../stream/index.js';
import type { IntakeStatus } from '../intake.js';

export type { AlarmRow, DeviceSummary, FleetOverview, IntakeStatus, LiveReading, RejectRow, StreamDescription };
/** One command as the history keeps it. */
export type CommandRecord = AlarmCommandRecord;

export interface OverviewResponse extends FleetOverview {
  readonly matched: number;
  readonly devices: DeviceSummary[];
}

/** An alarm not at rest; a snoozed one says when its snooze ends. */
export type ActiveAlarmRow = AlarmRow & { readonly snoozedUntil: number | null };

export interface DeviceResponse {
  readonly device: DeviceSummary;
  readonly active: ActiveAlarmRow[];
  readonly transitions: AlarmRow[];
  readonly commands: CommandRecord[];
}

export interface ReadingsResponse {
  readonly deviceId: string;
  readonly since: number;
  readonly until: number;
  readonly truncated: boolean;
  readonly readings: LiveReading[];
}

export interface AlarmsResponse {
  readonly active: ActiveAlarmRow[];
  readonly transitions: AlarmRow[];
  readonly commands: CommandRecord[];
}

/** An accepted command's reply (a refusal comes back as an ApiError with the reason). */
export interface CommandResponse {
  readonly outcome: 'accepted';
  readonly deviceId: string;
  readonly ruleId: string;
  readonly action: string;
  readonly state?: string;
  readonly clientToken?: string;
}

/** The server said no: its status and its one-line reason. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export async function getJson<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') query.set(k, String(v));
  const qs = query.toString();
  return parse<T>(await fetch(qs === '' ? path : `${path}?${qs}`, { headers: { accept: 'application/json' }, credentials: 'same-origin' }));
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return parse<T>(
    await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    }),
  );
}

async function parse<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new ApiError(res.status, body.error ?? `HTTP ${res.status}`);
  return body as T;
}

export function devicePath(deviceId: string, suffix = ''): string {
  return `/api/devices/${encodeURIComponent(deviceId)}${suffix}`;
}
