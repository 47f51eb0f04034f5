/**
 * The topic policy of the local broker, mirroring the IoT policy the AWS stack attaches to things
 * (SEMANTICS.md section 6; AWS IoT "Thing policy variables" and "Publish/Subscribe policy examples"):
 *
 * - a device publishes only on `dt/fleet/${iot:Connection.Thing.ThingName}/telemetry`, directly or
 *   through Basic Ingest (`$aws/rules/fleet_telemetry_to_stream/dt/fleet/<its id>/telemetry`), and
 *   subscribes only to `alarms/fleet/${iot:Connection.Thing.ThingName}`;
 * - an operator subscribes to `alarms/fleet/+` or to one device's `alarms/fleet/<deviceId>`, and
 *   publishes nothing.
 *
 * Filters are compared as strings, as IoT Core's `topicfilter/...` resources are: a device asking for
 * `alarms/fleet/#` or `#` is refused even though its own alarms would match, because the filter it
 * asked for is not the one it is allowed. A device id cannot contain `/`, `+` or `#`
 * (`[A-Za-z0-9_:-]`), so an exact string match cannot be widened by a crafted id.
 */
import { alarmTopic, basicIngestTelemetryTopic, pipeline, ruleTopicOf, telemetryTopic } from '../../pipeline.js';
import { TELEMETRY_LIMITS } from '../../../lambdas/domain/model.js';
import type { DeviceRole } from '../registry/index.js';

/** Who is connected: the registry identity the CONNECT proved. */
export interface Principal {
  readonly deviceId: string;
  readonly role: DeviceRole;
}

export type AclDecision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

const ALLOWED: AclDecision = Object.freeze({ allowed: true });
const ALARMS_PREFIX = pipeline.topics.alarms.replace('{deviceId}', '');

/**
 * The one topic this principal may publish on (a device's own telemetry topic), or undefined (an
 * operator publishes nothing). The broker computes it once per connection and compares strings per
 * PUBLISH; `canPublish` gives the same answer with the reason.
 */
export function publishableTopic(principal: Principal): string | undefined {
  return principal.role === 'operator' ? undefined : telemetryTopic(principal.deviceId);
}

/**
 * May this principal publish on `topic`? A Basic Ingest topic is judged by the topic the rule sees
 * (`ruleTopicOf`), so a device may use Basic Ingest for its own telemetry only, as the device
 * policy allows on AWS.
 */
export function canPublish(principal: Principal, topic: string): AclDecision {
  const allowed = publishableTopic(principal);
  if (allowed === undefined) return { allowed: false, reason: 'operators may not publish' };
  if (ruleTopicOf(topic) === allowed) return ALLOWED;
  return { allowed: false, reason: `a device may publish only on ${allowed} or ${basicIngestTelemetryTopic(principal.deviceId)}` };
}

/** May this principal subscribe to `filter`? */
export function canSubscribe(principal: Principal, filter: string): AclDecision {
  if (principal.role === 'operator') {
    if (filter === pipeline.topics.alarmsFilter) return ALLOWED;
    if (filter.startsWith(ALARMS_PREFIX) && TELEMETRY_LIMITS.deviceId.test(filter.slice(ALARMS_PREFIX.length))) {
      return ALLOWED;
    }
    return { allowed: false, reason: `an operator may subscribe only to ${pipeline.topics.alarmsFilter} or ${pipeline.topics.alarms}` };
  }
  if (filter === alarmTopic(principal.deviceId)) return ALLOWED;
  return { allowed: false, reason: `a device may subscribe only to ${alarmTopic(principal.deviceId)}` };
}
