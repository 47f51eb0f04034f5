import { describe, it, expect, afterEach } from 'vitest';
import { RetryableError } from '../../../lambdas/domain/errors.js';
import type { Log } from '../../../lambdas/ports/observability.js';
import { WebhookNotifier } from '../../../lambdas/adapters/local/webhook-notifier.js';
import { anAlarmEvent, T0 } from '../../contract/fixtures.js';
import type { HttpRig } from '../../contract/transports.js';
import { startHttpRig } from '../../contract/transports.js';

function recordingLog(): Log & { lines: { level: string; message: string; extra?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; extra?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => void lines.push({ level, message, extra });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('WebhookNotifier', () => {
  let rig: HttpRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });
  const fast = { backoffMs: 1 };

  it('POSTs each event as one JSON object with an idempotency key', async () => {
    rig = await startHttpRig();
    const event = anAlarmEvent();

    await new WebhookNotifier({ url: rig.url }).notify([event]);

    expect(rig.requests).toHaveLength(1);
    const [request] = rig.requests;
    expect(request).toMatchObject({ method: 'POST', url: '/alarms' });
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['idempotency-key']).toBe(`sensor-0001/overheat/${T0}/ALARM`);
    expect(JSON.parse(request?.body ?? '')).toEqual(event);
  });

  it('retries a 5xx until it is accepted', async () => {
    rig = await startHttpRig((i) => (i < 2 ? 503 : 200));

    await new WebhookNotifier({ url: rig.url, retries: 3, ...fast }).notify([anAlarmEvent()]);

    expect(rig.requests).toHaveLength(3);
    expect(new Set(rig.requests.map((r) => r.body)).size).toBe(1);
  });

  it.each([408, 429])('retries a %i like a 5xx', async (status) => {
    rig = await startHttpRig((i) => (i === 0 ? status : 204));

    await new WebhookNotifier({ url: rig.url, ...fast }).notify([anAlarmEvent()]);

    expect(rig.requests).toHaveLength(2);
  });

  it('throws RetryableError after the retries, and sends none of the later events', async () => {
    rig = await startHttpRig(() => 500);
    const notifier = new WebhookNotifier({ url: rig.url, retries: 2, ...fast });

    const call = notifier.notify([anAlarmEvent(), anAlarmEvent({ ts: T0 + 1 })]);

    await expect(call).rejects.toBeInstanceOf(RetryableError);
    await expect(notifier.notify([anAlarmEvent()])).rejects.toThrow(
      `webhook ${rig.url}: alarm sensor-0001/overheat/${T0}/ALARM not delivered after 3 attempts (HTTP 500)`,
    );
    expect(rig.requests.filter((r) => JSON.parse(r.body).ts === T0 + 1)).toEqual([]);
  });

  it('retries a dropped connection, then gives up with the network error as cause', async () => {
    rig = await startHttpRig(() => 'drop');

    const call = new WebhookNotifier({ url: rig.url, retries: 1, ...fast }).notify([anAlarmEvent()]);

    const err: unknown = await call.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toMatch(/after 2 attempts \(network error: /);
    expect((err as Error).cause).toBeInstanceOf(Error);
    expect(rig.requests).toHaveLength(2);
  });

  it('gives up on a receiver that does not answer within timeoutMs', async () => {
    rig = await startHttpRig(() => 'hang');

    const call = new WebhookNotifier({ url: rig.url, retries: 0, timeoutMs: 50 }).notify([anAlarmEvent()]);

    await expect(call).rejects.toThrow(/after 1 attempts \(network error: .*(timeout|aborted)/i);
  });

  it('logs a 4xx refusal, does not retry it, and goes on with the next event', async () => {
    rig = await startHttpRig((i) => (i === 0 ? 400 : 204));
    const log = recordingLog();
    const second = anAlarmEvent({ ts: T0 + 1 });

    await new WebhookNotifier({ url: rig.url, log, ...fast }).notify([anAlarmEvent(), second]);

    expect(rig.requests.map((r) => JSON.parse(r.body).ts)).toEqual([T0, T0 + 1]);
    expect(log.lines).toEqual([
      {
        level: 'warn',
        message: 'webhook refused an alarm event; not retried',
        extra: { url: rig.url, status: 400, alarmId: 'sensor-0001/overheat', ts: T0 },
      },
    ]);
  });

  it('waits a jittered, doubling backoff between attempts', async () => {
    const waits: number[] = [];
    let last = 0;
    const fetchAt: typeof fetch = async () => {
      const now = performance.now();
      if (last !== 0) waits.push(now - last);
      last = now;
      return new Response(null, { status: 502 });
    };

    const call = new WebhookNotifier({ url: 'http://127.0.0.1:9/never', fetch: fetchAt, retries: 3, backoffMs: 20, random: () => 1 }).notify([
      anAlarmEvent(),
    ]);

    await expect(call).rejects.toBeInstanceOf(RetryableError);
    // random() = 1 gives the full bound of each wait: 20, 40, 80 ms (timers fire at or after their delay).
    expect(waits).toHaveLength(3);
    waits.forEach((w, i) => expect(w).toBeGreaterThanOrEqual(20 * 2 ** i - 2));
  });
});
