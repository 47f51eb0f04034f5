/**
 * One QoS 1 flood from a fresh publisher process (load/publisher.ts): every client keeps `inflight`
 * publishes outstanding until it has sent `messagesPerClient`, and, with `minDurationMs`, goes on
 * until the flood has lasted that long. Used by the flood sections and by bench/stages.ts.
 */
import { performance } from 'node:perf_hooks';
import { forkPublishers } from './children.js';
import type { PublisherCredentials, PublisherResult } from './publisher.js';

export interface FloodLoad {
  readonly messagesPerClient: number;
  /** QoS 1 publishes outstanding per connection. */
  readonly inflight: number;
  /** Keep publishing past `messagesPerClient` until this long after the first publish. @default 0 */
  readonly minDurationMs?: number;
}

export interface FloodOutcome {
  readonly result: PublisherResult;
  /** This process's CPU usage and clock when the publishers were told to go. */
  readonly cpuStart: NodeJS.CpuUsage;
  readonly perfStart: number;
}

/** Floods `url` with `clients` connected; rejects unless every publish sent was acknowledged. */
export async function flood(url: string, clients: readonly PublisherCredentials[], load: FloodLoad): Promise<FloodOutcome> {
  const publishers = await forkPublishers({
    url,
    clients,
    inflight: load.inflight,
    mode: { kind: 'flood', messagesPerClient: load.messagesPerClient, minDurationMs: load.minDurationMs ?? 0 },
  });
  const cpuStart = process.cpuUsage();
  const perfStart = performance.now();
  const result = await publishers.go();
  const least = clients.length * load.messagesPerClient;
  if (result.acked !== result.sent || result.sent < least) {
    throw new Error(`publishers: ${result.acked} of ${Math.max(result.sent, least)} acknowledged; ${result.errors.join('; ')}`);
  }
  return { result, cpuStart, perfStart };
}
