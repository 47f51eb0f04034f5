/** `npm start` as a user meets it: the ready line, a clean stop on SIGTERM, one-line errors. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dataDir = mkdtempSync(join(tmpdir(), 'ft-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function start(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts', ...args], { cwd: process.cwd() });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function until(check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('npm start', () => {
  it('prints a ready line with where to connect, and stops cleanly on SIGTERM', { timeout: 90_000 }, async () => {
    const run = start(['--data', dataDir, '--mqtt-port', '0', '--ws-port', '0', '--http-port', '0', '--json']);
    await until(() => run.out().includes('"ready"'));
    const ready = JSON.parse(run.out().split('\n')[0]!) as { event: string; mqtt: string; ws: string; data: string };
    expect(ready).toMatchObject({ event: 'ready', data: dataDir });
    expect(ready.mqtt).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.ws).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.out()).toContain('"stopped"');
  });

  it('refuses a bad flag with one line and exit code 2', { timeout: 60_000 }, async () => {
    const run = start(['--mqtt-port', 'nope']);
    expect(await run.exited).toBe(2);
    expect(run.err().trim().split('\n')).toHaveLength(1);
    expect(run.err()).toMatch(/^error: .*--mqtt-port/);
  });

  it.each([
    ['--min-free', '12 parsecs'],
    ['--max-connections', '0'],
    ['--max-unauthenticated', '-5'],
  ])('refuses %s %s with one line naming the flag and exit code 2', { timeout: 60_000 }, async (flag, value) => {
    const run = start([flag, value]);
    expect(await run.exited).toBe(2);
    expect(run.err().trim().split('\n')).toHaveLength(1);
    expect(run.err()).toMatch(new RegExp(`^error: option '${flag} <[a-z]+>' argument '${value}' is invalid`));
  });

  it('refuses a --webhook that is not a URL with one line and exit code 2, like any bad flag', { timeout: 60_000 }, async () => {
    const run = start(['--data', dataDir, '--webhook', 'not a url']);
    expect(await run.exited).toBe(2);
    expect(run.err().trim().split('\n')).toEqual(['error: --webhook: not a URL: not a url']);
  });

  it('refuses a thresholds file with a contradiction, naming the rule and field', { timeout: 60_000 }, async () => {
    const { writeFileSync } = await import('node:fs');
    const file = join(dataDir, 'bad-thresholds.json');
    writeFileSync(file, JSON.stringify({ rules: [{ id: 'hot', metric: 't', when: { above: 80 }, clear: { below: 90 }, severity: 'critical' }] }));
    const run = start(['--data', dataDir, '--mqtt-port', '0', '--thresholds', file]);
    expect(await run.exited).toBe(2);
    expect(run.err().trim().split('\n')).toHaveLength(1);
    expect(run.err()).toMatch(/hot.*clear\.below/);
  });

  it('says which port is busy, in one line, and exits non-zero', { timeout: 60_000 }, async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const run = start(['--data', dataDir, '--mqtt-port', String(port), '--ws-port', '0', '--http-port', '0']);
      expect(await run.exited).not.toBe(0);
      expect(run.err().trim().split('\n').filter((line) => line.startsWith('error:'))).toEqual([expect.stringContaining(`127.0.0.1:${port}`)]);
    } finally {
      blocker.close();
    }
  });
});
