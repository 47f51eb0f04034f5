import { describe, it, expect, afterEach } from 'vitest';
import { BrokerNotifier } from '../../../lambdas/adapters/local/broker-notifier.js';
import { anAlarmEvent } from '../../contract/fixtures.js';
import type { BrokerRig } from '../../contract/transports.js';
import { startBrokerRig, until } from '../../contract/transports.js';

describe('BrokerNotifier', () => {
  let rig: BrokerRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it("publishes each event's JSON at QoS 1 on its device's alarm topic", async () => {
    rig = await startBrokerRig('alarms/fleet/+');
    const one = anAlarmEvent();
    const two = anAlarmEvent({ deviceId: 'pump:7', alarmId: 'pump:7/overheat' });

    await new BrokerNotifier(rig.publish).notify([one, two]);

    await until(() => rig!.messages.length === 2, 'two alarm messages');
    expect(rig.messages.map((m) => [m.topic, m.qos, m.payload.toString('utf8')])).toEqual([
      ['alarms/fleet/sensor-0001', 1, JSON.stringify(one)],
      ['alarms/fleet/pump:7', 1, JSON.stringify(two)],
    ]);
  });

  it('reaches a subscriber of one device only with that device’s alarms', async () => {
    rig = await startBrokerRig('alarms/fleet/sensor-0002');
    const other = anAlarmEvent();
    const mine = anAlarmEvent({ deviceId: 'sensor-0002', alarmId: 'sensor-0002/overheat' });

    await new BrokerNotifier(rig.publish).notify([other, mine]);

    await until(() => rig!.messages.length >= 1, 'one alarm message');
    expect(rig.messages.map((m) => m.topic)).toEqual(['alarms/fleet/sensor-0002']);
  });

  it('fails the call when a publish fails, and publishes nothing after it', async () => {
    const topics: string[] = [];
    const notifier = new BrokerNotifier(async (topic) => {
      topics.push(topic);
      if (topics.length === 1) throw new Error('broker closed');
    });

    const call = notifier.notify([anAlarmEvent(), anAlarmEvent({ deviceId: 'sensor-0002' })]);

    await expect(call).rejects.toThrow('broker closed');
    expect(topics).toEqual(['alarms/fleet/sensor-0001']);
  });
});
