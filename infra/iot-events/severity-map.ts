/**
 * IoT Events severities (a non-negative integer, 0 to 2,147,483,647) to ours (critical, major, minor,
 * warning, info). AWS's API reference does not say which end of the range is the severe one
 * (https://docs.aws.amazon.com/iotevents/latest/apireference/API_DescribeAlarmModel.html), so the default
 * follows the usual convention that a lower number is more urgent (syslog, most paging tools), and
 * `--severity-map` replaces it (docs/migrating-from-iot-events.md, "Severity").
 */
import { SEVERITIES, type Severity } from '../../lambdas/domain/model.js';

/** An inclusive range of IoT Events severities and the severity it maps to; `to` undefined is open-ended. */
export interface SeverityRange {
  readonly from: number;
  readonly to: number | undefined;
  readonly severity: Severity;
}

export type SeverityMap = readonly SeverityRange[];

const MAX_IOT_EVENTS_SEVERITY = 2_147_483_647;

/** The text form of the default map, as `--severity-map` takes it. */
export const DEFAULT_SEVERITY_MAP_TEXT = '0-1=critical,2=major,3=minor,4=warning,5+=info';

/** The severity of a model that has none (IoT Events makes it optional). */
export const SEVERITY_WHEN_MISSING: Severity = 'warning';

/** A `--severity-map` that cannot be read; the message names the entry and why. */
export class SeverityMapError extends Error {
  override readonly name = 'SeverityMapError';
}

function parseBound(text: string, entry: string): number {
  if (!/^\d+$/.test(text) || Number(text) > MAX_IOT_EVENTS_SEVERITY) {
    throw new SeverityMapError(`severity map entry "${entry}": ${text} is not an integer from 0 to ${MAX_IOT_EVENTS_SEVERITY}`);
  }
  return Number(text);
}

function parseEntry(entry: string): SeverityRange {
  const match = /^\s*(\d+)\s*(?:(\+)|-\s*(\d+))?\s*=\s*([a-z]+)\s*$/.exec(entry);
  if (match === null) throw new SeverityMapError(`severity map entry "${entry}": expected N=severity, N-M=severity or N+=severity`);
  const [, fromText = '', plus, toText, name = ''] = match;
  if (!(SEVERITIES as readonly string[]).includes(name)) {
    throw new SeverityMapError(`severity map entry "${entry}": "${name}" is not one of ${SEVERITIES.join(', ')}`);
  }
  const from = parseBound(fromText, entry);
  const to = plus !== undefined ? undefined : toText !== undefined ? parseBound(toText, entry) : from;
  if (to !== undefined && to < from) throw new SeverityMapError(`severity map entry "${entry}": the range ends before it starts`);
  return { from, to, severity: name as Severity };
}

function overlaps(a: SeverityRange, b: SeverityRange): boolean {
  const aEnd = a.to ?? Number.POSITIVE_INFINITY;
  const bEnd = b.to ?? Number.POSITIVE_INFINITY;
  return a.from <= bEnd && b.from <= aEnd;
}

function formatRange(range: SeverityRange): string {
  if (range.to === undefined) return `${range.from}+`;
  return range.to === range.from ? `${range.from}` : `${range.from}-${range.to}`;
}

/**
 * Reads `0-1=critical,2=major,5+=info`: comma-separated entries, each a single severity, an inclusive
 * range or an open-ended one, mapped to one of ours. Ranges must not overlap; gaps are allowed (a model
 * whose severity falls in one is reported as not converted).
 * @throws SeverityMapError naming the entry at fault.
 */
export function parseSeverityMap(text: string): SeverityMap {
  const entries = text.split(',').filter((entry) => entry.trim() !== '');
  if (entries.length === 0) throw new SeverityMapError('severity map is empty');
  const ranges = entries.map(parseEntry);
  ranges.forEach((range, index) => {
    const other = ranges.slice(0, index).find((earlier) => overlaps(earlier, range));
    if (other !== undefined) throw new SeverityMapError(`severity map: ${formatRange(range)} overlaps ${formatRange(other)}`);
  });
  return [...ranges].sort((a, b) => a.from - b.from);
}

/** The map as `--severity-map` would take it, for the report. */
export function formatSeverityMap(map: SeverityMap): string {
  return map.map((range) => `${formatRange(range)}=${range.severity}`).join(',');
}

export const DEFAULT_SEVERITY_MAP: SeverityMap = parseSeverityMap(DEFAULT_SEVERITY_MAP_TEXT);

/** Our severity for an IoT Events severity, or undefined when the map has no range for it. */
export function mapSeverity(map: SeverityMap, severity: number): Severity | undefined {
  return map.find((range) => severity >= range.from && (range.to === undefined || severity <= range.to))?.severity;
}
