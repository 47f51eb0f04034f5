import { RetryableError } from '../../domain/errors.js';
import type { RejectedMessage } from '../../domain/model.js';
import type { RejectSink } from '../../ports/reject-sink.js';

/** Keeps rejected messages in an array; can fail the next calls. */
export class InMemoryRejectSink implements RejectSink {
  readonly messages: RejectedMessage[] = [];
  /** How many times reject() was called, failed calls included. */
  calls = 0;
  private readonly pendingFailures: Error[] = [];

  /** The next `count` calls throw `error` (default: a RetryableError, as a throttled SQS would). */
  failNext(count: number, options: { error?: Error } = {}): void {
    for (let i = 0; i < count; i += 1) {
      this.pendingFailures.push(options.error ?? new RetryableError('reject sink unavailable (simulated)'));
    }
  }

  async reject(messages: readonly RejectedMessage[]): Promise<void> {
    this.calls += 1;
    const failure = this.pendingFailures.shift();
    if (failure !== undefined) throw failure;
    this.messages.push(...messages);
  }
}
