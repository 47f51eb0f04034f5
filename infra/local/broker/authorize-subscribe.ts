/** The aedes `authorizeSubscribe` hook: the IoT policy's subscribe rules (acl.ts); a refused filter gets 0x80 in the SUBACK. */
import type { AedesOptions } from 'aedes';
import { canSubscribe } from './acl.js';
import type { AclDecision } from './acl.js';
import type { HookContext } from './types.js';

export type AuthorizeSubscribeHook = NonNullable<AedesOptions['authorizeSubscribe']>;

export function createAuthorizeSubscribe(context: HookContext): AuthorizeSubscribeHook {
  const { sessions, counters, warnings } = context;
  return (client, subscription, done) => {
    const session = sessions.get(client);
    const decision: AclDecision = !session
      ? { allowed: false, reason: 'not an authenticated session' }
      : subscription.qos > 1
        ? // IoT Core does not support QoS 2 and sends no SUBACK for it ("AWS IoT differences from MQTT
          // specifications"). aedes cannot grant less than was asked (it puts the requested QoS in the
          // SUBACK), so the filter is refused: a client that would hang on AWS fails visibly here.
          { allowed: false, reason: 'QoS 2 is not supported' }
        : canSubscribe(session, subscription.topic);
    if (!decision.allowed) {
      counters.subscriptionsRefused += 1;
      warnings.warn('subscribe-refused', 'mqtt subscribe refused', { clientId: client.id, filter: subscription.topic, qos: subscription.qos, reason: decision.reason });
      // A null subscription makes aedes answer 0x80 (failure) for this filter in the SUBACK
      // (MQTT 3.1.1 section 3.9.3) and keep the connection, as IoT Core does for a denied filter.
      done(null, null);
      return;
    }
    done(null, subscription);
  };
}
