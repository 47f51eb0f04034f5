/**
 * Reads and validates a thresholds file (config/thresholds.json by default). Used at cold start by the
 * alarms and offline functions, at local start-up and on each change the local stack sees, at synth
 * and in tests: a bad file fails there, naming the path, the rule and the field.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../domain/errors.js';
import type { ThresholdRules } from '../domain/thresholds.js';
import { safeParseThresholds } from '../domain/thresholds.js';

/**
 * The validated rules of the thresholds file at `path` (read synchronously: it runs once, at start).
 * @throws ConfigError naming the path: missing or unreadable file, not JSON, or the rules' problems.
 */
export function loadThresholdsFile(path: string): ThresholdRules {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw unreadableThresholdsFile(path, error);
  }
  return parseThresholdsText(text, path);
}

/** The error for a thresholds file that could not be read: `not found`, or the system's code. */
export function unreadableThresholdsFile(path: string, error: unknown): ConfigError {
  const code = (error as NodeJS.ErrnoException).code;
  const what = code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? String(error)})`;
  return new ConfigError(`thresholds file ${path}: ${what}`, { cause: error });
}

/**
 * The validated rules of a thresholds file's text (read by the caller: the local stack's watcher reads
 * it without blocking).
 * @throws ConfigError naming the path: not JSON, or the rules' problems (rule and field).
 */
export function parseThresholdsText(text: string, path: string): ThresholdRules {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`thresholds file ${path}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  const result = safeParseThresholds(json);
  if (!result.success) {
    throw new ConfigError(`thresholds file ${path}: ${result.error.message}`, { cause: result.error });
  }
  return result.data;
}
