import {
  PublishBatchCommand,
  type MessageAttributeValue,
  type PublishBatchRequestEntry,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { RetryableError } from '../../domain/errors.js';
import type { AlarmEvent } from '../../domain/model.js';
import type { AlarmNotifier } from '../../ports/alarm-notifier.js';
import { chunk } from '../../common/chunk.js';
import { retryableOr } from './aws-errors.js';

/** PublishBatch takes at most 10 entries per request (SNS API reference, PublishBatch). */
const SNS_MAX_BATCH_ENTRIES = 10;

/**
 * SNS Subject: "must be less than 100 characters", printable ASCII, no line breaks or control
 * characters (SNS API reference, Publish). We keep 99 characters at most.
 */
const SUBJECT_MAX_CHARS = 99;

interface SnsNotifierOptions {
  readonly client: SNSClient;
  /** A standard (not FIFO) topic. */
  readonly topicArn: string;
}

/**
 * Publishes alarm events to an SNS topic with PublishBatch, 10 per request. Message: the event as
 * JSON; Subject: `[critical] sensor-0001/overheat ALARM` (for e-mail subscribers; a reminder ends in
 * ` (reminder)`); message attributes severity, deviceId, state, previousState and ruleId (String),
 * plus `action` (the command, or `reminder`) and `by` when the event has them, so subscriptions can
 * filter with a filter policy (e.g. only `state` ALARM, or no `action`: automatic transitions only). A request that fails, or any Failed entry, throws (RetryableError for entries and
 * transient errors, naming them): the caller keeps the events in its outbox and sends them again.
 * Events are about 300 bytes, far from PublishBatch's 256 KiB aggregate limit.
 */
export class SnsNotifier implements AlarmNotifier {
  readonly #client: SNSClient;
  readonly #topicArn: string;

  constructor(options: SnsNotifierOptions) {
    this.#client = options.client;
    this.#topicArn = options.topicArn;
  }

  async notify(events: readonly AlarmEvent[]): Promise<void> {
    for (const batch of chunk(events, SNS_MAX_BATCH_ENTRIES)) {
      const entries = batch.map((event, i) => toEntry(event, String(i)));
      let failed;
      try {
        ({ Failed: failed } = await this.#client.send(
          new PublishBatchCommand({ TopicArn: this.#topicArn, PublishBatchRequestEntries: entries }),
        ));
      } catch (error) {
        throw retryableOr(error, `SNS PublishBatch ${this.#topicArn}`);
      }
      if (failed !== undefined && failed.length > 0) {
        const named = failed.map((f) => {
          const event = batch[Number(f.Id)];
          return `${event?.alarmId ?? `entry ${f.Id}`} ${event?.state ?? ''}: ${f.Code ?? 'error'}${f.SenderFault ? ' (sender fault)' : ''} ${f.Message ?? ''}`.trim();
        });
        throw new RetryableError(
          `SNS PublishBatch ${this.#topicArn}: ${failed.length} of ${entries.length} entries failed: ${named.join('; ')}`,
        );
      }
    }
  }
}

/** One PublishBatch entry; `id` is unique within its request. */
function toEntry(event: AlarmEvent, id: string): PublishBatchRequestEntry {
  return {
    Id: id,
    Message: JSON.stringify(event),
    Subject: alarmSubject(event),
    MessageAttributes: {
      severity: stringAttribute(event.severity),
      deviceId: stringAttribute(event.deviceId),
      state: stringAttribute(event.state),
      previousState: stringAttribute(event.previousState),
      ruleId: stringAttribute(event.ruleId),
      // SNS refuses an empty String attribute value: absent rather than empty.
      ...(event.action === null ? {} : { action: stringAttribute(event.action) }),
      ...(event.by === null || event.by === '' ? {} : { by: stringAttribute(event.by) }),
    },
  };
}

function stringAttribute(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

/**
 * `[critical] sensor-0001/overheat ALARM`, printable ASCII only, at most 99 characters: a long
 * alarm id is shortened in the middle of the subject, so severity and state always show.
 */
export function alarmSubject(event: AlarmEvent): string {
  const ascii = (text: string): string => text.replace(/[^\x20-\x7e]/g, '?');
  const prefix = `[${ascii(event.severity)}] `;
  const suffix = ` ${ascii(event.state)}${event.reminder === true ? ' (reminder)' : ''}`;
  const room = SUBJECT_MAX_CHARS - prefix.length - suffix.length;
  const id = ascii(event.alarmId);
  return `${prefix}${id.length <= room ? id : `${id.slice(0, room - 3)}...`}${suffix}`;
}
