import type { CommandOutcome, CommandReplies, CommandReplyBody } from '../../ports/command-replies.js';
import { FleetTelemetryError } from '../../domain/errors.js';

interface RecordedReply {
  readonly deviceId: string;
  readonly outcome: CommandOutcome;
  readonly body: CommandReplyBody;
}

/** What a failed publish looks like here: not retryable, like an error the real adapter does not recognise. */
export class SimulatedReplyFailure extends FleetTelemetryError {}

/** Records every reply; can fail the next calls. */
export class RecordingCommandReplies implements CommandReplies {
  readonly replies: RecordedReply[] = [];
  private failuresLeft = 0;

  /** The next `count` calls throw. */
  failNext(count: number): void {
    this.failuresLeft += count;
  }

  async publishReply(deviceId: string, outcome: CommandOutcome, body: CommandReplyBody): Promise<void> {
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new SimulatedReplyFailure('reply publish failed (simulated)');
    }
    this.replies.push({ deviceId, outcome, body: structuredClone(body) });
  }
}
