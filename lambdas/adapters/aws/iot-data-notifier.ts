import { PublishCommand, type IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { alarmTopic } from '../../../infra/pipeline.js';
import type { AlarmEvent } from '../../domain/model.js';
import type { AlarmNotifier } from '../../ports/alarm-notifier.js';
import { retryableOr } from './aws-errors.js';

/**
 * The IoT data-plane endpoint URL for the client's `endpoint` option, from the account's
 * iot:Data-ATS host (IOT_DATA_ENDPOINT); a value that already has a scheme is kept as it is.
 *
 * @example iotDataEndpointUrl('abc123-ats.iot.eu-west-1.amazonaws.com') // 'https://abc123-ats.iot.eu-west-1.amazonaws.com'
 */
export function iotDataEndpointUrl(host: string): string {
  return /^https?:\/\//.test(host) ? host : `https://${host}`;
}

interface IotDataNotifierOptions {
  /** Built with `endpoint: iotDataEndpointUrl(IOT_DATA_ENDPOINT)`. */
  readonly client: IoTDataPlaneClient;
}

/**
 * Publishes each alarm event on `alarms/fleet/{deviceId}` through the IoT data plane, QoS 1,
 * payload the event as UTF-8 JSON. Events are published one after the other, in the order given,
 * so a device's subscribers see its transitions in order. A failure stops there and throws
 * (RetryableError when transient); the caller keeps the events in its outbox and publishes them all
 * again later, so an event may arrive twice, never be lost.
 */
export class IotDataNotifier implements AlarmNotifier {
  readonly #client: IoTDataPlaneClient;
  readonly #encoder = new TextEncoder();

  constructor(options: IotDataNotifierOptions) {
    this.#client = options.client;
  }

  async notify(events: readonly AlarmEvent[]): Promise<void> {
    for (const event of events) {
      const topic = alarmTopic(event.deviceId);
      try {
        await this.#client.send(
          new PublishCommand({
            topic,
            qos: 1,
            payload: this.#encoder.encode(JSON.stringify(event)),
            contentType: 'application/json',
            payloadFormatIndicator: 'UTF8_DATA',
          }),
        );
      } catch (error) {
        throw retryableOr(error, `IoT Publish ${topic} alarm ${event.alarmId}`);
      }
    }
  }
}
