import { RetryableError } from '../domain/errors.js';
import type { AlarmEvent } from '../domain/model.js';
import type { AlarmNotifier } from '../ports/alarm-notifier.js';

/**
 * One notifier that hands every batch of events to each of `notifiers`, concurrently (IoT and SNS
 * on AWS; the broker and the webhook locally). Each is always tried, even when another fails. If
 * any fails, it throws an AggregateError of the causes, wrapped in a RetryableError when every
 * cause is retryable (so the caller keeps the events and retries); otherwise the AggregateError
 * itself. A retry sends the events to every notifier again: subscribers of one that succeeded may
 * see them twice (notifications are at least once, see docs/architecture.md).
 *
 * @example
 * const notifier = fanOutNotifier([new IotDataNotifier({ client: iot }), new SnsNotifier({ client: sns, topicArn })]);
 */
export function fanOutNotifier(notifiers: readonly AlarmNotifier[]): AlarmNotifier {
  const all = [...notifiers];
  return {
    async notify(events: readonly AlarmEvent[]): Promise<void> {
      if (events.length === 0) return;
      const results = await Promise.allSettled(all.map((notifier) => notifier.notify(events)));
      const failures = results.flatMap((result, index) =>
        result.status === 'rejected' ? [{ index, cause: result.reason as unknown }] : [],
      );
      if (failures.length === 0) return;
      const summary = failures
        .map(({ index, cause }) => `notifier ${index} (${nameOf(all[index])}): ${cause instanceof Error ? cause.message : String(cause)}`)
        .join('; ');
      const aggregate = new AggregateError(
        failures.map(({ cause }) => cause),
        `${failures.length} of ${all.length} notifiers failed for ${events.length} events: ${summary}`,
      );
      if (failures.every(({ cause }) => cause instanceof RetryableError)) {
        throw new RetryableError(aggregate.message, { cause: aggregate });
      }
      throw aggregate;
    },
  };
}

function nameOf(notifier: AlarmNotifier | undefined): string {
  const name = notifier?.constructor.name;
  return name === undefined || name === 'Object' ? 'notifier' : name;
}
