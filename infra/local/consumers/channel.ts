/**
 * Messages between the stack's thread and the consumers' worker: one-way events (checkpoints,
 * failure entries, logs, counters, append notices) and calls that expect an answer (publish an alarm
 * event on the broker, run the silent-device check, stop). One small class for both ends, over the
 * worker's MessagePort; messages keep their order, which the checkpoint-after-failure rule relies on.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { FleetTelemetryError } from '../../../lambdas/domain/errors.js';

type Endpoint = Pick<MessagePort, 'postMessage'> & { on(event: 'message', listener: (message: unknown) => void): unknown };

type Message =
  | { readonly kind: 'event'; readonly name: string; readonly data: unknown }
  | { readonly kind: 'call'; readonly id: number; readonly method: string; readonly args: unknown }
  | { readonly kind: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly kind: 'reply'; readonly id: number; readonly ok: false; readonly error: string };

/** A call's failure on the other side, with the other side's message. */
export class ChannelCallError extends FleetTelemetryError {}

export class Channel {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly eventHandlers = new Map<string, (data: unknown) => void>();
  private readonly callHandlers = new Map<string, (args: unknown) => unknown>();

  constructor(private readonly endpoint: Endpoint | Worker) {
    endpoint.on('message', (message: unknown) => this.receive(message as Message));
  }

  /** Sends a one-way event; `transfer` moves those buffers instead of copying them. */
  emit(name: string, data: unknown, transfer?: readonly ArrayBuffer[]): void {
    this.endpoint.postMessage({ kind: 'event', name, data } satisfies Message, transfer as ArrayBuffer[] | undefined);
  }

  /** Calls `method` on the other side; resolves with its answer, rejects with ChannelCallError. */
  call<T>(method: string, args: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.endpoint.postMessage({ kind: 'call', id, method, args } satisfies Message);
    });
  }

  onEvent(name: string, handler: (data: unknown) => void): void {
    this.eventHandlers.set(name, handler);
  }

  onCall(method: string, handler: (args: unknown) => unknown): void {
    this.callHandlers.set(method, handler);
  }

  /** Rejects every call still waiting (the other side is gone). */
  failPending(reason: string): void {
    for (const { reject } of this.pending.values()) reject(new ChannelCallError(reason));
    this.pending.clear();
  }

  private receive(message: Message): void {
    if (message.kind === 'event') {
      this.eventHandlers.get(message.name)?.(message.data);
      return;
    }
    if (message.kind === 'reply') {
      const waiting = this.pending.get(message.id);
      if (waiting === undefined) return;
      this.pending.delete(message.id);
      if (message.ok) waiting.resolve(message.value);
      else waiting.reject(new ChannelCallError(message.error));
      return;
    }
    const handler = this.callHandlers.get(message.method);
    const reply = (answer: { ok: true; value: unknown } | { ok: false; error: string }) =>
      this.endpoint.postMessage({ kind: 'reply', id: message.id, ...answer } satisfies Message);
    if (handler === undefined) {
      reply({ ok: false, error: `no handler for ${message.method}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.args))
      .then(
        (value) => reply({ ok: true, value }),
        (error: unknown) => reply({ ok: false, error: error instanceof Error ? error.message : String(error) }),
      );
  }
}
