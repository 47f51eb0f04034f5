/**
 * The topic policy of the local broker, mirroring the IoT policy the AWS stack attaches to things
 * (docs/aws-semantics.md section 6; AWS IoT "Thing policy variables",
 * https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html, and
 * "Publish/Subscribe policy examples", https://docs.aws.amazon.com/iot/latest/developerguide/pub-sub-policy.html):
 *
 * - a device publishes only on `dt/fleet/${iot:Connection.Thing.ThingName}/telemetry`, directly or
 *   through Basic Ingest (`$aws/rules/fleet_telemetry_to_stream/dt/fleet/<its id>/telemetry`), and
 *   subscribes only to `alarms/fleet/${iot:Connection.Thing.ThingName}`;
 * - an operator subscribes to `alarms/fleet/+` or to one device's `alarms/fleet/<deviceId>`, publishes
 *   alarm commands on `cmd/fleet/alarms/<deviceId>` and subscribes to their replies
 *   (`cmd/fleet/alarms/+/accepted|rejected`, or one device's); a device may do none of that: its
 *   command is refused like any other foreign topic (the connection is closed).
 *
 * Filters are compared as strings, as IoT Core's `topicfilter/...` resources are: a device asking for
 * `alarms/fleet/#` or `#` is refused even though its own alarms would match, because the filter it
 * asked for is not the one it is allowed. A device id cannot contain `/`, `+` or `#`
 * (`[A-Za-z0-9_:-]`), so an exact string match cannot be widened by a crafted id.
 */
import { alarmTopic, basicIngestTelemetryTopic, commandReplyTopic, pipeline, ruleTopicOf, telemetryTopic } from '../../pipeline.js';
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
const COMMANDS_PREFIX = pipeline.topics.commands.replace('{deviceId}', '');
/** The reply filters an operator may ask for: every device's accepted or rejected replies. */
const REPLY_FILTERS: ReadonlySet<string> = new Set([commandReplyTopic('+', 'accepted'), commandReplyTopic('+', 'rejected')]);
const REPLY_SUFFIXES = [commandReplyTopic('', 'accepted').slice(COMMANDS_PREFIX.length), commandReplyTopic('', 'rejected').slice(COMMANDS_PREFIX.length)];

/** The device id `topic` names after `prefix` (one level, a valid id), or undefined. */
function deviceIdAfter(prefix: string, topic: string, suffix = ''): string | undefined {
  if (!topic.startsWith(prefix) || !topic.endsWith(suffix)) return undefined;
  const id = topic.slice(prefix.length, topic.length - suffix.length);
  return TELEMETRY_LIMITS.deviceId.test(id) ? id : undefined;
}

/**
 * The one topic this principal may publish on (a device's own telemetry topic), or undefined (an
 * operator publishes on one topic per device: `canPublish` decides). The broker computes it once per
 * connection and compares strings per PUBLISH; `canPublish` gives the same answer with the reason.
 */
export function publishableTopic(principal: Principal): string | undefined {
  return principal.role === 'operator' ? undefined : telemetryTopic(principal.deviceId);
}

/**
 * May this principal publish on `topic`? A Basic Ingest topic is judged by the topic the rule sees
 * (`ruleTopicOf`), so a device may use Basic Ingest for its own telemetry only, as the device
 * policy allows on AWS. An operator publishes alarm commands only, and not through Basic Ingest.
 */
export function canPublish(principal: Principal, topic: string): AclDecision {
  if (principal.role === 'operator') {
    if (deviceIdAfter(COMMANDS_PREFIX, topic) !== undefined) return ALLOWED;
    return { allowed: false, reason: `an operator may publish only alarm commands on ${pipeline.topics.commands}` };
  }
  const allowed = publishableTopic(principal);
  if (ruleTopicOf(topic) === allowed) return ALLOWED;
  return { allowed: false, reason: `a device may publish only on ${allowed} or ${basicIngestTelemetryTopic(principal.deviceId)}` };
}

/** May this principal subscribe to `filter`? */
export function canSubscribe(principal: Principal, filter: string): AclDecision {
  if (principal.role === 'operator') {
    if (filter === pipeline.topics.alarmsFilter || REPLY_FILTERS.has(filter)) return ALLOWED;
    if (deviceIdAfter(ALARMS_PREFIX, filter) !== undefined) return ALLOWED;
    if (REPLY_SUFFIXES.some((suffix) => deviceIdAfter(COMMANDS_PREFIX, filter, suffix) !== undefined)) return ALLOWED;
    return {
      allowed: false,
      reason: `an operator may subscribe only to ${pipeline.topics.alarmsFilter}, ${pipeline.topics.alarms}, or the command replies ${pipeline.topics.commandAccepted} and ${pipeline.topics.commandRejected} (one device or +)`,
    };
  }
  if (filter === alarmTopic(principal.deviceId)) return ALLOWED;
  return { allowed: false, reason: `a device may subscribe only to ${alarmTopic(principal.deviceId)}` };
}
