import { describe, expect, it } from 'vitest';
import { fanOutNotifier } from '../../../lambdas/adapters/fan-out-notifier.js';
import { RetryableError } from '../../../lambdas/domain/errors.js';
import type { AlarmEvent } from '../../../lambdas/domain/model.js';
import type { AlarmNotifier } from '../../../lambdas/ports/alarm-notifier.js';
import { alarmEvent } from '../../fixtures/aws/readings.js';

/** A notifier that records what it got and then fails with `error`, if given. */
function recording(error?: unknown): AlarmNotifier & { received: AlarmEvent[][] } {
  const received: AlarmEvent[][] = [];
  return {
    received,
    async notify(events) {
      received.push([...events]);
      if (error !== undefined) throw error;
    },
  };
}

describe('fanOutNotifier', () => {
  it('hands the same events to every notifier', async () => {
    const [a, b] = [recording(), recording()];
    const events = [alarmEvent(), alarmEvent({ state: 'OK', previousState: 'ALARM' })];

    await fanOutNotifier([a, b]).notify(events);

    expect(a.received).toEqual([events]);
    expect(b.received).toEqual([events]);
  });

  it('still tries every notifier when one fails, then throws a RetryableError over an AggregateError', async () => {
    const cause = new RetryableError('SNS throttled');
    const [failing, working] = [recording(cause), recording()];

    const error = await fanOutNotifier([failing, working]).notify([alarmEvent()]).catch((e: unknown) => e);

    expect(working.received).toHaveLength(1);
    expect(error).toBeInstanceOf(RetryableError);
    const aggregate = (error as Error).cause;
    expect(aggregate).toBeInstanceOf(AggregateError);
    expect((aggregate as AggregateError).errors).toEqual([cause]);
    expect((error as Error).message).toContain('1 of 2 notifiers failed for 1 events: notifier 0 (notifier): SNS throttled');
  });

  it('throws the AggregateError itself when a cause is not retryable', async () => {
    const retryable = new RetryableError('IoT throttled');
    const fatal = new Error('AccessDenied');

    const error = await fanOutNotifier([recording(retryable), recording(fatal)])
      .notify([alarmEvent()])
      .catch((e: unknown) => e);

    expect(error).not.toBeInstanceOf(RetryableError);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors).toEqual([retryable, fatal]);
  });

  it('calls nobody for no events', async () => {
    const a = recording();

    await fanOutNotifier([a]).notify([]);

    expect(a.received).toEqual([]);
  });
});
