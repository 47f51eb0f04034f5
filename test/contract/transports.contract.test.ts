import type { AlarmEvent } from '../../lambdas/domain/model.js';
import { BrokerNotifier } from '../../lambdas/adapters/local/broker-notifier.js';
import { WebhookNotifier } from '../../lambdas/adapters/local/webhook-notifier.js';
import { alarmNotifierContract } from './alarm-notifier.contract.js';
import { startBrokerRig, startHttpRig, until } from './transports.js';

alarmNotifierContract(
  'BrokerNotifier on aedes, read by an MQTT.js subscriber',
  async () => {
    const rig = await startBrokerRig('alarms/fleet/+');
    return {
      notifier: new BrokerNotifier(rig.publish),
      received: async (count) => {
        await until(() => rig.messages.length >= count, `${count} MQTT messages`);
        return rig.messages.map((m) => JSON.parse(m.payload.toString('utf8')) as AlarmEvent);
      },
      dispose: () => rig.close(),
    };
  },
  { recordsOnce: false },
);

alarmNotifierContract(
  'WebhookNotifier on a node:http server',
  async () => {
    const rig = await startHttpRig();
    return {
      notifier: new WebhookNotifier({ url: rig.url }),
      received: async (count) => {
        await until(() => rig.requests.length >= count, `${count} HTTP requests`);
        return rig.requests.map((r) => JSON.parse(r.body) as AlarmEvent);
      },
      dispose: () => rig.close(),
    };
  },
  { recordsOnce: false },
);
