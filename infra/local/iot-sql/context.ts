import type { RuleMessage } from './types.js';

// fatal: bytes that are not UTF-8 are not JSON, so they stay raw bytes (a lenient decoder would
// replace them with U+FFFD and might accept a corrupted payload as JSON).
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Deepest JSON nesting we parse. A 128 KiB payload can nest 65,536 levels, and comparing or
 * serializing that recurses past the call stack; AWS documents no limit, so ours is a choice: a
 * payload nested deeper is treated like one that is not JSON (raw bytes, fields Undefined).
 */
export const MAX_JSON_DEPTH = 512;

/** Whether brackets outside strings nest deeper than MAX_JSON_DEPTH (a linear scan, cheaper than parsing). */
function nestsTooDeep(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* backslash: skip the escaped character */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > MAX_JSON_DEPTH) return true;
    } else if (c === 93 /* ] */ || c === 125 /* } */) {
      depth--;
    }
  }
  return false;
}

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
      this.value = this.message.payload;
      try {
        const text = utf8.decode(this.message.payload);
        if (!nestsTooDeep(text)) this.value = JSON.parse(text);
      } catch {
        // Not UTF-8 or not JSON: the raw bytes stay the payload value.
      }
    }
    return this.value;
  }
}

/** A compiled expression. */
export type Evaluator = (ctx: EvalContext) => unknown;
