/**
 * What the console shows of the stack's intake: whether the free-space headroom is refusing
 * telemetry, and the broker's connection counters (caps, refused packets, delayed CONNECTs), so an
 * operator sees a full disk or a hostile client without reading the log.
 */
import type { FreeSpaceStats } from '../stream/index.js';
import type { BrokerStats } from '../broker/index.js';

export interface IntakeStatus {
  /** Null when the headroom is off (`--min-free 0`). */
  readonly freeSpace: FreeSpaceStats | null;
  readonly broker: Pick<BrokerStats, 'connected' | 'connectsAccepted' | 'connectsRefused' | 'connectsDelayed' | 'telemetryFailures' | 'connections'>;
}

export function intakeStatus(freeSpace: FreeSpaceStats | undefined, broker: BrokerStats): IntakeStatus {
  const { connected, connectsAccepted, connectsRefused, connectsDelayed, telemetryFailures, connections } = broker;
  return { freeSpace: freeSpace ?? null, broker: { connected, connectsAccepted, connectsRefused, connectsDelayed, telemetryFailures, connections } };
}
