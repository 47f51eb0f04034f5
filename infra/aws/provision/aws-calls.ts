/**
 * Control-plane calls of `npm run provision`, kept within AWS IoT's request rates: each API is
 * paced on its own (AWS IoT throttles per API and account), and a throttled or transient failure is
 * retried with exponential backoff and full jitter ("Exponential Backoff And Jitter", AWS
 * Architecture Blog), so that many devices hitting a limit together spread out instead of retrying in
 * step. The SDK's own retries are off (`maxAttempts: 1` on the client) so these are the only ones.
 */
import type { IoTClient } from '@aws-sdk/client-iot';
import { isTransientAwsError } from '../../../lambdas/adapters/aws/aws-errors.js';
import { FleetTelemetryError } from '../../../lambdas/domain/errors.js';

/** A provisioning step failed for good (after its retries, or with an error a retry cannot fix). */
export class ProvisionError extends FleetTelemetryError {}

export interface AwsCallsOptions {
  readonly iot: IoTClient;
  /** Requests per second per API. */
  readonly ratePerApi: number;
  /** Attempts per request, the first included. @default 8 */
  readonly attempts?: number;
  /** First backoff ceiling and the largest (ms). @default 200 and 20000 */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** Injected in tests (a fake clock): waits `ms`. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
}

/** The error's name, as the SDK sets it (`ThrottlingException`, `ResourceNotFoundException`...). */
export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** Full jitter: a random delay between 0 and the exponential ceiling of this attempt. */
export function fullJitterDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  return random() * Math.min(maxMs, baseMs * 2 ** attempt);
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Paced, retried IoT calls, with counts for the report. */
export class AwsCalls {
  private readonly o: Required<Omit<AwsCallsOptions, 'iot'>> & { readonly iot: IoTClient };
  private readonly nextSlot = new Map<string, number>();
  requests = 0;
  retries = 0;

  constructor(options: AwsCallsOptions) {
    this.o = {
      attempts: 8,
      backoffBaseMs: 200,
      backoffMaxMs: 20_000,
      sleep: defaultSleep,
      random: Math.random,
      now: () => performance.now(),
      ...options,
    };
  }

  /** Waits for this API's next free slot at `ratePerApi` a second. */
  private async pace(api: string): Promise<void> {
    const now = this.o.now();
    const slot = Math.max(now, this.nextSlot.get(api) ?? now);
    this.nextSlot.set(api, slot + 1000 / this.o.ratePerApi);
    if (slot > now) await this.o.sleep(slot - now);
  }

  /**
   * Sends one command, paced, retrying transient errors (and the names in `retryAlso`, for a step
   * that waits on an earlier one's eventual consistency). `tolerate` lists error names that mean
   * "already done" (e.g. ResourceNotFoundException when deleting): they resolve to undefined.
   */
  async send<T>(
    api: string,
    call: (iot: IoTClient) => Promise<T>,
    options: { readonly tolerate?: readonly string[]; readonly retryAlso?: readonly string[] } = {},
  ): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      await this.pace(api);
      this.requests += 1;
      try {
        return await call(this.o.iot);
      } catch (error) {
        const name = errorName(error);
        if (name !== undefined && options.tolerate?.includes(name)) return undefined;
        const retryable = isTransientAwsError(error) || (name !== undefined && options.retryAlso?.includes(name) === true);
        if (!retryable || attempt + 1 >= this.o.attempts) {
          const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          throw new ProvisionError(`${api} failed${retryable ? ` after ${attempt + 1} attempts` : ''}: ${why}`, { cause: error });
        }
        this.retries += 1;
        await this.o.sleep(fullJitterDelayMs(attempt, this.o.backoffBaseMs, this.o.backoffMaxMs, this.o.random));
      }
    }
  }
}
