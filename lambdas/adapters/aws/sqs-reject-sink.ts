import {
  SendMessageBatchCommand,
  type MessageAttributeValue,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { RetryableError } from '../../domain/errors.js';
import type { RejectedMessage } from '../../domain/model.js';
import type { RejectSink } from '../../ports/reject-sink.js';
import { retryableOr } from './aws-errors.js';

/** SendMessageBatch takes at most 10 entries (SQS API reference, SendMessageBatch). */
const SQS_MAX_BATCH_ENTRIES = 10;

/**
 * "The maximum allowed individual message size and the maximum total payload size (the sum of the
 * individual lengths of all of the batched messages) are both 1 MiB 1,048,576 bytes" (SQS API
 * reference, SendMessageBatch, current text; it was 256 KiB before August 2025). A message's size
 * counts its body and its attributes' names, types and values.
 */
const SQS_MAX_BATCH_BYTES = 1_048_576;

/** Value of the `field` attribute when the reason names no field (e.g. Timestream's own reasons). */
const NO_FIELD = 'record';

interface SqsRejectSinkOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /**
   * Byte budget of one request and of one message. Lower it to the queue's MaximumMessageSize
   * if that is set below 1 MiB. @default SQS_MAX_BATCH_BYTES (1 MiB)
   */
  readonly maxBatchBytes?: number;
}

/**
 * Keeps rejected messages in an SQS queue: SendMessageBatch of at most 10 entries and 1 MiB;
 * body = the RejectedMessage as JSON; attributes `stage` (decode | store), `field` (the first path
 * segment of the reason, e.g. `metrics`, or `record`) and `deviceId` when known, so consumers can
 * filter. A message too big on its own is sent with its payload cut to fit, marked
 * `payloadTruncated: true` with the original `payloadLength`, rather than failing forever (the
 * telemetry payload is at most 128 KiB, so this only happens with a much lower budget).
 * A request that fails transiently, or any Failed entry, throws RetryableError naming the records.
 */
export class SqsRejectSink implements RejectSink {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #maxBatchBytes: number;

  constructor(options: SqsRejectSinkOptions) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#maxBatchBytes = options.maxBatchBytes ?? SQS_MAX_BATCH_BYTES;
  }

  async reject(messages: readonly RejectedMessage[]): Promise<void> {
    for (const batch of this.#batches(messages)) {
      const entries = batch.map(({ entry }) => entry);
      let failed;
      try {
        ({ Failed: failed } = await this.#client.send(
          new SendMessageBatchCommand({ QueueUrl: this.#queueUrl, Entries: entries }),
        ));
      } catch (error) {
        throw retryableOr(error, `SQS SendMessageBatch ${this.#queueUrl}`);
      }
      if (failed !== undefined && failed.length > 0) {
        const named = failed.map((f) => {
          const message = batch[Number(f.Id)]?.message;
          const where = message === undefined ? `entry ${f.Id}` : `${message.record.shardId}/${message.record.sequenceNumber}`;
          return `${where}: ${f.Code ?? 'error'}${f.SenderFault ? ' (sender fault)' : ''} ${f.Message ?? ''}`.trim();
        });
        throw new RetryableError(
          `SQS SendMessageBatch ${this.#queueUrl}: ${failed.length} of ${entries.length} entries failed: ${named.join('; ')}`,
        );
      }
    }
  }

  /** Packs entries greedily, in order, into requests of at most 10 entries and maxBatchBytes. */
  *#batches(messages: readonly RejectedMessage[]): Generator<{ message: RejectedMessage; entry: SendMessageBatchRequestEntry }[]> {
    let batch: { message: RejectedMessage; entry: SendMessageBatchRequestEntry }[] = [];
    let bytes = 0;
    for (const message of messages) {
      const { entry, size } = toEntry(message, this.#maxBatchBytes);
      if (batch.length === SQS_MAX_BATCH_ENTRIES || (batch.length > 0 && bytes + size > this.#maxBatchBytes)) {
        yield batch;
        batch = [];
        bytes = 0;
      }
      batch.push({ message, entry: { ...entry, Id: String(batch.length) } });
      bytes += size;
    }
    if (batch.length > 0) yield batch;
  }
}

/** The first path segment of a reason such as `metrics.temperature: not a finite number`. */
export function reasonField(reason: string): string {
  const match = /^([A-Za-z0-9_$-]+)(?:[.[][^\s:]*)?:\s/.exec(reason);
  return match?.[1] ?? NO_FIELD;
}

function toEntry(message: RejectedMessage, maxBytes: number): { entry: Omit<SendMessageBatchRequestEntry, 'Id'>; size: number } {
  const attributes: Record<string, MessageAttributeValue> = {
    stage: { DataType: 'String', StringValue: message.stage },
    field: { DataType: 'String', StringValue: reasonField(message.reason) },
    ...(message.deviceId === undefined ? {} : { deviceId: { DataType: 'String', StringValue: message.deviceId } }),
  };
  const attributeBytes = Object.entries(attributes).reduce(
    (sum, [name, value]) => sum + utf8Bytes(name) + utf8Bytes(value.DataType ?? '') + utf8Bytes(value.StringValue ?? ''),
    0,
  );
  let body = JSON.stringify(message);
  if (utf8Bytes(body) + attributeBytes > maxBytes) {
    const marked = { ...message, payload: '', payloadTruncated: true, payloadLength: message.payload.length };
    const room = maxBytes - attributeBytes - utf8Bytes(JSON.stringify(marked));
    // The payload is base64 (ASCII): one character is one byte, also inside JSON.
    body = JSON.stringify({ ...marked, payload: message.payload.slice(0, Math.max(0, room)) });
  }
  return { entry: { MessageBody: body, MessageAttributes: attributes }, size: utf8Bytes(body) + attributeBytes };
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
