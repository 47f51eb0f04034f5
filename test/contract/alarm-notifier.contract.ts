import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { AlarmEvent } from '../../lambdas/domain/model.js';
import type { AlarmNotifier } from '../../lambdas/ports/alarm-notifier.js';
import { anAlarmEvent, sortedBy, T0 } from './fixtures.js';

const byTime = (e: AlarmEvent): string => String(e.ts).padStart(16, '0');

export interface AlarmNotifierHarness {
  readonly notifier: AlarmNotifier;
  /**
   * What reached the other side, in arrival order, once at least `count` events have (delivery may
   * be asynchronous: a broker subscriber, an HTTP server). Resolves with everything received so far.
   */
  received(count: number): Promise<readonly AlarmEvent[]>;
  dispose(): Promise<void>;
}

export interface AlarmNotifierContractOptions {
  /**
   * The notifier records transitions (a log), identified by (alarmId, ts, state): a transition
   * notified again is kept once. Transports (broker, webhook) deliver at least once and do not.
   */
  readonly recordsOnce: boolean;
}

const raised = anAlarmEvent();
const cleared = anAlarmEvent({ state: 'OK', previousState: 'ALARM', value: 74.2, threshold: 75, ts: T0 + 60_000 });
const silent = anAlarmEvent({
  alarmId: 'sensor-0002/silent',
  deviceId: 'sensor-0002',
  ruleId: 'silent',
  metric: null,
  severity: 'major',
  value: 300,
  threshold: 300,
  ts: T0 + 30_000,
});

/** The AlarmNotifier port's contract (lambdas/ports/alarm-notifier.ts), run against every adapter. */
export function alarmNotifierContract(
  name: string,
  make: () => Promise<AlarmNotifierHarness>,
  options: AlarmNotifierContractOptions,
): void {
  describe(`AlarmNotifier contract: ${name}`, () => {
    let h: AlarmNotifierHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.dispose();
    });

    it('delivers every event of a call, in order, as it was given', async () => {
      await h.notifier.notify([raised, silent, cleared]);

      expect(await h.received(3)).toEqual([raised, silent, cleared]);
    });

    it('delivers nothing for an empty call', async () => {
      await h.notifier.notify([]);
      await h.notifier.notify([silent]);

      expect(await h.received(1)).toEqual([silent]);
    });

    if (options.recordsOnce) {
      it('records a transition notified twice once (a republished outbox)', async () => {
        await h.notifier.notify([raised, cleared]);

        await h.notifier.notify([raised]);
        await h.notifier.notify([raised, cleared, silent]);

        // A log keeps event-time order, not arrival order: compare by time.
        expect(sortedBy(await h.received(3), byTime)).toEqual([raised, silent, cleared]);
      });
    }
  });
}
