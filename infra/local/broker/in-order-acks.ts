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
 */
export type AckCallback = (error?: Error | null) => void;

interface Pending {
  settled: boolean;
  error: Error | undefined;
  readonly callback: AckCallback;
}

export class InOrderAcks {
  private readonly pending: Pending[] = [];
  private failure: Error | undefined;
  /** The first failure released: every callback released after it fails with it. */
  private releasedFailure: Error | undefined;

  /** The first failure on this connection, if any: later publishes are refused without being handled. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Queues `callback`; call the returned function once the message is handled (with an error if not). */
  enqueue(callback: AckCallback): (error?: Error) => void {
    const entry: Pending = { settled: false, error: undefined, callback };
    this.pending.push(entry);
    return (error) => {
      if (entry.settled) return;
      entry.settled = true;
      entry.error = error;
      if (error && !this.failure) this.failure = error;
      this.release();
    };
  }

  private release(): void {
    while (this.pending.length > 0 && (this.pending[0] as Pending).settled) {
      const head = this.pending.shift() as Pending;
      this.releasedFailure ??= head.error;
      head.callback(this.releasedFailure ?? null);
    }
  }
}
