import type { AlarmStatus } from '../domain/model.js';

/** How a command ended: applied (or already applied), or refused with a reason. */
export type CommandOutcome = 'accepted' | 'rejected';

/**
 * The reply published on cmd/fleet/alarms/{deviceId}/accepted or .../rejected (AWS IoT's device-shadow
 * convention). `ruleId` and `action` are null when the command was too malformed to name them.
 */
export interface CommandReplyBody {
  readonly clientToken?: string;
  readonly deviceId: string;
  readonly ruleId: string | null;
  readonly action: string | null;
  /** The alarm's state after the command (accepted), or as it stands (a refusal about a known alarm). */
  readonly state?: AlarmStatus;
  /** Why a command was refused. */
  readonly reason?: string;
}

/** Answers the operator who sent a command (IoT data plane Publish on AWS, the embedded broker locally). */
export interface CommandReplies {
  publishReply(deviceId: string, outcome: CommandOutcome, body: CommandReplyBody): Promise<void>;
}
