/// <reference lib="dom" />
/** The page's one server-sent event stream (/api/events), reopened when the watched device changes. */
import type { FleetOverview, LiveReading } from './api.js';

export interface LiveHandlers {
  overview?(overview: FleetOverview): void;
  readings?(event: { deviceId: string; readings: LiveReading[] }): void;
  resync?(event: { deviceId: string }): void;
  alarm?(event: { alarmId: string; deviceId: string; ts: number; state: string; severity: string }): void;
  rejects?(event: { newestId: number; added: number }): void;
}

/** Listeners of the current view; the stream outlives views when the device does not change. */
export class Live {
  private source: EventSource | undefined;
  private device: string | undefined;
  private handlers: LiveHandlers = {};

  constructor(private readonly onState: (connected: boolean) => void) {}

  /** Routes events to `handlers` from now on, streaming `deviceId`'s readings if given. */
  use(handlers: LiveHandlers, deviceId?: string): void {
    this.handlers = handlers;
    if (this.source !== undefined && this.device === deviceId) return;
    this.source?.close();
    this.device = deviceId;
    const source = new EventSource(deviceId === undefined ? '/api/events' : `/api/events?device=${encodeURIComponent(deviceId)}`);
    this.source = source;
    source.onopen = () => this.onState(true);
    source.onerror = () => this.onState(source.readyState === EventSource.OPEN);
    for (const name of ['overview', 'readings', 'resync', 'alarm', 'rejects'] as const) {
      source.addEventListener(name, (event) => {
        const handler = this.handlers[name] as ((data: unknown) => void) | undefined;
        handler?.(JSON.parse((event as MessageEvent<string>).data) as unknown);
      });
    }
  }
}
