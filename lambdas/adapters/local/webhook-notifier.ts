import { RetryableError } from '../../domain/errors.js';
import type { AlarmEvent } from '../../domain/model.js';
import type { AlarmNotifier } from '../../ports/alarm-notifier.js';
import type { Log } from '../../ports/observability.js';
import { silentLog } from '../../ports/observability.js';

interface WebhookNotifierOptions {
  /** Where each alarm event is POSTed. */
  readonly url: string;
  /** Retries of one event after its first attempt (so `retries + 1` attempts at most). @default 3 */
  readonly retries?: number;
  /** Base of the exponential backoff, ms: before retry n (1-based) it waits up to backoffMs * 2^(n-1). @default 200 */
  readonly backoffMs?: number;
  /** One attempt's limit, ms: a slower response counts as a network error. @default 5000 */
  readonly timeoutMs?: number;
  /** @default globalThis.fetch (Node 20's undici) */
  readonly fetch?: typeof fetch;
  /** Where refused (4xx) events are logged. @default silentLog */
  readonly log?: Log;
  /** Jitter source in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/** Statuses a retry can fix besides 5xx: a timeout at the server, and throttling. */
const RETRYABLE_4XX = new Set([408, 429]);

/**
 * POSTs each alarm event to a URL as one JSON object (the event, exactly as published on the broker),
 * one request per event, in order. One object per request is what chat and incident webhooks accept
 * and what an SNS subscriber receives; the header `Idempotency-Key: <alarmId>/<ts>/<state>` lets the
 * receiver drop the duplicates at-least-once delivery brings.
 *
 * A 5xx, 408, 429 or network error/timeout is retried with exponential backoff and full jitter (wait a
 * random time in [0, backoffMs * 2^(n-1)); AWS Architecture Blog, "Exponential Backoff And Jitter");
 * when the retries run out, `notify` throws RetryableError and the use case keeps the events in its
 * outbox for the next batch. Any other 4xx means the receiver refuses this event and always will: it
 * is logged and skipped, not retried.
 */
export class WebhookNotifier implements AlarmNotifier {
  private readonly url: string;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly log: Log;
  private readonly random: () => number;

  constructor(options: WebhookNotifierOptions) {
    this.url = options.url;
    this.retries = options.retries ?? 3;
    this.backoffMs = options.backoffMs ?? 200;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.log = options.log ?? silentLog;
    this.random = options.random ?? Math.random;
  }

  async notify(events: readonly AlarmEvent[]): Promise<void> {
    for (const event of events) await this.post(event);
  }

  private async post(event: AlarmEvent): Promise<void> {
    const body = JSON.stringify(event);
    const idempotencyKey = `${event.alarmId}/${event.ts}/${event.state}`;
    let lastFailure = '';
    let lastCause: unknown;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await sleep(this.random() * this.backoffMs * 2 ** (attempt - 1));
      let status: number;
      try {
        const response = await this.fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        status = response.status;
        // Read the body so the connection goes back to the pool.
        await response.arrayBuffer().catch(() => undefined);
      } catch (err) {
        lastFailure = `network error: ${(err as Error).message}`;
        lastCause = err;
        continue;
      }
      if (status < 400) return;
      if (status >= 500 || RETRYABLE_4XX.has(status)) {
        lastFailure = `HTTP ${status}`;
        lastCause = undefined;
        continue;
      }
      this.log.warn('webhook refused an alarm event; not retried', { url: this.url, status, alarmId: event.alarmId, ts: event.ts });
      return;
    }
    throw new RetryableError(
      `webhook ${this.url}: alarm ${idempotencyKey} not delivered after ${this.retries + 1} attempts (${lastFailure})`,
      { cause: lastCause },
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
