import { alarmTopic } from '../../../infra/pipeline.js';
import type { AlarmEvent } from '../../domain/model.js';
import type { AlarmNotifier } from '../../ports/alarm-notifier.js';

/**
 * Publishes `payload` on `topic` at QoS 1 and resolves once the broker has taken it (the embedded
 * broker's publish). A rejection makes the notifier throw, so the events stay in the outbox.
 */
export type PublishFn = (topic: string, payload: Buffer) => Promise<void>;

/**
 * Alarm notifications on the embedded broker: each event's JSON on `alarms/fleet/{deviceId}`, the
 * local twin of the IoT data plane Publish the AWS notifier makes. Events go one at a time, in the
 * order given, so a subscriber sees a device's transitions in the order they were decided.
 */
export class BrokerNotifier implements AlarmNotifier {
  constructor(private readonly publish: PublishFn) {}

  async notify(events: readonly AlarmEvent[]): Promise<void> {
    for (const event of events) {
      await this.publish(alarmTopic(event.deviceId), Buffer.from(JSON.stringify(event)));
    }
  }
}
