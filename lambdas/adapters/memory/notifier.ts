import { RetryableError } from '../../domain/errors.js';
import type { AlarmEvent } from '../../domain/model.js';
import type { AlarmNotifier } from '../../ports/alarm-notifier.js';

interface RecordingNotifierOptions {
  /** The first `failTimes` notify calls throw. Default 0. */
  readonly failTimes?: number;
}

/** Records published events; can fail the first calls (then publishes nothing for those calls). */
export class RecordingNotifier implements AlarmNotifier {
  /** Every event published, in order. */
  readonly events: AlarmEvent[] = [];
  /** notify() calls, failed ones included. */
  calls = 0;
  private failuresLeft: number;

  constructor(options: RecordingNotifierOptions = {}) {
    this.failuresLeft = options.failTimes ?? 0;
  }

  /** The next `count` calls throw a RetryableError. */
  failNext(count: number): void {
    this.failuresLeft += count;
  }

  async notify(events: readonly AlarmEvent[]): Promise<void> {
    this.calls += 1;
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new RetryableError('publish failed (simulated)');
    }
    this.events.push(...events);
  }
}
