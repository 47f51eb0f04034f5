/**
 * The console in a real browser (Debian's chromium, driven by playwright-core) against the real local
 * stack: readings published over MQTT reach the chart, an overheat reaches the Alarms view and is
 * acknowledged with a note through the command path, a reminder shows in a device's alarm history,
 * nothing opens without the token, and values from devices are shown as text. A
 * screenshot of each view goes to test-artifacts/console/ (git-ignored).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../infra/pipeline.js';
import { startTestStack, type TestStack } from '../helpers/local-stack.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'console');
const THRESHOLDS = {
  rules: [
    { id: 'overheat', metric: 'temperature', match: { type: 'env-sensor' }, when: { above: 80 }, clear: { below: 75 }, for: { samples: 3 }, severity: 'critical' },
    { id: 'battery-low', metric: 'battery', when: { below: 3.3 }, clear: { above: 3.5 }, severity: 'warning' },
    { id: 'silent', when: { silentFor: { seconds: 300 } }, severity: 'major' },
    { id: 'pressure-high', metric: 'pressure', when: { above: 10 }, remindEvery: { seconds: 1 }, severity: 'minor' },
  ],
};
/** Markup a device could send as its payload; the page must show it, never run it. */
const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';

describe('the console in a browser', () => {
  let t: TestStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let origin: string;

  const publish = (client: MqttClient, deviceId: string, reading: Record<string, unknown>) =>
    client.publishAsync(telemetryTopic(deviceId), JSON.stringify({ type: 'env-sensor', ...reading }), { qos: 1 });
  const show = async (view: string) => {
    await page.goto(`${origin}/#/${view}`);
  };
  const screenshot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [t, browser] = await Promise.all([
      // The scheduled check (silence, reminders) every 200 ms: a reminder due each second shows soon.
      startTestStack(THRESHOLDS, { httpPort: 0, offlineCheckIntervalMs: 200 }),
      chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      }),
    ]);
    origin = `http://127.0.0.1:${t.stack.httpPort}`;
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    // The printed link: sets the cookie, then the console loads without the token in the URL.
    const res = await page.goto(t.stack.consoleUrl as string);
    expect(res?.status()).toBe(200);
    expect(page.url()).toBe(`${origin}/`);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('refuses the page, the API and the event stream to a browser without the token', async () => {
    const stranger = await browser.newContext();
    try {
      const tab = await stranger.newPage();
      const pageRes = await tab.goto(`${origin}/`);
      expect(pageRes?.status()).toBe(401);
      expect(await tab.textContent('h1')).toBe('Token required');
      const statuses = await tab.evaluate(async () =>
        Promise.all(['/api/overview', '/api/events', '/assets/console.js'].map(async (path) => (await fetch(path)).status)),
      );
      expect(statuses).toEqual([401, 401, 401]);
    } finally {
      await stranger.close();
    }
  });

  it('draws a reading published over MQTT in the device\'s chart as it arrives', async () => {
    const device = await t.connect('sensor-chart', { type: 'env-sensor' });
    await publish(device, 'sensor-chart', { ts: Date.now() - 5_000, seq: 1, metrics: { temperature: 21.5, humidity: 40 } });
    await t.stack.whenIdle();

    await show('device/sensor-chart');
    const chart = page.getByTestId('chart-temperature');
    await expect.poll(() => chart.getAttribute('data-points')).toBe('1');
    expect(await page.getByTestId('device-status').textContent()).toBe('online');

    // Published while the page is open: it arrives over the event stream.
    await publish(device, 'sensor-chart', { ts: Date.now(), seq: 2, metrics: { temperature: 23.25, humidity: 41 } });

    await expect.poll(() => chart.getAttribute('data-points'), { timeout: 10_000 }).toBe('2');
    expect(await chart.getAttribute('data-last')).toBe('23.25');
    expect(await page.getByTestId('latest-temperature').textContent()).toMatch(/^latest 23\.25 at /);
    expect(await chart.locator('.u-legend').textContent()).toContain('23.25');
    expect(await page.getByTestId('chart-humidity').getAttribute('data-points')).toBe('2');
    await screenshot('device');
  });

  it('draws every chart of a device whose metrics are named like Object.prototype members', async () => {
    const device = await t.connect('sensor-proto', { type: 'env-sensor' });
    const errors: string[] = [];
    const onError = (error: Error) => errors.push(error.message);
    page.on('pageerror', onError);
    try {
      // JSON text, not JSON.stringify of a literal: `{ __proto__: 1 }` would set the prototype.
      const now = Date.now();
      await device.publishAsync(telemetryTopic('sensor-proto'), `{"ts":${now - 2_000},"seq":1,"metrics":{"__proto__":1.5,"constructor":2.5,"toString":3.5}}`, { qos: 1 });
      await device.publishAsync(telemetryTopic('sensor-proto'), `{"ts":${now - 1_000},"seq":2,"metrics":{"valueOf":4.5,"hasOwnProperty":5.5,"temperature":20}}`, { qos: 1 });
      await t.stack.whenIdle();

      await show('device/sensor-proto');
      const expected = [['__proto__', '1.5'], ['constructor', '2.5'], ['toString', '3.5'], ['valueOf', '4.5'], ['hasOwnProperty', '5.5'], ['temperature', '20']];
      for (const [metric, last] of expected) {
        const chart = page.getByTestId(`chart-${metric}`);
        await expect.poll(() => chart.getAttribute('data-points'), { message: `chart of ${metric}` }).toBe('1');
        expect(await chart.getAttribute('data-last')).toBe(last);
      }
      expect(await page.locator('[data-testid^="chart-"]').count()).toBe(6);
      expect(errors).toEqual([]);
    } finally {
      page.off('pageerror', onError);
    }
  });

  it('shows an overheat in the Alarms view, acknowledges it with a note through the command path, and shows who and why after a reload', async () => {
    const device = await t.connect('sensor-hot', { type: 'env-sensor' });
    await show('alarms?device=sensor-hot');
    await expect.poll(() => page.getByTestId('active-alarms-empty').count()).toBe(1);

    const t0 = Date.now() - 3_000;
    for (const [seq, temperature] of [81, 82, 83].entries()) await publish(device, 'sensor-hot', { ts: t0 + seq * 1000, seq, metrics: { temperature } });

    const row = page.getByTestId('active-alarms').locator('tr', { hasText: 'overheat' });
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain('critical');
    expect(await row.getByTestId('alarm-state').textContent()).toBe('ALARM');
    // ALARM offers acknowledge, snooze, disable and reset; not enable.
    expect(await row.getByTestId('command-enable').count()).toBe(0);
    await page.getByTestId('command-note').fill('fan replaced');
    await row.getByTestId('command-acknowledge').click();
    await expect.poll(() => row.getByTestId('alarm-state').textContent(), { timeout: 10_000 }).toBe('ACKNOWLEDGED');

    await page.reload();
    const acknowledged = page.getByTestId('active-alarms').locator('tr', { hasText: 'overheat' });
    await acknowledged.getByTestId('alarm-by').waitFor();
    expect(await acknowledged.getByTestId('alarm-by').textContent()).toBe('console “fan replaced”');
    expect(await acknowledged.getByTestId('command-acknowledge').count()).toBe(0);
    const history = page.getByTestId('alarm-history');
    expect(await history.getByTestId('history-command').first().textContent()).toBe('command acknowledge: accepted');
    expect(await history.locator('tr', { hasText: 'ACKNOWLEDGED' }).first().textContent()).toContain('(acknowledge)');
    await screenshot('alarms');
  });

  it('shows a command the handler refuses with its reason, reminders in a device\'s alarm history, and until when a snooze runs', async () => {
    const device = await t.connect('tank-1', { type: 'tank' });
    await device.publishAsync(telemetryTopic('tank-1'), JSON.stringify({ ts: Date.now(), seq: 1, metrics: { pressure: 12 } }), { qos: 1 });
    await show('alarms');
    await page.getByTestId('command-alarm').fill('tank-1/pressure-high');
    await page.getByTestId('command-action').selectOption('enable');
    await page.getByTestId('command-send').click();
    await expect.poll(() => page.getByTestId('command-reply').textContent(), { timeout: 10_000 }).toMatch(/^ rejected: \S/);

    await show('device/tank-1');
    await expect.poll(() => page.getByTestId('alarm-history').getByTestId('history-reminder').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await page.getByTestId('alarm-history').getByTestId('history-reminder').first().textContent()).toBe('ALARM → ALARM (reminder)');

    // Snoozed from the device's own table, for the length chosen: the row says until when.
    await page.getByTestId('snooze-seconds').selectOption('900');
    const row = page.getByTestId('active-alarms').locator('tr', { hasText: 'pressure-high' });
    await row.getByTestId('command-snooze').click();
    await expect.poll(() => row.getByTestId('alarm-state').textContent(), { timeout: 10_000 }).toBe('SNOOZED');
    expect(await row.getByTestId('snoozed-until').textContent()).toMatch(/^ until \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    await screenshot('device-history');
  });

  it('shows a hostile payload and a hostile device id as text, never as markup', async () => {
    const device = await t.connect('sensor-bad', { type: 'env-sensor' });
    await device.publishAsync(telemetryTopic('sensor-bad'), HOSTILE, { qos: 1 });
    // Device ids that reach the store through the broker are checked; this one comes in behind it.
    const hostileId = '<b>bold</b><img src=x onerror="window.__pwned=3">';
    await t.stack.store.timeSeries.write([{ deviceId: hostileId, ts: Date.now(), metrics: { temperature: 1 }, receivedAt: Date.now() }]);
    await t.stack.whenIdle();

    await show('stream');
    const rejectRow = page.getByTestId('rejects').locator('tr', { hasText: 'sensor-bad' });
    await rejectRow.waitFor();
    expect(await rejectRow.locator('td.payload code').textContent()).toBe(HOSTILE);
    await page.getByTestId('consumers').waitFor();
    expect(await page.getByTestId('headroom').textContent()).toMatch(/^accepting telemetry [\d.]+ MiB free .*, headroom 256 MiB; engaged 0 time\(s\), 0 message\(s\) refused\.$/);
    expect(await page.getByTestId('connections').textContent()).toMatch(/^\d+ connected, 0 authenticating, 0 waiting for a slot; 0 refused over the connection cap, 0 closed for an oversized packet; CONNECTs \d+ accepted, 0 refused, 0 delayed after failures\.$/);
    await screenshot('stream');

    await show('fleet');
    const link = page.getByRole('link', { name: hostileId });
    await link.waitFor();
    await link.click();
    await expect.poll(() => page.getByTestId('device-id').textContent()).toBe(hostileId);

    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('main img, main b, main script').count()).toBe(0);
  });

  it('shows the fleet: devices online and silent, active alarms by severity, the ingest rate', async () => {
    await show('fleet');
    await page.getByTestId('devices').locator('tr', { hasText: 'sensor-hot' }).waitFor();

    await expect.poll(() => page.getByTestId('card-alarms').textContent()).toMatch(/critical 1/);
    await expect.poll(() => page.getByTestId('devices').locator('tr', { hasText: 'sensor-hot' }).textContent()).toMatch(/online.*critical/);
    expect(Number(await page.getByTestId('card-online').locator('.value').textContent())).toBeGreaterThanOrEqual(3);
    expect(await page.getByTestId('card-ingest').textContent()).toMatch(/readings\/s; \d+ stored since start/);
    await screenshot('fleet');
  });
});
