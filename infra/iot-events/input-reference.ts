/**
 * The parts of IoT Events' expression language an alarm model's simple rule uses: an input reference
 * `$input.<InputName>.<path>` (an element that is not a plain identifier in backticks) and a number
 * literal, bare or in single quotes (https://docs.aws.amazon.com/iotevents/latest/developerguide/expression-reference.html,
 * https://docs.aws.amazon.com/iotevents/latest/developerguide/expression-usage.html). Our readings
 * are flat (`metrics.<name>`), so an input reference becomes the metric named by its last element.
 */
import { TELEMETRY_LIMITS } from '../../lambdas/domain/model.js';

/** `$input.TemperatureInput.sensorData.temperature` read apart. */
export interface InputReference {
  readonly text: string;
  readonly inputName: string;
  readonly path: readonly string[];
  /** The last path element: the metric it becomes. */
  readonly metric: string;
}

const INPUT_PREFIX = /^\$input\.(`[^`]+`|[A-Za-z0-9_-]+)\.(.+)$/;
const PATH_ELEMENT = /^(?:`([^`]+)`|([A-Za-z0-9_-]+))$/;
const NUMBER_LITERAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function unquote(element: string): string | undefined {
  const match = PATH_ELEMENT.exec(element);
  return match === null ? undefined : (match[1] ?? match[2]);
}

/** Splits on the dots outside backticks. */
function splitPath(path: string): string[] {
  const elements: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of path) {
    if (char === '`') quoted = !quoted;
    if (char === '.' && !quoted) {
      elements.push(current);
      current = '';
    } else current += char;
  }
  elements.push(current);
  return elements;
}

/** The reference, or a reason it is not one we can map (not `$input.`, an array index, an odd name). */
export function parseInputReference(text: string): InputReference | string {
  const trimmed = text.trim();
  const match = INPUT_PREFIX.exec(trimmed);
  if (match === null) return `"${text}" is not an input reference ($input.<InputName>.<path>)`;
  const inputName = unquote(match[1] ?? '');
  const path = splitPath(match[2] ?? '').map(unquote);
  if (inputName === undefined || path.some((element) => element === undefined || element === '')) {
    return `"${text}": only plain path elements (letters, digits, _ and -, or one in backticks) can be mapped to a metric; array indexes and expressions cannot`;
  }
  const elements = path as string[];
  const metric = elements[elements.length - 1] ?? '';
  if (!TELEMETRY_LIMITS.metricName.test(metric)) {
    return `"${text}": "${metric}" is not a metric name we accept (1 to 64 of [A-Za-z0-9_.-])`;
  }
  return { text: trimmed, inputName, path: elements, metric };
}

/** A number literal as IoT Events writes one (`80`, `'80'`, `-2.5e1`), or undefined. */
export function parseNumberLiteral(text: string): number | undefined {
  const trimmed = text.trim().replace(/^'(.*)'$/, '$1');
  if (!NUMBER_LITERAL.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * The attribute an alarm model's `key` names: its last path element, whether written as a path into
 * the input (`sensorData.deviceId`) or as a whole reference (`$input.Input.deviceId`).
 */
export function keyAttribute(key: string): string {
  const reference = parseInputReference(key);
  if (typeof reference !== 'string') return reference.metric;
  const elements = splitPath(key.trim());
  const last = elements[elements.length - 1] ?? key;
  return unquote(last) ?? last;
}

const DEVICE_ID_ATTRIBUTES = /^(device|thing|client)[_-]?(id|name)$/i;

/** Whether a key attribute names the device itself (deviceId, thingName, clientId and their spellings). */
export function isDeviceIdAttribute(attribute: string): boolean {
  return DEVICE_ID_ATTRIBUTES.test(attribute);
}
