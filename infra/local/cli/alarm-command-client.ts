/**
 * One alarm command over MQTT, as an operator sends it: subscribe to the device's accepted and
 * rejected reply topics, publish the command with a fresh `clientToken`, wait for the reply carrying
 * that token. The same on the local broker and on AWS IoT Core (only the connection differs), and
 * what `npm run alarms` and the end-to-end tests use.
 */
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { commandReplyTopic, commandTopic } from '../../pipeline.js';
import { CommandFailedError } from '../../cli/cli-support.js';
import type { AlarmCommand } from '../../../lambdas/domain/alarm-command.js';

/** A reply as published on `cmd/fleet/alarms/{deviceId}/accepted|rejected`. */
export interface CommandReply {
  readonly outcome: 'accepted' | 'rejected';
  readonly topic: string;
  readonly body: {
    readonly clientToken?: string;
    readonly deviceId?: string;
    readonly ruleId?: string;
    readonly action?: string;
    readonly state?: string;
    readonly reason?: string;
    readonly [key: string]: unknown;
  };
}

/** No reply with our token arrived in time. */
export class NoCommandReplyError extends CommandFailedError {}

export const DEFAULT_REPLY_TIMEOUT_MS = 10_000;

/**
 * Sends `command` about `deviceId` and resolves with its reply. The token is the command's own if
 * it has one, otherwise a new UUID; replies to other commands (other operators share the topics)
 * are ignored. Rejects with NoCommandReplyError after `timeoutMs`.
 */
export async function sendAlarmCommand(
  client: MqttClient,
  deviceId: string,
  command: AlarmCommand,
  options: { readonly timeoutMs?: number } = {},
): Promise<CommandReply> {
  const clientToken = command.clientToken ?? randomUUID();
  const topics = { accepted: commandReplyTopic(deviceId, 'accepted'), rejected: commandReplyTopic(deviceId, 'rejected') };
  const timeoutMs = options.timeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
  let onMessage: ((topic: string, payload: Buffer) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const reply = new Promise<CommandReply>((resolve, reject) => {
    onMessage = (topic, payload) => {
      const outcome = topic === topics.accepted ? 'accepted' : topic === topics.rejected ? 'rejected' : undefined;
      if (outcome === undefined) return;
      let body: CommandReply['body'];
      try {
        body = JSON.parse(payload.toString('utf8')) as CommandReply['body'];
      } catch {
        return;
      }
      if (body?.clientToken === clientToken) resolve({ outcome, topic, body });
    };
    timer = setTimeout(() => reject(new NoCommandReplyError(`no reply to the ${command.action} command on ${topics.accepted} or ${topics.rejected} within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  client.on('message', onMessage!);
  try {
    // Subscribed before publishing: a reply that came first would be lost (MQTT keeps nothing for us).
    const granted = await client.subscribeAsync([topics.accepted, topics.rejected], { qos: 1 }).catch((cause: unknown) => {
      throw new CommandFailedError(`the broker refused the subscription to the replies (${String(cause)}): is this an operator account?`, { cause });
    });
    const refused = granted.filter((g) => g.qos === 0x80).map((g) => g.topic);
    if (refused.length > 0) throw new CommandFailedError(`the broker refused the subscription to ${refused.join(', ')}: is this an operator account?`);
    await client.publishAsync(commandTopic(deviceId), JSON.stringify({ ...command, clientToken }), { qos: 1 });
    return await reply;
  } finally {
    clearTimeout(timer);
    client.off('message', onMessage!);
  }
}
