/**
 * `npm run alarms` as a user runs it: a child process acting as a local operator (its credential
 * saved by `npm run devices -- add ... --role operator --save-credential`) against a running local
 * stack, waiting for the reply to its command.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEntry, type EntryRun } from '../helpers/run-entry.js';
import type { AlarmEvent } from '../../lambdas/domain/model.js';
import { silentLog } from '../../lambdas/ports/observability.js';
import { pipeline, telemetryTopic } from '../../infra/pipeline.js';
import { createBroker } from '../../infra/local/broker/index.js';
import type { Broker } from '../../infra/local/broker/index.js';
import { DeviceRegistry } from '../../infra/local/registry/index.js';
import { collect, startTestStack, type TestStack } from '../helpers/local-stack.js';

/** What `npm run <script> -- ...args` runs (a local command line), minus npm. */
function run(script: string, ...args: string[]): Promise<EntryRun> {
  return runEntry(`infra/local/cli/${script}`, args);
}

const THRESHOLDS = { rules: [{ id: 'overheat', metric: 'temperature', when: { above: 80 }, severity: 'critical' }] };

describe('npm run alarms', { timeout: 90_000 }, () => {
  let dataDir: string;
  let t: TestStack;
  let endpoint: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ft-alarms-cli-'));
    t = await startTestStack(THRESHOLDS, { dataDir });
    endpoint = t.url;
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const alarms = (...args: string[]) => run('alarms.ts', ...args, '--data', dataDir);

  it('acknowledges an alarm with a note as the saved operator, prints the accepted reply, and the event names the operator', async () => {
    const added = await run('devices.ts', 'add', 'night-shift', '--role', 'operator', '--save-credential', '--data', dataDir);
    expect(added.code).toBe(0);
    expect(statSync(join(dataDir, 'credentials', 'night-shift.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'credentials')).mode & 0o777).toBe(0o700);
    const watcher = await t.connect('watcher', { role: 'operator' });
    await watcher.subscribeAsync(pipeline.topics.alarmsFilter, { qos: 1 });
    const events = collect<AlarmEvent>(watcher);
    const device = await t.connect('cli-oven', { type: 'oven' });
    await device.publishAsync(telemetryTopic('cli-oven'), JSON.stringify({ seq: 1, metrics: { temperature: 93 } }), { qos: 1 });
    await events.until(1);

    const acked = await alarms('ack', 'cli-oven/overheat', '--note', 'on my way', '--operator', 'night-shift', '--endpoint', endpoint);

    expect(acked.stderr).toBe('');
    expect(acked.code).toBe(0);
    expect(acked.stdout).toBe('accepted  acknowledge cli-oven/overheat  state ACKNOWLEDGED\n');
    const [, acknowledged] = await events.until(2);
    expect(acknowledged).toMatchObject({ alarmId: 'cli-oven/overheat', state: 'ACKNOWLEDGED', by: 'night-shift', note: 'on my way' });

    const listed = await alarms('list', '--state', 'ACKNOWLEDGED', '--json');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ alarmId: 'cli-oven/overheat', state: 'ACKNOWLEDGED', by: 'night-shift', note: 'on my way' })]);
    const table = await alarms('list');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ALARM +STATE +SEVERITY +SINCE +BY\ncli-oven\/overheat +ACKNOWLEDGED +critical +\S+ +night-shift: "on my way"\n$/);
    const none = await alarms('list', '--state', 'DISABLED');
    expect(none).toMatchObject({ code: 0, stdout: '', stderr: 'No alarms in state DISABLED.\n' });
  });

  it('exits 1 with the reason when the command is refused, and prints it as JSON with --json', async () => {
    await run('devices.ts', 'add', 'day-shift', '--role', 'operator', '--save-credential', '--data', dataDir);

    const refused = await alarms('reset', 'idle-device/overheat', '--operator', 'day-shift', '--endpoint', endpoint, '--json');

    expect(refused.code).toBe(1);
    const reply = JSON.parse(refused.stdout) as Record<string, unknown>;
    expect(reply).toMatchObject({ outcome: 'rejected', deviceId: 'idle-device', ruleId: 'overheat', action: 'reset', reason: expect.any(String) });
  });

  it('refuses a wrong invocation with one line and exit code 2, before connecting', async () => {
    const cases: [string[], RegExp][] = [
      [['snooze', 'd1/overheat', '--endpoint', endpoint], /^error: snooze needs --seconds N\n$/],
      [['ack', 'd1/overheat', '--seconds', '5', '--endpoint', endpoint], /^error: .*--seconds/],
      [['ack', 'no-slash', '--endpoint', endpoint], /^error: ALARM_ID must be deviceId\/ruleId/],
      [['ack', 'd1/overheat', '--operator', 'nobody-saved', '--endpoint', endpoint], /^error: no saved credential for operator nobody-saved .*--save-credential/],
      [['ack', 'd1/overheat', '--target', 'aws'], /^error: --target aws needs --endpoint/],
      [['list', '--state', 'NOT-A-STATE'], /^error: .*state/],
    ];
    for (const [args, stderr] of cases) {
      const result = await alarms(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(stderr);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('exits 1 when no reply comes in time (a broker without the command rule)', async () => {
    const bare = mkdtempSync(join(tmpdir(), 'ft-alarms-bare-'));
    const registry = DeviceRegistry.open(join(bare, 'devices.db'));
    const broker: Broker = createBroker({ registry, log: silentLog, onTelemetry: () => undefined });
    try {
      const { mqttPort } = await broker.listen({ host: '127.0.0.1', mqttPort: 0 });
      await run('devices.ts', 'add', 'lonely', '--role', 'operator', '--save-credential', '--data', bare);

      const started = Date.now();
      const result = await run('alarms.ts', 'ack', 'd1/overheat', '--operator', 'lonely', '--timeout', '1', '--endpoint', `mqtt://127.0.0.1:${mqttPort}`, '--data', bare);

      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^error: no reply to the acknowledge command .* within 1 s\n$/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    } finally {
      await broker.close();
      registry.close();
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('exits 1 with one line when the broker refuses the operator (a wrong password)', async () => {
    await run('devices.ts', 'add', 'revoked', '--role', 'operator', '--save-credential', '--data', dataDir);
    // A new password: the saved one no longer works.
    t.stack.registry.upsert('revoked', { role: 'operator' });

    const result = await alarms('ack', 'd1/overheat', '--operator', 'revoked', '--endpoint', endpoint);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: cannot connect to mqtt:\/\/127\.0\.0\.1:\d+ as revoked: /);
  });
});
