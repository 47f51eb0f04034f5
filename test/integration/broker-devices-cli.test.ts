import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLog } from '../../lambdas/ports/observability.js';
import { telemetryTopic } from '../../infra/pipeline.js';
import { createBroker } from '../../infra/local/broker/index.js';
import type { RuleMessage } from '../../infra/local/iot-sql/index.js';
import { DeviceRegistry } from '../../infra/local/registry/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'infra/local/cli/devices.ts');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run devices -- ...args` as `tsx infra/local/cli/devices.ts ...args`, in a child process. */
function devices(...args: string[]): Promise<Run> {
  return new Promise((resolvePromise) => {
    execFile(TSX, [CLI, ...args], { cwd: ROOT, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

// Each case starts one to four tsx child processes; on a loaded 2-core machine one start can take seconds.
describe('npm run devices', { timeout: 90_000 }, () => {
  let dir: string;
  let data: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'devices-cli-'));
    data = join(dir, 'data');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('add --json prints the credentials once, as one JSON object, and creates the data directory', async () => {
    const run = await devices('add', 'sensor-0001', '--type', 'env-sensor', '--json', '--data', data);

    expect(run.code).toBe(0);
    const credentials = JSON.parse(run.stdout) as Record<string, string>;
    expect(Object.keys(credentials)).toEqual(['deviceId', 'username', 'password']);
    expect(credentials).toMatchObject({ deviceId: 'sensor-0001', username: 'sensor-0001' });
    expect(existsSync(join(data, 'devices.db'))).toBe(true);
    const registry = DeviceRegistry.open(join(data, 'devices.db'));
    try {
      await expect(registry.verify('sensor-0001', credentials.password ?? '')).resolves.toMatchObject({ type: 'env-sensor', role: 'device' });
    } finally {
      registry.close();
    }
  });

  it('list shows devices and operators, in a table or as JSON, never a password or hash', async () => {
    await Promise.all([
      devices('add', 'b-device', '--type', 'env-sensor', '--data', data),
      devices('add', 'a-operator', '--role', 'operator', '--data', data),
    ]);

    const [table, json] = await Promise.all([devices('list', '--data', data), devices('list', '--json', '--data', data)]);

    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^DEVICE ID\s+ROLE\s+TYPE\s+CREATED$/);
    expect(table.stdout).toMatch(/a-operator\s+operator\s+-/);
    expect(table.stdout).toMatch(/b-device\s+device\s+env-sensor/);
    expect(JSON.parse(json.stdout)).toEqual([
      { deviceId: 'a-operator', role: 'operator', createdAt: expect.any(Number) },
      { deviceId: 'b-device', type: 'env-sensor', role: 'device', createdAt: expect.any(Number) },
    ]);
    expect(table.stdout + json.stdout).not.toMatch(/scrypt|password/);
  });

  it('remove deletes the device, and fails with one line for a device that does not exist', async () => {
    await devices('add', 'gone-soon', '--data', data);

    const removed = await devices('remove', 'gone-soon', '--data', data);
    const [again, list] = await Promise.all([devices('remove', 'gone-soon', '--data', data), devices('list', '--json', '--data', data)]);

    expect(removed).toMatchObject({ code: 0, stdout: 'removed gone-soon\n' });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: no device gone-soon in .*devices\.db\n$/);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });

  it.each([
    { wrong: 'an unknown flag', args: ['add', 'x', '--bogus'], message: /^error: unknown option '--bogus'\n$/ },
    { wrong: 'a role that does not exist', args: ['add', 'x', '--role', 'admin'], message: /^error: option '--role <role>' argument 'admin' is invalid\. Allowed choices are device, operator\.\n$/ },
    { wrong: 'an invalid device id', args: ['add', 'not/valid'], message: /^error: invalid device id "not\/valid": expected 1 to 128 of A-Z a-z 0-9 _ : -\n$/ },
    { wrong: 'a missing device id', args: ['add'], message: /^error: missing required argument 'deviceId'\n$/ },
    { wrong: 'an unknown command', args: ['frobnicate'], message: /^error: unknown command 'frobnicate'\n$/ },
  ])('answers $wrong with one error line on stderr and exit code 2', async ({ args, message }) => {
    const run = await devices(...args, '--data', data);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('refuses to add an id twice, with exit code 1', async () => {
    await devices('add', 'twice', '--data', data);

    const run = await devices('add', 'twice', '--data', data);

    expect(run).toMatchObject({ code: 1, stdout: '', stderr: 'error: device twice already exists\n' });
  });

  it('prints help for every command and exits 0', async () => {
    const runs = await Promise.all([devices('--help'), devices('add', '--help'), devices('list', '--help'), devices('remove', '--help')]);

    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: devices/);
    }
  });

  it('adds a device the running broker accepts at once, and removes it from the live connection', async () => {
    const registry = DeviceRegistry.open(join(dir, 'devices.db'));
    const received: RuleMessage[] = [];
    const broker = createBroker({ registry, log: silentLog, registryPollMs: 100, onTelemetry: (m) => void received.push(m) });
    const { mqttPort } = await broker.listen({ host: '127.0.0.1', mqttPort: 0 });
    try {
      const added = await devices('add', 'live-1', '--json', '--data', dir);
      const { username, password } = JSON.parse(added.stdout) as { username: string; password: string };
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'live-1', username, password, protocolVersion: 4, reconnectPeriod: 0 });
      await client.publishAsync(telemetryTopic('live-1'), 'hello', { qos: 1 });
      const closed = new Promise<void>((resolveClose) => client.once('close', () => resolveClose()));

      const removed = await devices('remove', 'live-1', '--data', dir);
      await closed;

      expect(removed.code).toBe(0);
      expect(received.map((m) => m.clientId)).toEqual(['live-1']);
      expect(broker.stats().disconnectedByRegistry).toBe(1);
      await client.endAsync(true);
    } finally {
      await broker.close();
      registry.close();
    }
  });
});
