/**
 * One end of the channel between the stack's thread and the consumers' worker, over the worker's
 * MessagePort: one-way events (checkpoints, failure entries, logs, counters, append notices) and calls
 * that expect an answer (publish alarm events on the broker, run the silent-device check, swap the
 * rules, stop). Typed by what each side sends and receives (protocol.ts), so both threads are checked
 * by the compiler; messages keep their order, which the checkpoint-after-failure rule relies on.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { FleetTelemetryError, InvariantError } from '../../../lambdas/domain/errors.js';

/** A call's request and the answer it gets. */
export interface Call<Request, Answer> {
  readonly request: Request;
  readonly answer: Answer;
}

/** The calls one side answers, by name. */
export type Calls = Record<string, Call<object, unknown>>;

/** One call as it travels: its kind, its id, and its request's fields. */
export type CallMessage<C extends Calls> = { [K in keyof C & string]: { readonly kind: K; readonly callId: number } & C[K]['request'] }[keyof C & string];

/** The answer to a call, matched to it by id. */
type AnswerMessage =
  | { readonly kind: 'answer'; readonly callId: number; readonly ok: true; readonly value: unknown }
  | { readonly kind: 'answer'; readonly callId: number; readonly ok: false; readonly error: string };

/** An event: a message with a kind no call and no answer has. */
export interface EventMessage {
  readonly kind: string;
}

/** What a channel end talks through: the worker's `parentPort`, the host's `Worker`, or one port of a MessageChannel. */
export type ChannelPort = (Pick<MessagePort, 'postMessage'> & { on(event: 'message', listener: (message: unknown) => void): unknown }) | Worker;

/** A call's failure on the other side, with the other side's message. */
export class ChannelCallError extends FleetTelemetryError {}

/**
 * The end that sends `OutEvent`s, makes `OutCalls` and receives `InEvent`s and `InCalls`. Every
 * message received, but the answers to its own calls, goes to `receive`, which the side writes as an
 * exhaustive switch on `kind` (see `unhandled`).
 */
export class ChannelEnd<OutEvent extends EventMessage, OutCalls extends Calls, InEvent extends EventMessage, InCalls extends Calls> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(
    private readonly endpoint: ChannelPort,
    receive: (message: InEvent | CallMessage<InCalls>) => void,
  ) {
    endpoint.on('message', (message: unknown) => {
      // The other end is built from the same protocol: what arrives is one of its messages.
      const received = message as InEvent | CallMessage<InCalls> | AnswerMessage;
      if (isAnswer(received)) this.settle(received);
      else receive(received);
    });
  }

  /** Sends a one-way event; `transfer` moves those buffers instead of copying them. */
  emit(event: OutEvent, transfer?: readonly ArrayBuffer[]): void {
    this.endpoint.postMessage(event, transfer as ArrayBuffer[] | undefined);
  }

  /** Calls the other side; resolves with its answer, rejects with ChannelCallError. */
  call<K extends keyof OutCalls & string>(kind: K, request: OutCalls[K]['request']): Promise<OutCalls[K]['answer']> {
    const callId = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(callId, { resolve: resolve as (value: unknown) => void, reject });
      this.endpoint.postMessage({ ...request, kind, callId });
    });
  }

  /** Answers a call received with what `work` gives, or with its error's message. */
  answer<K extends keyof InCalls & string>(call: { readonly kind: K; readonly callId: number }, work: () => InCalls[K]['answer'] | Promise<InCalls[K]['answer']>): void {
    const { callId } = call;
    Promise.resolve()
      .then(work)
      .then(
        (value) => this.endpoint.postMessage({ kind: 'answer', callId, ok: true, value } satisfies AnswerMessage),
        (error: unknown) => this.endpoint.postMessage({ kind: 'answer', callId, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies AnswerMessage),
      );
  }

  /** Rejects every call still waiting (the other side is gone). */
  failPending(reason: string): void {
    for (const { reject } of this.pending.values()) reject(new ChannelCallError(reason));
    this.pending.clear();
  }

  private settle(answer: AnswerMessage): void {
    const waiting = this.pending.get(answer.callId);
    if (waiting === undefined) return;
    this.pending.delete(answer.callId);
    if (answer.ok) waiting.resolve(answer.value);
    else waiting.reject(new ChannelCallError(answer.error));
  }
}

function isAnswer(message: { readonly kind: string }): message is AnswerMessage {
  return message.kind === 'answer';
}

/** The `default` of a side's switch on what it received: a kind it does not handle fails typecheck here. */
export function unhandled(message: never): never {
  throw new InvariantError(`consumers channel: no handler for ${JSON.stringify((message as { kind?: unknown }).kind)}`);
}
