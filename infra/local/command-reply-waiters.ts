/**
 * Commands the stack itself sends (the console's) wait for their reply the way an operator's client
 * does: by the `clientToken` on `cmd/fleet/alarms/{deviceId}/accepted|rejected`. The stack offers
 * every reply the broker publishes; a waiter takes the one carrying its token.
 */
import { randomUUID } from 'node:crypto';
import { commandReplyTopic } from '../pipeline.js';
import { DEFAULT_REPLY_TIMEOUT_MS, NoCommandReplyError } from './cli/alarm-command-client.js';
import type { CommandReply } from './cli/alarm-command-client.js';
import type { AlarmCommand } from '../../lambdas/domain/alarm-command.js';

interface Waiter {
  readonly deviceId: string;
  resolve(reply: CommandReply): void;
}

export class CommandReplyWaiters {
  private readonly waiting = new Map<string, Waiter>();

  /** A fresh token for `command`, and the promise of its reply (NoCommandReplyError after `timeoutMs`). */
  expect(deviceId: string, command: AlarmCommand, timeoutMs = DEFAULT_REPLY_TIMEOUT_MS): { clientToken: string; reply: Promise<CommandReply> } {
    const clientToken = command.clientToken ?? randomUUID();
    const reply = new Promise<CommandReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(clientToken);
        reject(new NoCommandReplyError(`no reply to the ${command.action} command within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      timer.unref();
      this.waiting.set(clientToken, {
        deviceId,
        resolve: (value) => {
          clearTimeout(timer);
          this.waiting.delete(clientToken);
          resolve(value);
        },
      });
    });
    return { clientToken, reply };
  }

  /** Hands a published reply to its waiter, if any waits for it. Anything else is ignored. */
  offer(topic: string, payload: Buffer): void {
    if (this.waiting.size === 0) return;
    let body: CommandReply['body'];
    try {
      body = JSON.parse(payload.toString('utf8')) as CommandReply['body'];
    } catch {
      return;
    }
    const waiter = typeof body?.clientToken === 'string' ? this.waiting.get(body.clientToken) : undefined;
    if (waiter === undefined) return;
    for (const outcome of ['accepted', 'rejected'] as const) {
      if (topic === commandReplyTopic(waiter.deviceId, outcome)) waiter.resolve({ outcome, topic, body });
    }
  }
}
