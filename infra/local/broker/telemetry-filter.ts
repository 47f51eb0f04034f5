/** Which topics are telemetry: the pipeline's telemetry filter, compiled once to a regular expression. */
import { pipeline } from '../../pipeline.js';

const telemetryPattern = new RegExp(
  `^${pipeline.topics.telemetryFilter
    .split('/')
    .map((level) => (level === '+' ? '[^/]+' : level.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/')}$`,
);

/** Whether `topic` matches the pipeline's telemetry filter (`dt/fleet/+/telemetry`). */
export function matchesTelemetryFilter(topic: string): boolean {
  return telemetryPattern.test(topic);
}
