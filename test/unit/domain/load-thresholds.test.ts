import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadThresholdsFile } from '../../../lambdas/config/load-thresholds.js';
import { ConfigError } from '../../../lambdas/domain/errors.js';
import { ThresholdsError } from '../../../lambdas/domain/thresholds.js';

describe('loadThresholdsFile', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'thresholds-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the project thresholds file', () => {
    expect(loadThresholdsFile('config/thresholds.json').rules.map((rule) => rule.id)).toEqual([
      'overheat',
      'cold-chain-breach',
      'battery-low',
      'silent',
      'engine-hot',
      'fuel-reserve',
      'reefer-door-open',
      'engine-fault',
      'speeding',
      'reefer-warming',
      'fuel-drop',
      'door-contact-stuck',
      'gps-lost',
    ]);
  });

  it('names the path of a missing file', () => {
    const path = join(dir, 'missing.json');

    expect(() => loadThresholdsFile(path)).toThrow(new ConfigError(`thresholds file ${path}: not found`));
  });

  it('names the path of a file that cannot be read', () => {
    const path = join(dir, 'a-directory');
    mkdirSync(path);

    expect(() => loadThresholdsFile(path)).toThrow(`thresholds file ${path}: cannot be read (EISDIR)`);
  });

  it('names the path of a file that is not JSON', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{ "rules": [ ');

    expect(() => loadThresholdsFile(path)).toThrow(new RegExp(`^thresholds file ${path}: not valid JSON \\(`));
  });

  it('names the path, the rule and the field of a schema problem, keeping the problems as the cause', () => {
    const path = join(dir, 'thresholds.json');
    writeFileSync(path, JSON.stringify({ rules: [{ id: 'overheat', metric: 't', when: { above: 80 }, clear: { below: 85 }, severity: 'critical' }] }));

    let thrown: unknown;
    try {
      loadThresholdsFile(path);
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toBe(`thresholds file ${path}: rule "overheat": clear.below must be at or below when.above (80)`);
    expect((thrown as Error).cause).toBeInstanceOf(ThresholdsError);
  });
});
