import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run simulate -- ...` as the script does (tsx simulator/main.ts), as a child process. */
function simulate(args: readonly string[], timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'simulator/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('npm run simulate', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('prints a JSON summary with the right counts after a short run', async () => {
    const broker = await Aedes.createBroker();
    let published = 0;
    broker.on('publish', (packet, client) => {
      if (client !== null && packet.topic.startsWith('dt/')) published += 1;
    });
    const server = net.createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => broker.close(() => server.close(() => resolve()))));
    const { port } = server.address() as net.AddressInfo;

    const result = await simulate([
      '--devices', '20', '--rate', '2', '--duration', '3', '--qos', '1', '--ramp', '0', '--linger', '0',
      '--endpoint', `mqtt://127.0.0.1:${port}`, '--no-register', '--json', '--progress-interval', '1000',
    ]);

    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown> & { latencyMs: { p50: number; p99: number } };
    expect(summary).toMatchObject({ devices: 20, connected: 20, errors: 0, alarms: 0 });
    expect(summary.sent).toBe(summary.generated);
    expect(summary.acked).toBe(summary.sent);
    expect(published).toBe(summary.sent);
    expect(summary.latencyMs.p50).toBeGreaterThan(0);
    expect(summary.latencyMs.p99).toBeGreaterThanOrEqual(summary.latencyMs.p50);
    // Progress went to stderr as plain lines (not a terminal), never to stdout.
    expect(result.stderr).toMatch(/^\[\s*\d+s\] connected \d+\/20 {2}sent \d+\/s {2}acked \d+\/s {2}p50 .* p99 .*errors 0 {2}alarms 0/m);
    expect(result.stderr).not.toMatch(/\r/);
  });

  it('runs the fleet in worker processes with --workers and prints one merged JSON summary', async () => {
    const broker = await Aedes.createBroker();
    const publishers = new Set<string>();
    let published = 0;
    broker.on('publish', (packet, client) => {
      if (client === null || !packet.topic.startsWith('dt/')) return;
      published += 1;
      publishers.add(client.id);
    });
    const server = net.createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => broker.close(() => server.close(() => resolve()))));
    const { port } = server.address() as net.AddressInfo;

    const result = await simulate([
      '--devices', '6', '--rate', '2', '--duration', '2', '--ramp', '0', '--linger', '0', '--workers', '2',
      '--endpoint', `mqtt://127.0.0.1:${port}`, '--no-register', '--json', '--quiet',
    ]);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    const summary = JSON.parse(result.stdout) as Record<string, number>;
    expect(summary).toMatchObject({ workers: 2, devices: 6, connected: 6 });
    expect(summary.acked).toBe(summary.sent);
    expect(published).toBe(summary.sent);
    expect([...publishers].sort()).toEqual(['sim-00001', 'sim-00002', 'sim-00003', 'sim-00004', 'sim-00005', 'sim-00006']);
  });

  it('fails with one clear line and exit code 1 when the broker cannot be reached', async () => {
    const port = await closedPort();

    const result = await simulate([
      '--devices', '5', '--endpoint', `mqtt://127.0.0.1:${port}`, '--no-register', '--connect-attempts', '3',
      '--backoff-initial', '50', '--quiet',
    ]);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`error: cannot connect to mqtt://127.0.0.1:${port} after 3 attempts: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  });

  it.each([
    [['--rate', 'fast'], /^error: option '--rate <R>' argument 'fast' is invalid\. expected a number above 0\.\n$/],
    [['--qos', '2'], /^error: option '--qos <Q>' argument '2' is invalid\. Allowed choices are 0, 1\.\n$/],
    [['--devcies', '3'], /^error: unknown option '--devcies'.*\n$/],
    [['--overheat', 'lots'], /^error: --overheat: expected SHARE@SECONDS.*\n$/],
    [['--target', 'aws', '--certs', '.'], /^error: --endpoint: required with --target aws.*\n$/],
    [['--backoff-initial', '1000', '--backoff-max', '10'], /^error: --backoff-max: must be at least --backoff-initial.*\n$/],
  ])('refuses %j with one line and exit code 2', async (args, line) => {
    const result = await simulate([...args, '--no-register']);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(line);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
