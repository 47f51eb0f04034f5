/**
 * `npm run provision` as a command line: help, and bad invocations refused with one line and exit 2
 * before any AWS call (no credentials needed for these).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatReport } from '../../infra/aws/provision/main.js';
import { REPO_ROOT } from '../../infra/aws/paths.js';

function provision(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/aws/provision/main.ts', ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run provision (command line)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'provision-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('explains itself with --help and exits 0', { timeout: 30_000 }, async () => {
    const { code, stdout } = await provision(['--help']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/--certificate <MODE>/);
    expect(stdout).toMatch(/--remove/);
  });

  it('refuses to provision without --devices, in one line, with exit 2', { timeout: 30_000 }, async () => {
    const { code, stderr } = await provision(['--prefix', 'sim', '--certs', dir]);

    expect(code).toBe(2);
    expect(stderr).toBe('error: --devices: required to provision (or pass --remove)\n');
  });

  it('refuses an unknown certificate mode, and a folder without a manifest to remove, each in one line', { timeout: 30_000 }, async () => {
    const mode = await provision(['--devices', '1', '--prefix', 'sim', '--certs', dir, '--certificate', 'everyone']);
    const remove = await provision(['--remove', '--prefix', 'sim', '--certs', dir]);

    expect(mode.code).toBe(2);
    expect(mode.stderr.trim().split('\n')).toHaveLength(1);
    expect(mode.stderr).toMatch(/--certificate/);
    expect(remove.code).toBe(2);
    expect(remove.stderr).toMatch(/^error: .*holds no provisioned fleet \(no manifest\): nothing to remove\n$/);
  });
});

describe('formatReport', () => {
  it('says what a run made and how to get the root CA when it is missing', () => {
    const text = formatReport({
      action: 'provision', mode: 'shared', certsDir: 'certs', things: 3, thingsCreated: 2, certificatesCreated: 1, certificatesDeleted: 0,
      requests: 9, retries: 1, rootCaMissing: 'curl -o certs/AmazonRootCA1.pem https://www.amazontrust.com/repository/AmazonRootCA1.pem',
    });

    expect(text).toBe(
      '3 things in certs (one shared certificate): 2 things and 1 certificates created by this run\n' +
        '9 requests, 1 retried after throttling or transient errors\n' +
        "the simulator also needs Amazon's root CA in the folder, once: curl -o certs/AmazonRootCA1.pem https://www.amazontrust.com/repository/AmazonRootCA1.pem",
    );
  });
});
