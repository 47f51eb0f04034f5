/** One MQTT message as the rules engine sees it. */
export interface RuleMessage {
  readonly topic: string;
  /** The payload bytes exactly as published (JSON or not). */
  readonly payload: Uint8Array;
  /** MQTT client id; empty when the message did not come over MQTT (`clientid()` then gives "n/a"). */
  readonly clientId: string;
  /** When the rules engine received the message, epoch ms (`timestamp()`). */
  readonly timestamp: number;
}

/**
 * What a rule makes of one message. `output` is the value the action receives: a JSON value (object,
 * array, string, number, boolean, null), a `Uint8Array` when `SELECT *` passes a non-JSON payload
 * through as raw bytes, or `undefined` when `SELECT VALUE` gave Undefined. Serialize it with
 * `ruleOutputBytes`.
 */
export type RuleResult = { readonly matched: false } | { readonly matched: true; readonly output: unknown };

/** A rule statement parsed and compiled once, evaluated for every message. */
export interface CompiledRule {
  /** The statement as given. */
  readonly sql: string;
  /** The FROM topic or topic filter (without quotes). */
  readonly topicFilter: string;
  /** Whether a message published on `topic` reaches this rule (MQTT topic filter matching). */
  matchesTopic(topic: string): boolean;
  /**
   * Not matched when the topic does not match FROM or WHERE is not exactly Boolean true.
   * Never throws, whatever the payload bytes.
   */
  evaluate(message: RuleMessage): RuleResult;
  /**
   * What the action receives for `message`: exactly `ruleOutputBytes(output)` of a matched
   * `evaluate`, or undefined when the rule does not match. For `SELECT a, b AS c, ...` (no `VALUE`,
   * no `*`) the JSON text is written directly, without building and serializing the object, and the
   * payload is parsed only if an item reads it. Never throws.
   */
  evaluateToBytes(message: RuleMessage): Uint8Array | undefined;
}

/** A compiled substitution template: the text with every `${expr}` replaced. Never throws. */
export type CompiledTemplate = (message: RuleMessage) => string;
