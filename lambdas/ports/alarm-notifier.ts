import type { AlarmEvent } from '../domain/model.js';

/** Tells the world about alarm transitions (IoT data plane + SNS on AWS, the broker + webhook locally). */
export interface AlarmNotifier {
  notify(events: readonly AlarmEvent[]): Promise<void>;
}
