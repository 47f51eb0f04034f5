/**
 * The pipeline's IoT rule and its Kinesis action, locally: what the broker runs for each accepted
 * telemetry message, inside its `authorizePublish` hook (so the PUBACK waits for the durable append).
 * One function, so the stack and the benchmarks' partial compositions run the very same path.
 *
 * Cost per message matters here (every PUBLISH waits for it on the broker's thread), so:
 * - the rule writes its output bytes directly (`evaluateToBytes`, byte-identical to serializing
 *   `evaluate`'s output; the pipeline rule never parses the payload);
 * - the messages handled in one go (one socket read, or the reads one commit released) are appended
 *   with ONE `appendMany` and share ONE promise, instead of three promises per message. They would
 *   share one commit anyway (the stream group-commits per event-loop turn), in the same order, so
 *   nothing about durability or order changes: each message's promise still resolves only after
 *   the transaction holding its record has committed.
 */
import type { Log } from '../../lambdas/ports/observability.js';
import { compileRule, compileTemplate } from './iot-sql/index.js';
import type { RuleMessage } from './iot-sql/index.js';
import { RECORD_LIMITS } from './stream/index.js';
import type { AppendEntry, LocalStream } from './stream/index.js';

export interface KinesisRuleActionOptions {
  /** The rule's SQL (pipeline.rule.sql). SQL outside our subset throws here, at start-up. */
  readonly sql: string;
  /** The Kinesis action's partition-key template (pipeline.rule.partitionKey). */
  readonly partitionKey: string;
  readonly stream: LocalStream;
  readonly log: Log;
}

/** Appends queued since the last flush, and the promise every one of their messages was handed. */
interface Batch {
  readonly entries: AppendEntry[];
  readonly committed: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const committed = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { entries: [], committed, resolve, reject };
}

const ignore = (): undefined => undefined;

/**
 * Whether the stream will surely take this record. A record it would refuse is appended on its own
 * (`append` rejects it with the stream's own reason, and only its message fails), because one bad
 * entry makes `appendMany` refuse the whole batch. Conservative: a key of at most 256 UTF-16 units
 * has at most 256 code points, and a UTF-16 unit is at most 3 UTF-8 bytes.
 */
function surelyAppendable(entry: AppendEntry): boolean {
  const { partitionKey } = entry;
  return partitionKey.length <= RECORD_LIMITS.maxPartitionKeyLength && entry.data.byteLength + 3 * partitionKey.length <= RECORD_LIMITS.maxRecordBytes;
}

/**
 * Returns the broker's `onTelemetry`: evaluates the rule and appends its output to the stream.
 * Resolves once the record is committed; undefined (nothing to wait for) when the rule does not match
 * or its action fails. Messages handled in the same microtask share the returned promise.
 */
export function makeKinesisRuleAction(options: KinesisRuleActionOptions): (message: RuleMessage) => Promise<void> | undefined {
  const { stream, log } = options;
  const rule = compileRule(options.sql);
  const partitionKeyOf = compileTemplate(options.partitionKey);

  let batch: Batch | undefined;
  /** Hands the open batch to the stream; later messages start a new one. Batches go in call order. */
  const flush = (): void => {
    const full = batch;
    if (full === undefined) return;
    batch = undefined;
    stream.appendMany(full.entries).then(full.resolve, full.reject);
  };

  return (message) => {
    const data = rule.evaluateToBytes(message);
    if (data === undefined) return undefined;
    const partitionKey = partitionKeyOf(message);
    if (!partitionKey) {
      // On AWS the Kinesis action fails and the rule's error action runs; there is no stream record.
      log.error('rule action failed: empty partition key', { topic: message.topic, clientId: message.clientId });
      return undefined;
    }
    const entry: AppendEntry = { partitionKey, data };
    if (!surelyAppendable(entry)) {
      // Earlier records first, so the call order stays the order of the records.
      flush();
      return stream.append(entry).then(ignore);
    }
    if (batch === undefined) {
      batch = newBatch();
      // After the current task (one socket read's packets, or the acks one commit released), before
      // the stream's commit (setImmediate): the batch joins the same transaction it would have.
      queueMicrotask(flush);
    }
    batch.entries.push(entry);
    return batch.committed;
  };
}
