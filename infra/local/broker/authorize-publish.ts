/**
 * The aedes `authorizePublish` hook, the only one that runs before aedes writes the PUBACK
 * (lib/handlers/publish.js): the ACL, QoS and size checks, then telemetry goes to the handoff, which
 * calls back only once it is durable.
 */
import type { AedesOptions } from 'aedes';
import { ruleTopicOf } from '../../pipeline.js';
import { canPublish } from './acl.js';
import { PublishRefusedError } from './errors.js';
import type { TelemetryHandoff } from './telemetry-handoff.js';
import type { RuleMessage } from '../iot-sql/index.js';
import type { HookContext } from './types.js';

export type AuthorizePublishHook = NonNullable<AedesOptions['authorizePublish']>;

export function createAuthorizePublish(context: HookContext, handoff: TelemetryHandoff, maxPayloadBytes: number): AuthorizePublishHook {
  const { sessions, counters, warnings, clock } = context;

  function refusePublish(clientId: string, topic: string, reason: string, done: (error?: Error | null) => void): void {
    counters.publishesRefused += 1;
    warnings.warn('publish-refused', 'mqtt publish refused; closing the connection', { clientId, topic, reason });
    done(new PublishRefusedError(clientId, topic, reason));
  }

  // Runs for every PUBLISH (and a Will) before aedes writes the PUBACK: keep it free of per-message
  // closures, map lookups beyond the session, and string building (bench/stages.ts `ack`).
  return (client, packet, done) => {
    const { topic } = packet;
    const session = client ? sessions.get(client) : undefined;
    if (!client || session === undefined || session.revoked) return refusePublish(client?.id ?? '(none)', topic, 'not an authenticated session', done);
    const { acks } = session;
    if (acks.failed) {
      // An earlier message of this connection was not accepted: take nothing more, so nothing later
      // overtakes it. The client resends all of them after reconnecting.
      done(acks.failed);
      return;
    }
    // Basic Ingest: the ACL and the rule see the topic without its `$aws/rules/<rule>/` prefix.
    const ruleTopic = ruleTopicOf(topic);
    if (ruleTopic === undefined || ruleTopic !== session.publishTopic) {
      // Only for the refusal's reason: the ACL allows exactly `publishTopic`, directly or through Basic Ingest.
      const decision = canPublish(session, topic);
      if (!decision.allowed) return refusePublish(client.id, topic, decision.reason, done);
    }
    // IoT Core supports QoS 0 and 1 only ("AWS IoT differences from MQTT specifications").
    if (packet.qos !== 0 && packet.qos !== 1) return refusePublish(client.id, topic, 'QoS 2 is not supported', done);
    const payload = packet.payload as Buffer;
    if (payload.length > maxPayloadBytes) {
      // IoT Core: "rejects publish and connect requests larger than 128 KB" and disconnects.
      return refusePublish(client.id, topic, `payload of ${payload.length} bytes exceeds ${maxPayloadBytes}`, done);
    }
    // Retained telemetry is ignored, not stored: no client may subscribe to a telemetry topic, so a
    // retained copy could never be delivered, and the rule sees the message either way.
    packet.retain = false;
    if (!session.publishesTelemetry) {
      done(null);
      return;
    }
    const ticket = acks.enqueue(done);
    const message: RuleMessage = { topic: ruleTopic ?? topic, payload, clientId: client.id, timestamp: clock.now() };
    handoff.handOver(session, topic, message, ticket);
  };
}
