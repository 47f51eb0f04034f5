/**
 * A stream backlog for bench/consumers.ts, appended through the pipeline's own rule action, as the
 * broker would for each PUBLISH (so the records are the exact envelope the broker path writes):
 * env-sensor readings with seq, ts, temperature, humidity and battery; a few devices run hot or low
 * on battery, so the alarm rules of config/thresholds.json raise and clear alarms.
 */
import { pipeline, telemetryTopic } from '../../infra/pipeline.js';
import { makeKinesisRuleAction } from '../../infra/local/rule-action.js';
import type { LocalStream } from '../../infra/local/stream/index.js';
import { silentLog } from '../../lambdas/ports/observability.js';

/** Appends issued before waiting for their commit: about one group commit each. */
const APPEND_WAVE = 2_000;

/** The payload device `device` sends as its `seq`-th reading, at event time `ts`. */
function envSensorPayload(device: number, seq: number, ts: number): Buffer {
  const wave = Math.sin((seq + device) / 7);
  // One device in 25 runs hot (crosses the overheat rule's 80 and its clear bound 75 every ~40 s);
  // one in 100 has a failing battery (below battery-low's 3.3); the rest idle near room temperature.
  const temperature = device % 25 === 0 ? 72 + 12 * wave : 21 + 2 * wave;
  const battery = device % 100 === 7 ? 3.2 + 0.2 * wave : 3.7 - (device % 9) / 50;
  const message = {
    ts,
    seq,
    type: 'env-sensor',
    metrics: { temperature: round2(temperature), humidity: round2(45 + 8 * wave), battery: round2(battery) },
  };
  return Buffer.from(JSON.stringify(message));
}

/** Appends the backlog through the pipeline's rule action, as the broker would for each PUBLISH. */
export async function appendBacklog(stream: LocalStream, records: number, devices: number): Promise<void> {
  const action = makeKinesisRuleAction({ sql: pipeline.rule.sql, partitionKey: pipeline.rule.partitionKey, stream, log: silentLog });
  const perDevice = Math.ceil(records / devices);
  // Event time ends about now, one reading per device per second (ts must not be in the future).
  const start = Date.now() - perDevice * 1_000;
  let pending: Promise<void>[] = [];
  for (let i = 0; i < records; i++) {
    const device = i % devices;
    const seq = Math.floor(i / devices);
    const ts = start + seq * 1_000;
    const deviceId = `sensor-${String(device).padStart(5, '0')}`;
    const appended = action({ topic: telemetryTopic(deviceId), payload: envSensorPayload(device, seq, ts), clientId: deviceId, timestamp: ts + 40 });
    if (appended === undefined) throw new Error(`the rule did not append the reading of ${deviceId}`);
    pending.push(appended);
    if (pending.length === APPEND_WAVE) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
