import type { RuleMessage } from './types.js';

// fatal: bytes that are not UTF-8 are not JSON, so they stay raw bytes (a lenient decoder would
// replace them with U+FFFD and might accept a corrupted payload as JSON).
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One message being evaluated. The payload is parsed at most once, and only if a part of the rule reads it. */
export class EvalContext {
  private parsed = false;
  private value: unknown = undefined;

  constructor(readonly message: RuleMessage) {}

  /**
   * The payload as an IoT value: the parsed JSON value, or the raw bytes (`Uint8Array`) when the
   * payload is not UTF-8 JSON ("If the message payload is not in JSON format, `*` returns the entire
   * message payload as raw bytes" [iot iot-sql-json]).
   */
  payload(): unknown {
    if (!this.parsed) {
      this.parsed = true;
      try {
        this.value = JSON.parse(utf8.decode(this.message.payload));
      } catch {
        this.value = this.message.payload;
      }
    }
    return this.value;
  }
}

/** A compiled expression. */
export type Evaluator = (ctx: EvalContext) => unknown;
