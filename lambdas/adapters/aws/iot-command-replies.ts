import { PublishCommand, type IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { commandReplyTopic } from '../../../infra/pipeline.js';
import type { CommandOutcome, CommandReplies, CommandReplyBody } from '../../ports/command-replies.js';
import { retryableOr } from './aws-errors.js';

interface IotCommandRepliesOptions {
  /** Built with `endpoint: iotDataEndpointUrl(IOT_DATA_ENDPOINT)`. */
  readonly client: IoTDataPlaneClient;
}

/**
 * Answers a command through the IoT data plane: the body as UTF-8 JSON on
 * `cmd/fleet/alarms/{deviceId}/accepted` or `.../rejected`, QoS 1. Those topics do not match the
 * command rule's single-level filter `cmd/fleet/alarms/+`, so a reply never runs the rule again.
 * A failure throws (RetryableError when transient) so the invocation is retried.
 */
export class IotCommandReplies implements CommandReplies {
  readonly #client: IoTDataPlaneClient;
  readonly #encoder = new TextEncoder();

  constructor(options: IotCommandRepliesOptions) {
    this.#client = options.client;
  }

  async publishReply(deviceId: string, outcome: CommandOutcome, body: CommandReplyBody): Promise<void> {
    const topic = commandReplyTopic(deviceId, outcome);
    try {
      await this.#client.send(
        new PublishCommand({
          topic,
          qos: 1,
          payload: this.#encoder.encode(JSON.stringify(body)),
          contentType: 'application/json',
          payloadFormatIndicator: 'UTF8_DATA',
        }),
      );
    } catch (error) {
      throw retryableOr(error, `IoT Publish ${topic}`);
    }
  }
}
