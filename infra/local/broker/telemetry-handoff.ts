/**
 * Hands telemetry to `onTelemetry` and releases each PUBACK when its promise settles: accepted, the
 * PUBACK goes out in arrival order; failed, the connection is closed without PUBACK so the client
 * resends. Consecutive messages handed the same promise (one batch of appends) share one `then`.
 */
import { TelemetryNotAcceptedError } from './errors.js';
import type { AckTicket } from './in-order-acks.js';
import type { RuleMessage } from '../iot-sql/index.js';
import type { HookContext, Session } from './types.js';

/** A telemetry message whose PUBACK waits for `onTelemetry`'s promise. */
interface Waiting {
  readonly session: Session;
  readonly clientId: string;
  readonly topic: string;
  readonly ticket: AckTicket;
}

/** The messages waiting for one promise: the Kinesis rule action returns one per batch of appends. */
interface WaitGroup {
  readonly members: Waiting[];
  settled: boolean;
}

export class TelemetryHandoff {
  private lastResult: PromiseLike<void> | undefined;
  private lastGroup: WaitGroup | undefined;

  constructor(
    private readonly context: HookContext,
    private readonly onTelemetry: (message: RuleMessage) => Promise<void> | void,
  ) {}

  /**
   * Called before anything is awaited, so arrival order is the order of these calls. `topic` is the
   * PUBLISH's own (with a Basic Ingest prefix), as refusals name it.
   */
  handOver(session: Session, topic: string, message: RuleMessage, ticket: AckTicket): void {
    const { clientId } = message;
    let result: PromiseLike<void> | void;
    try {
      result = this.onTelemetry(message);
    } catch (error) {
      this.fail({ session, clientId, topic, ticket }, error);
      return;
    }
    if (result && typeof result.then === 'function') {
      this.waitFor(result, { session, clientId, topic, ticket });
    } else {
      this.context.counters.messagesAccepted += 1;
      session.acks.settle(ticket);
    }
  }

  /** Waits for `result` before releasing `member`'s PUBACK. */
  private waitFor(result: PromiseLike<void>, member: Waiting): void {
    if (result === this.lastResult && this.lastGroup !== undefined && !this.lastGroup.settled) {
      this.lastGroup.members.push(member);
      return;
    }
    const group: WaitGroup = { members: [member], settled: false };
    this.lastResult = result;
    this.lastGroup = group;
    result.then(
      () => this.acceptGroup(group),
      (cause: unknown) => this.failGroup(group, cause),
    );
  }

  private acceptGroup(group: WaitGroup): void {
    group.settled = true;
    for (const member of group.members) {
      this.context.counters.messagesAccepted += 1;
      member.session.acks.settle(member.ticket);
    }
  }

  private failGroup(group: WaitGroup, cause: unknown): void {
    group.settled = true;
    for (const member of group.members) this.fail(member, cause);
  }

  private fail(member: Waiting, cause: unknown): void {
    this.context.counters.telemetryFailures += 1;
    const error = new TelemetryNotAcceptedError(member.clientId, member.topic, { cause });
    // Rate-limited with a count: while the disk headroom is engaged this is every message.
    this.context.warnings.warn('telemetry-not-accepted', 'mqtt telemetry not accepted; closing the connection without PUBACK so the client resends', {
      clientId: member.clientId,
      topic: member.topic,
      error: cause instanceof Error ? cause.message : String(cause),
    });
    member.session.acks.settle(member.ticket, error);
  }
}
