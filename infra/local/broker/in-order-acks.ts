/**
 * Releases one client's publish acknowledgements in the order its PUBLISH packets arrived.
 *
 * aedes hands every packet of one socket read to `authorizePublish` at once (lib/client.js `enqueue`),
 * and sends each PUBACK as soon as that packet's callback runs. Our callbacks wait for `onTelemetry`,
 * whose promises may settle out of order; MQTT 3.1.1 [MQTT-4.6.0-2] wants PUBACKs in the order the
 * PUBLISH packets were received. So each packet's callback is queued and released only once every
 * earlier packet of the same connection has been released.
 *
 * After one failure, every later callback fails too: its message may be committed, but acknowledging
 * it while an earlier one is not would tell the client that a later reading is safe and an earlier one
 * is not, and the connection is closing anyway (the client resends everything unacknowledged).
 *
 * A queued packet is a ticket object settled through `settle(ticket)`, not a closure per packet: this
 * runs for every telemetry message before its PUBACK, and creating closures there (which tsx's
 * keepNames also wraps in a naming call) cost several percent of the broker's CPU per message in a
 * QoS 1 flood (node --cpu-prof, bench/stages.ts `ack`).
 */
export type AckCallback = (error?: Error | null) => void;

/** One queued packet. Opaque to callers: pass it back to `settle`. */
export interface AckTicket {
  /** @internal */ settled: boolean;
  /** @internal */ error: Error | undefined;
  /** @internal */ readonly callback: AckCallback;
}

export class InOrderAcks {
  /** Queued tickets; those before `head` are released (the array is compacted as it drains). */
  private pending: AckTicket[] = [];
  private head = 0;
  private releasing = false;
  private failure: Error | undefined;
  /** The first failure released: every callback released after it fails with it. */
  private releasedFailure: Error | undefined;

  /** The first failure on this connection, if any: later publishes are refused without being handled. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Queues `callback`; settle the returned ticket once the message is handled (with an error if not). */
  enqueue(callback: AckCallback): AckTicket {
    const ticket: AckTicket = { settled: false, error: undefined, callback };
    this.pending.push(ticket);
    return ticket;
  }

  /** Marks the ticket's message handled (`error`: not accepted) and releases every callback now due, in order. Idempotent. */
  settle(ticket: AckTicket, error?: Error): void {
    if (ticket.settled) return;
    ticket.settled = true;
    ticket.error = error;
    if (error && !this.failure) this.failure = error;
    this.release();
  }

  private release(): void {
    // A callback may re-enter (the PUBACK lets aedes parse the client's next packets, whose tickets
    // may settle at once): the outer loop releases them, so the queue is never reshaped under it.
    if (this.releasing) return;
    this.releasing = true;
    try {
      while (this.head < this.pending.length) {
        const ticket = this.pending[this.head] as AckTicket;
        if (!ticket.settled) break;
        this.head += 1;
        this.releasedFailure ??= ticket.error;
        ticket.callback(this.releasedFailure ?? null);
      }
    } finally {
      this.releasing = false;
    }
    // Once drained, start over instead of shifting: the common case (acks released as they settle).
    if (this.head === this.pending.length) {
      this.pending.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
  }
}
