import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../../simulator/main.js';
import { resolveFleetOptions } from '../../../simulator/options.js';

describe('the telemetry topic the simulator publishes on', () => {
  const certs = mkdtempSync(join(tmpdir(), 'sim-topic-'));
  afterAll(() => rmSync(certs, { recursive: true, force: true }));
  const aws = ['--target', 'aws', '--endpoint', 'abc-ats.iot.eu-west-1.amazonaws.com', '--certs', certs];

  it('is Basic Ingest by default against AWS, where it costs no messaging', () => {
    expect(resolveFleetOptions(parseArgs(aws, certs).options).topic).toBe('basic-ingest');
  });

  it('is the plain topic against AWS with --topic plain', () => {
    expect(resolveFleetOptions(parseArgs([...aws, '--topic', 'plain'], certs).options).topic).toBe('plain');
  });

  it('is the plain topic locally by default, and Basic Ingest there when asked', () => {
    expect(resolveFleetOptions(parseArgs(['--no-register'], certs).options).topic).toBe('plain');
    expect(resolveFleetOptions(parseArgs(['--no-register', '--topic', 'basic-ingest'], certs).options).topic).toBe('basic-ingest');
  });

  it('refuses a topic kind it does not know, naming the choices', () => {
    expect(() => parseArgs(['--topic', 'fast'], certs)).toThrow(/plain, basic-ingest|Allowed choices/);
  });
});
