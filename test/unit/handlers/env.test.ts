import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lambdas/domain/errors.js';
import { readEnv, resolveFromTaskRoot } from '../../../lambdas/common/env.js';

describe('readEnv', () => {
  it('returns the named variables, frozen', () => {
    const env = readEnv(['A', 'B'], { A: 'a', B: 'b', C: 'c' });

    expect(env).toEqual({ A: 'a', B: 'b' });
    expect(Object.isFrozen(env)).toBe(true);
  });

  it('names every missing or empty variable', () => {
    const read = () => readEnv(['A', 'B', 'C'], { A: 'a', B: '  ' });

    expect(read).toThrow(ConfigError);
    expect(read).toThrow('environment variables B, C are missing or empty');
  });

  it('names a single missing variable', () => {
    expect(() => readEnv(['REJECT_QUEUE_URL'], {})).toThrow('environment variable REJECT_QUEUE_URL is missing or empty');
  });
});

describe('resolveFromTaskRoot', () => {
  it('resolves a relative file against LAMBDA_TASK_ROOT', () => {
    expect(resolveFromTaskRoot('config/thresholds.json', { LAMBDA_TASK_ROOT: '/var/task' })).toBe('/var/task/config/thresholds.json');
  });

  it('keeps an absolute file, and falls back to the working directory without a task root', () => {
    expect(resolveFromTaskRoot('/opt/thresholds.json', { LAMBDA_TASK_ROOT: '/var/task' })).toBe('/opt/thresholds.json');
    expect(resolveFromTaskRoot('thresholds.json', {})).toBe(resolve('thresholds.json'));
  });
});
