/**
 * The local console's HTTP API against the real local stack (MQTT.js over 127.0.0.1, aedes, the rule,
 * the durable stream, both consumers, SQLite), without a browser: the token on every route, the fleet
 * overview, readings and CSV export, alarms with acknowledgement, rejects, the stream, live events,
 * and `npm start` printing the console's address.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../infra/pipeline.js';
import { eventually, startTestStack, type TestStack } from '../helpers/local-stack.js';
import type { IntakeStatus } from '../../infra/local/console/index.js';

const THRESHOLDS = {
  rules: [
    { id: 'overheat', metric: 'temperature', match: { type: 'env-sensor' }, when: { above: 80 }, clear: { below: 75 }, for: { samples: 3 }, severity: 'critical' },
    { id: 'battery-low', metric: 'battery', when: { below: 3.3 }, clear: { above: 3.5 }, severity: 'warning' },
    { id: 'silent', when: { silentFor: { seconds: 300 } }, severity: 'major' },
  ],
};

describe('the console API', () => {
  let t: TestStack;
  let origin: string;
  let token: string;
  const auth = () => ({ authorization: `Bearer ${token}` });
  const get = (path: string) => fetch(`${origin}${path}`, { headers: auth() });
  const getJson = async <T>(path: string): Promise<T> => {
    const res = await get(path);
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
    return (await res.json()) as T;
  };
  const command = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${origin}/api/alarms/command`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => {
    t = await startTestStack(THRESHOLDS, { httpPort: 0 });
    token = t.stack.consoleToken as string;
    origin = `http://127.0.0.1:${t.stack.httpPort}`;
  });
  afterAll(async () => {
    await t.close();
  });

  describe('access', () => {
    it.each(['/', '/assets/console.js', '/api/overview', '/api/alarms', '/api/events', '/api/devices/x/readings.csv'])('refuses %s without the token', async (path) => {
      const res = await fetch(`${origin}${path}`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      await res.body?.cancel();
    });

    it('refuses a wrong token in the header, the cookie and the URL', async () => {
      const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      const responses = await Promise.all([
        fetch(`${origin}/api/overview`, { headers: { authorization: `Bearer ${wrong}` } }),
        fetch(`${origin}/api/overview`, { headers: { cookie: `ft_console_${t.stack.httpPort}=${wrong}` } }),
        fetch(`${origin}/api/overview?token=${wrong}`),
        fetch(`${origin}/?token=${wrong}`, { redirect: 'manual' }),
      ]);
      expect(responses.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    });

    it('answers a refused page with a short HTML page and a refused API call with JSON', async () => {
      const page = await fetch(`${origin}/`);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('Token required');
      const api = await fetch(`${origin}/api/overview`);
      expect(await api.json()).toEqual({ error: 'token required' });
    });

    it('turns the token in a page URL into an HttpOnly SameSite=Strict cookie and drops it from the URL', async () => {
      const first = await fetch(`${origin}/?token=${token}`, { redirect: 'manual' });
      expect(first.status).toBe(303);
      expect(first.headers.get('location')).toBe('/');
      const cookie = first.headers.get('set-cookie') as string;
      expect(cookie).toMatch(new RegExp(`^ft_console_${t.stack.httpPort}=${token};`));
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Strict');

      const page = await fetch(`${origin}/`, { headers: { cookie: cookie.split(';')[0] as string } });
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<script defer src="/assets/console.js"></script>');
      expect(html).not.toContain(token);
    });

    it('serves the bundled script and styles from itself, with a policy that allows nothing else', async () => {
      const script = await get('/assets/console.js');
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect((await script.text()).length).toBeGreaterThan(10_000);
      const css = await get('/assets/console.css');
      expect(await css.text()).toContain('.u-legend');
      expect(script.headers.get('content-security-policy')).toContain("script-src 'self'");
      const again = await fetch(`${origin}/assets/console.js`, { headers: { ...auth(), 'if-none-match': script.headers.get('etag') as string } });
      expect(again.status).toBe(304);
    });
  });

  describe('fleet, readings and CSV', () => {
    it('lists registered devices as online, silent or never seen, with the rule that decides silence', async () => {
      const device = await t.connect('fleet-online', { type: 'env-sensor' });
      t.stack.registry.upsert('fleet-never', { type: 'env-sensor' });
      await device.publishAsync(telemetryTopic('fleet-online'), JSON.stringify({ seq: 1, metrics: { temperature: 20 } }), { qos: 1 });
      await t.stack.store.timeSeries.write([{ deviceId: 'fleet-quiet', ts: Date.now() - 600_000, metrics: { temperature: 19 }, receivedAt: Date.now() - 600_000 }]);
      await t.stack.whenIdle();

      // The overview may be up to a second old (it is computed once for every page): poll for it.
      type Overview = { devices: { deviceId: string; status: string; registered: boolean; silentAfterSeconds: number }[]; totals: Record<string, number> };
      let overview: Overview = { devices: [], totals: {} };
      await expect
        .poll(async () => {
          overview = await getJson<Overview>('/api/overview?q=fleet-');
          return overview.devices.map((d) => d.deviceId).sort();
        })
        .toEqual(['fleet-never', 'fleet-online', 'fleet-quiet']);

      const byId = Object.fromEntries(overview.devices.map((d) => [d.deviceId, d]));
      expect(byId['fleet-online']).toMatchObject({ status: 'online', registered: true, silentAfterSeconds: 300 });
      expect(byId['fleet-never']).toMatchObject({ status: 'never-seen', registered: true });
      expect(byId['fleet-quiet']).toMatchObject({ status: 'silent', registered: false });
      expect(overview.totals.devices).toBeGreaterThanOrEqual(3);
    });

    it('returns a device\'s readings over a range, oldest first, since inclusive and until exclusive', async () => {
      const device = await t.connect('range-1', { type: 'env-sensor' });
      const t0 = Date.now() - 50_000;
      for (let seq = 0; seq < 5; seq++) {
        await device.publishAsync(telemetryTopic('range-1'), JSON.stringify({ ts: t0 + seq * 1000, seq, metrics: { temperature: 20 + seq } }), { qos: 1 });
      }
      await t.stack.whenIdle();

      const body = await getJson<{ readings: { ts: number; seq: number; metrics: Record<string, number> }[]; truncated: boolean }>(
        `/api/devices/range-1/readings?since=${t0 + 1000}&until=${t0 + 4000}`,
      );

      expect(body.truncated).toBe(false);
      expect(body.readings).toEqual([1, 2, 3].map((seq) => ({ ts: t0 + seq * 1000, seq, metrics: { temperature: 20 + seq } })));
    });

    it('exports a range as CSV: a header with every metric seen, one row per reading, empty cells where a metric is missing', async () => {
      const t0 = Date.UTC(2025, 10, 25, 12, 0, 0);
      await t.stack.store.timeSeries.write([
        { deviceId: 'csv-1', ts: t0, seq: 1, metrics: { temperature: 21.5, humidity: 40 }, receivedAt: t0 },
        { deviceId: 'csv-1', ts: t0 + 1000, seq: 2, metrics: { temperature: 22 }, receivedAt: t0 },
        { deviceId: 'csv-1', ts: t0 + 1000, metrics: { battery: 3.6 }, receivedAt: t0 },
        { deviceId: 'csv-1', ts: t0 + 2000, seq: 3, metrics: { temperature: 99 }, receivedAt: t0 },
      ]);

      const res = await get(`/api/devices/csv-1/readings.csv?since=${t0}&until=${new Date(t0 + 2000).toISOString()}`);

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="csv-1-/);
      expect(await res.text()).toBe(
        [
          'ts_iso,ts_ms,seq,battery,humidity,temperature',
          `2025-11-25T12:00:00.000Z,${t0},1,,40,21.5`,
          `2025-11-25T12:00:01.000Z,${t0 + 1000},,3.6,,`,
          `2025-11-25T12:00:01.000Z,${t0 + 1000},2,,,22`,
          '',
        ].join('\r\n'),
      );
    });

    it('streams a large export page by page without losing or repeating rows that share a timestamp', async () => {
      const t0 = Date.UTC(2025, 0, 1);
      const readings = Array.from({ length: 4_500 }, (_, i) => ({ deviceId: 'csv-big', ts: t0 + Math.floor(i / 3), seq: i, metrics: { v: i }, receivedAt: t0 }));
      for (let i = 0; i < readings.length; i += 100) await t.stack.store.timeSeries.write(readings.slice(i, i + 100));

      const text = await (await get(`/api/devices/csv-big/readings.csv?since=${t0}&until=${t0 + 10_000}`)).text();

      const lines = text.trimEnd().split('\r\n');
      expect(lines[0]).toBe('ts_iso,ts_ms,seq,v');
      expect(lines.slice(1).map((line) => Number(line.split(',')[2]))).toEqual(readings.map((r) => r.seq));
    });

    it.each([
      ['since=yesterday', /since: not a time/],
      ['since=2000&until=1000', /until: must be after since/],
    ])('refuses an export with %s (400, naming the parameter)', async (query, message) => {
      const res = await get(`/api/devices/csv-1/readings.csv?${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    });
  });

  describe('alarms and their commands', () => {
    interface AlarmRow { alarmId: string; deviceId: string; state: string; previousState: string; severity: string; ts: number; action: string | null; by: string | null; note: string | null; snoozedUntil?: number | null }
    interface CommandRow { deviceId: string; ruleId: string | null; action: string | null; by: string; note: string | null; outcome: string; reason: string | null; state: string | null }
    interface AlarmsBody { active: AlarmRow[]; transitions: AlarmRow[]; commands: CommandRow[] }

    const overheat = async (deviceId: string) => {
      const device = await t.connect(deviceId, { type: 'env-sensor' });
      const t0 = Date.now() - 10_000;
      for (const [seq, temperature] of [81, 82, 83].entries()) {
        await device.publishAsync(telemetryTopic(deviceId), JSON.stringify({ ts: t0 + seq * 1000, seq, type: 'env-sensor', metrics: { temperature, battery: 3.1 } }), { qos: 1 });
      }
      await t.stack.whenIdle();
      return eventually(() => t.stack.store.queryAlarmStates({ deviceId, state: 'ALARM' }).find((a) => a.ruleId === 'overheat'), 10_000, 'overheat alarm');
    };

    it('lists active alarms most severe first and filters them by severity and device', async () => {
      await overheat('hot-1');
      await overheat('hot-2');

      const all = await getJson<{ active: AlarmRow[] }>('/api/alarms?device=hot-1');
      const critical = await getJson<{ active: AlarmRow[]; transitions: AlarmRow[] }>('/api/alarms?severity=critical&device=hot-2');

      expect(all.active.map((a) => a.alarmId)).toEqual(['hot-1/overheat', 'hot-1/battery-low']);
      expect(critical.active.map((a) => a.alarmId)).toEqual(['hot-2/overheat']);
      expect(critical.transitions.every((a) => a.severity === 'critical' && a.deviceId === 'hot-2')).toBe(true);
      await expect.poll(async () => (await getJson<{ activeAlarms: Record<string, number> }>('/api/overview')).activeAlarms.critical).toBeGreaterThanOrEqual(2);
      expect((await getJson<{ activeAlarms: Record<string, number> }>('/api/overview')).activeAlarms.warning).toBeGreaterThanOrEqual(2);
    });

    it('acknowledges an alarm through the command path as the console, with a note, and shows who and why', async () => {
      const alarm = await overheat('ack-1');

      const res = await command({ alarmId: alarm.alarmId, action: 'acknowledge', note: '  checking the fan ' });

      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ outcome: 'accepted', deviceId: 'ack-1', ruleId: 'overheat', action: 'acknowledge', state: 'ACKNOWLEDGED' });
      const body = await eventually(async () => {
        const alarms = await getJson<AlarmsBody>('/api/alarms?device=ack-1');
        return alarms.active.some((a) => a.state === 'ACKNOWLEDGED') && alarms.commands.length > 0 ? alarms : undefined;
      }, 10_000, 'the acknowledgement on the read side');
      expect(body.active.find((a) => a.alarmId === 'ack-1/overheat')).toMatchObject({ state: 'ACKNOWLEDGED', action: 'acknowledge', by: 'console', note: 'checking the fan' });
      expect(body.transitions.find((a) => a.alarmId === 'ack-1/overheat' && a.state === 'ACKNOWLEDGED')).toMatchObject({ previousState: 'ALARM', by: 'console' });
      expect(body.commands).toEqual([expect.objectContaining({ deviceId: 'ack-1', ruleId: 'overheat', action: 'acknowledge', by: 'console', note: 'checking the fan', outcome: 'accepted' })]);
      expect(body.active.find((a) => a.alarmId === 'ack-1/battery-low')).toMatchObject({ state: 'ALARM', by: null });
      const detail = await getJson<{ active: AlarmRow[]; commands: CommandRow[]; device: { activeAlarms: number } }>('/api/devices/ack-1');
      expect(detail.commands).toHaveLength(1);
      // An acknowledged alarm is still active (in breach): the fleet counts it.
      expect(detail.device.activeAlarms).toBe(2);
    });

    it('answers a command that does not apply with 409 and the handler\'s reason, and records it', async () => {
      const alarm = await overheat('ack-2');
      expect((await command({ alarmId: alarm.alarmId, action: 'acknowledge' })).status).toBe(200);

      const again = await command({ alarmId: alarm.alarmId, action: 'enable' });

      expect(again.status).toBe(409);
      const body = (await again.json()) as { outcome: string; reason: string; error: string };
      expect(body).toMatchObject({ outcome: 'rejected', reason: expect.any(String) });
      expect(body.error).toBe(body.reason);
      expect((await getJson<AlarmsBody>('/api/alarms?device=ack-2')).commands.map((c) => `${c.action} ${c.outcome}`)).toEqual(['enable rejected', 'acknowledge accepted']);
    });

    it('snoozes an alarm for the seconds asked', async () => {
      const alarm = await overheat('snooze-1');

      const res = await command({ alarmId: alarm.alarmId, action: 'snooze', seconds: 900, note: 'maintenance window' });

      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ outcome: 'accepted', state: 'SNOOZED' });
      const body = await getJson<AlarmsBody>('/api/alarms?device=snooze-1');
      expect(body.commands[0]).toMatchObject({ action: 'snooze', seconds: 900, note: 'maintenance window' });
      // The snooze runs 900 s from the command's time (when the rules engine received it).
      const snoozed = body.active.find((a) => a.alarmId === 'snooze-1/overheat');
      expect(snoozed).toMatchObject({ state: 'SNOOZED', by: 'console', note: 'maintenance window' });
      expect(snoozed?.snoozedUntil).toBe((body.commands[0] as CommandRow & { at: number }).at + 900_000);
      expect(body.active.find((a) => a.alarmId === 'snooze-1/battery-low')?.snoozedUntil).toBeNull();
    });

    it.each([
      ['an alarm id without a rule', { alarmId: 'no-slash', action: 'reset' }, {}, 400, /^alarmId: /],
      ['an unknown action', { alarmId: 'x/overheat', action: 'silence' }, {}, 400, /^action: /],
      ['negative seconds', { alarmId: 'x/overheat', action: 'snooze', seconds: -5 }, {}, 400, /^seconds: /],
      ['a note over 1,000 characters', { alarmId: 'x/overheat', action: 'reset', note: 'n'.repeat(1_001) }, {}, 400, /^note: /],
      ['a "by" of its own choosing', { alarmId: 'x/overheat', action: 'reset', by: 'mallory' }, {}, 400, /by/],
      ['a body that is not JSON', { alarmId: 'x/overheat', action: 'reset' }, { 'content-type': 'text/plain' }, 415, /application\/json/],
      ['a cross-origin request', { alarmId: 'x/overheat', action: 'reset' }, { origin: 'http://evil.example' }, 403, /cross-origin/],
    ])('refuses %s with %i before it reaches the command path', async (_what, body, headers, status, message) => {
      const res = await command(body, headers);
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    });

    it('has no acknowledgement route of its own any more: acknowledgements are commands', async () => {
      const res = await fetch(`${origin}/api/alarms/ack`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(405);
    });
  });

  describe('rejects and the stream', () => {
    it('lists a rejected message with its reason and payload, and the stream with each consumer\'s lag', async () => {
      const device = await t.connect('bad-1', { type: 'env-sensor' });
      await device.publishAsync(telemetryTopic('bad-1'), JSON.stringify({ seq: 1, metrics: { temperature: 'hot' } }), { qos: 1 });
      await t.stack.whenIdle();

      const { rejects } = await getJson<{ rejects: { deviceId: string; reason: string; payload: string; stage: string }[] }>('/api/rejects?device=bad-1');
      const stream = await getJson<{ shardCount: number; shards: unknown[]; consumers: { consumer: string; lagRecords: number }[] }>('/api/stream');

      expect(rejects).toEqual([expect.objectContaining({ deviceId: 'bad-1', stage: 'decode', reason: 'metrics.temperature: not a finite number', payload: '{"seq":1,"metrics":{"temperature":"hot"}}' })]);
      expect(stream.shards).toHaveLength(stream.shardCount);
      expect(stream.consumers.map((c) => c.consumer)).toEqual(['alarms', 'ingest']);
      expect(stream.consumers.every((c) => c.lagRecords === 0)).toBe(true);
    });

    it('reports the intake: whether the free-space headroom refuses telemetry, and the connection counters', async () => {
      const before = await getJson<IntakeStatus>('/api/intake');
      await t.connect('intake-1');
      const after = await getJson<IntakeStatus>('/api/intake');

      expect(after.freeSpace).toMatchObject({ engaged: false, minFreeBytes: 256 * 1024 * 1024, engagements: 0, refused: 0 });
      expect(after.freeSpace?.freeBytes).toBeGreaterThan(0);
      expect(after.broker.connectsAccepted).toBe(before.broker.connectsAccepted + 1);
      expect(after.broker.connections).toMatchObject({ unauthenticated: 0, waiting: 0, refusedPackets: 0, refusedOverConnectionCap: 0 });
      expect(after.broker.connections.open).toBeGreaterThanOrEqual(1);
    });
  });

  describe('live events', () => {
    it('pushes a watched device\'s new readings, new alarm transitions and new rejects to the event stream', async () => {
      const device = await t.connect('live-1', { type: 'env-sensor' });
      const events = await openEvents(`${origin}/api/events?device=live-1`, token);
      try {
        await events.next('overview');
        const t0 = Date.now();
        for (const [seq, temperature] of [81, 82, 83].entries()) {
          await device.publishAsync(telemetryTopic('live-1'), JSON.stringify({ ts: t0 + seq, seq, type: 'env-sensor', metrics: { temperature } }), { qos: 1 });
        }
        await device.publishAsync(telemetryTopic('live-1'), 'not json', { qos: 1 });

        const seen: { seq: number | null; metrics: Record<string, number> }[] = [];
        while (seen.length < 3) {
          const event = (await events.next('readings')) as { deviceId: string; readings: { seq: number | null; metrics: Record<string, number> }[] };
          expect(event.deviceId).toBe('live-1');
          seen.push(...event.readings);
        }
        expect(seen.map((r) => r.metrics.temperature)).toEqual([81, 82, 83]);
        expect(await events.next('alarm')).toMatchObject({ alarmId: 'live-1/overheat', state: 'ALARM', severity: 'critical', ts: t0 + 2 });
        expect(await events.next('rejects')).toMatchObject({ added: 1 });
      } finally {
        events.close();
      }
    });

    it('tells a watching page to reload the range when a late reading arrives, older than the newest', async () => {
      const device = await t.connect('late-1', { type: 'env-sensor' });
      const t0 = Date.now();
      await device.publishAsync(telemetryTopic('late-1'), JSON.stringify({ ts: t0, seq: 2, metrics: { temperature: 20 } }), { qos: 1 });
      await t.stack.whenIdle();
      const events = await openEvents(`${origin}/api/events?device=late-1`, token);
      try {
        await events.next('overview');

        await device.publishAsync(telemetryTopic('late-1'), JSON.stringify({ ts: t0 - 60_000, seq: 1, metrics: { temperature: 19 } }), { qos: 1 });

        expect(await events.next('resync')).toEqual({ deviceId: 'late-1' });
      } finally {
        events.close();
      }
    });
  });
});

describe('the console and the stack', () => {
  it('ends open event streams and stops listening when the stack stops', async () => {
    const t = await startTestStack(THRESHOLDS, { httpPort: 0, consoleToken: 'a-token-chosen-by-the-test' });
    const origin = `http://127.0.0.1:${t.stack.httpPort}`;
    expect(t.stack.consoleUrl).toBe(`${origin}/?token=a-token-chosen-by-the-test`);
    const res = await fetch(`${origin}/api/events`, { headers: { authorization: 'Bearer a-token-chosen-by-the-test' } });
    const reading = (async () => {
      let text = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(chunk).toString('utf8');
      return text;
    })();

    await t.close();

    expect(await reading).toContain('event: overview');
    await expect(fetch(`${origin}/`)).rejects.toThrow();
  });

  it('refuses a console token that cannot travel in a URL and a cookie as is', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ft-console-token-'));
    try {
      await expect(startTestStack(THRESHOLDS, { httpPort: 0, consoleToken: 'short', dataDir })).rejects.toThrow(/console token: must be 16 to 256 of \[A-Za-z0-9_-\]/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('npm start with the console', () => {
  it('prints the console address with its token, and the console answers it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ft-console-start-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts', '--data', dataDir, '--mqtt-port', '0', '--ws-port', '0', '--http-port', '0', '--json'], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`npm start exited with ${code}`)));
      });
      const ready = JSON.parse(line) as { event: string; console: string };
      expect(ready.event).toBe('ready');
      expect(ready.console).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);

      const withToken = await fetch(ready.console, { redirect: 'manual' });
      const without = await fetch(new URL('/', ready.console));

      expect(withToken.status).toBe(303);
      expect(without.status).toBe(401);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/** Reads server-sent events from `url`; `next(name)` resolves with the data of the next event of that name. */
async function openEvents(url: string, token: string): Promise<{ next(name: string, timeoutMs?: number): Promise<unknown>; close(): void }> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const queue: { event: string; data: unknown }[] = [];
  const waiters: (() => void)[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event !== undefined && data !== undefined) queue.push({ event, data: JSON.parse(data) });
          for (const wake of waiters.splice(0)) wake();
        }
      }
    } catch {
      // Aborted by close().
    }
  })();
  return {
    async next(name, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = queue.findIndex((e) => e.event === name);
        if (i >= 0) return (queue.splice(i, 1)[0] as { data: unknown }).data;
        if (Date.now() > deadline) throw new Error(`no ${name} event within ${timeoutMs} ms; got ${queue.map((e) => e.event).join(', ')}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    close: () => controller.abort(),
  };
}
