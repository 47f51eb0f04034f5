/**
 * The stack's consumers in their two homes: the worker thread (the default) and the broker's own
 * thread (`consumers: 'in-process'`, implied by a custom clock). Same composition, same results.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmEvent } from '../../lambdas/domain/model.js';
import { pipeline, telemetryTopic } from '../../infra/pipeline.js';
import { startLocalStack } from '../../infra/local/stack.js';
import { silentLog } from '../../lambdas/ports/observability.js';
import { parseThresholds } from '../../lambdas/domain/thresholds.js';
import { collect, startTestStack, type TestStack } from '../helpers/local-stack.js';

const RULES = {
  rules: [
    { id: 'overheat', metric: 'temperature', when: { above: 80 }, clear: { below: 75 }, severity: 'critical' },
    { id: 'silent', when: { silentFor: { seconds: 60 } }, severity: 'major' },
  ],
};

describe('the consumers of the local stack', () => {
  let t: TestStack | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it.each(['worker', 'in-process'] as const)('store readings, publish alarm events and count them when they run %s', async (mode) => {
    t = await startTestStack(RULES, { consumers: mode });
    const operator = await t.connect('ops', { role: 'operator' });
    await operator.subscribeAsync(pipeline.topics.alarmsFilter, { qos: 1 });
    const alarms = collect<AlarmEvent>(operator);
    const device = await t.connect('boiler-1');
    const now = Date.now();

    for (const [seq, temperature] of [70, 85].entries()) {
      await device.publishAsync(telemetryTopic('boiler-1'), JSON.stringify({ ts: now + seq, seq, metrics: { temperature } }), { qos: 1 });
    }
    await t.stack.whenIdle();

    expect(t.stack.store.queryReadings({ deviceId: 'boiler-1', order: 'asc' }).map((r) => r.metrics.temperature)).toEqual([70, 85]);
    expect((await alarms.until(1)).map((e) => `${e.alarmId} ${e.state}`)).toEqual(['boiler-1/overheat ALARM']);
    expect(t.stack.metrics.get('ReadingsStored')).toBe(2);
    const description = t.stack.stream.describe();
    expect(description.consumers.map((c) => [c.consumer, c.lagRecords])).toEqual([
      ['alarms', 0],
      ['ingest', 0],
    ]);
  });

  it('with a custom clock runs them in-process, where the silent-device check follows that clock', async () => {
    let now = Date.now();
    t = await startTestStack(RULES, { clock: { now: () => now } });
    const device = await t.connect('quiet-1');
    await device.publishAsync(telemetryTopic('quiet-1'), JSON.stringify({ ts: now, seq: 1, metrics: { temperature: 20 } }), { qos: 1 });
    await t.stack.whenIdle();

    expect(await t.stack.checkSilence()).toMatchObject({ raised: 0 });
    // The window (60 s) plus the 60 s by which the stored lastSeen may trail the newest reading.
    now += 119_000;
    expect(await t.stack.checkSilence()).toMatchObject({ raised: 0 });
    now += 2_000;
    expect(await t.stack.checkSilence()).toMatchObject({ raised: 1 });
    expect(t.stack.store.queryAlarmStates({ deviceId: 'quiet-1', state: 'ALARM' }).map((a) => a.ruleId)).toEqual(['silent']);
  });

  it('refuses a custom clock with consumers in the worker, in one sentence', async () => {
    await expect(
      startLocalStack({
        dataDir: '/nonexistent-never-created',
        thresholds: parseThresholds(RULES),
        log: silentLog,
        consumers: 'worker',
        clock: { now: () => 0 },
      }),
    ).rejects.toThrow(/custom clock needs consumers: 'in-process'/);
  });
});
