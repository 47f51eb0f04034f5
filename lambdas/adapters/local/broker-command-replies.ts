import { commandReplyTopic } from '../../../infra/pipeline.js';
import type { CommandOutcome, CommandReplies, CommandReplyBody } from '../../ports/command-replies.js';
import type { PublishFn } from './broker-notifier.js';

/**
 * Command replies on the embedded broker: the body's JSON on `cmd/fleet/alarms/{deviceId}/accepted`
 * or `.../rejected` at QoS 1, the local twin of the IoT data plane Publish the AWS adapter makes.
 * Resolves once the broker has taken it; a rejection reaches the handler (a function error).
 */
export class BrokerCommandReplies implements CommandReplies {
  constructor(private readonly publish: PublishFn) {}

  async publishReply(deviceId: string, outcome: CommandOutcome, body: CommandReplyBody): Promise<void> {
    await this.publish(commandReplyTopic(deviceId, outcome), Buffer.from(JSON.stringify(body)));
  }
}
