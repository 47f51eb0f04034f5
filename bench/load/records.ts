/**
 * The records and readings the in-process sections feed the use cases and the store with: the same
 * on every run, so that a run differs from another only in time.
 */
import { telemetryTopic } from '../../infra/pipeline.js';
import type { Reading, StreamRecord } from '../../lambdas/domain/model.js';

/** Event time of the first reading (2025-11-25T00:00:00Z): fixed, so every run has the same data. */
export const RECORDS_START = 1_764_028_800_000;

/**
 * Realistic records: `devices` env sensors and cold-chain loggers in turn, each reading a second apart
 * with seq, three or four metrics, and temperatures that now and then cross the rules' bounds so
 * alarms are raised and cleared along the way.
 */
export function makeRecords(count: number, devices: number): StreamRecord[] {
  const records: StreamRecord[] = [];
  for (let i = 0; i < count; i += 1) {
    const device = i % devices;
    const seq = Math.floor(i / devices);
    const deviceId = `sensor-${String(device).padStart(5, '0')}`;
    const coldChain = device % 4 === 0;
    const wave = Math.sin((seq + device) / 7);
    const ts = RECORDS_START + seq * 1000;
    const message = coldChain
      ? { ts, seq, type: 'cold-chain', metrics: { temperature: round(5 + 4 * wave), battery: round(3.6 - seq / 2000) } }
      : { ts, seq, type: 'env-sensor', metrics: { temperature: round(70 + 15 * wave), humidity: round(40 + 10 * wave), battery: round(3.7 - (device % 9) / 20) } };
    const envelope = {
      payload: Buffer.from(JSON.stringify(message)).toString('base64'),
      topic: telemetryTopic(deviceId),
      clientId: deviceId,
      receivedAt: ts + 40,
    };
    records.push({
      ref: { shardId: 'shardId-000000000000', sequenceNumber: String(49_000_000_000 + i), partitionKey: deviceId, approximateArrivalTimestamp: ts + 50 },
      data: new TextEncoder().encode(JSON.stringify(envelope)),
    });
  }
  return records;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Readings as the ingest consumer writes them: devices in turn, each a reading a second apart. */
export function makeReadings(count: number, devices: number): Reading[] {
  const readings: Reading[] = [];
  for (let i = 0; i < count; i++) {
    const device = i % devices;
    const seq = Math.floor(i / devices);
    const ts = RECORDS_START + seq * 1000 + device;
    readings.push({
      deviceId: `sensor-${String(device).padStart(5, '0')}`,
      ts,
      seq,
      type: 'env-sensor',
      metrics: { temperature: round(20 + Math.sin(i / 50) * 5), humidity: round(40 + (i % 17)), battery: round(3.7 - (device % 9) / 20) },
      receivedAt: ts + 40,
    });
  }
  return readings;
}
