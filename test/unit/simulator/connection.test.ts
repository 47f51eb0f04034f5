import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AWS_IOT_ALPN,
  awsTlsOptions,
  hasOwnCertificate,
  clientOptions,
  parseEndpoint,
  sourceAddressFor,
} from '../../../simulator/connection.js';
import { SimulatorUsageError } from '../../../simulator/errors.js';
import { backoffDelayMs } from '../../../simulator/backoff.js';

describe('parseEndpoint', () => {
  it.each([
    ['mqtt://127.0.0.1:1883', 'local', { protocol: 'mqtt', host: '127.0.0.1', port: 1883 }],
    ['mqtt://localhost', 'local', { protocol: 'mqtt', host: 'localhost', port: 1883 }],
    ['127.0.0.1:18830', 'local', { protocol: 'mqtt', host: '127.0.0.1', port: 18830 }],
    ['abc-ats.iot.eu-west-1.amazonaws.com', 'aws', { protocol: 'mqtts', host: 'abc-ats.iot.eu-west-1.amazonaws.com', port: 8883 }],
    ['abc-ats.iot.eu-west-1.amazonaws.com:443', 'aws', { protocol: 'mqtts', host: 'abc-ats.iot.eu-west-1.amazonaws.com', port: 443 }],
    ['mqtts://abc-ats.iot.eu-west-1.amazonaws.com:8883', 'aws', { protocol: 'mqtts', host: 'abc-ats.iot.eu-west-1.amazonaws.com', port: 8883 }],
  ] as const)('reads %s for %s', (text, target, expected) => {
    expect(parseEndpoint(text, target)).toEqual(expected);
  });

  it.each([
    ['http://127.0.0.1:1883', 'local', /scheme must be mqtt/],
    ['mqtt://abc.iot.amazonaws.com', 'aws', /TLS only/],
    ['mqtt://127.0.0.1:1883/path', 'local', /no path/],
    ['mqtt://', 'local', /not a URL|no host/],
  ] as const)('refuses %s for %s', (text, target, reason) => {
    expect(() => parseEndpoint(text, target)).toThrow(SimulatorUsageError);
    expect(() => parseEndpoint(text, target)).toThrow(reason);
  });
});

describe('sourceAddressFor', () => {
  const local = parseEndpoint('mqtt://127.0.0.1:1883', 'local');

  it('binds nothing while one source address has ports enough', () => {
    expect(sourceAddressFor(local, 24_999, 25_000)).toBeUndefined();
  });

  it('binds only the connections beyond the first 25,000, a new 127.0.0.x per block', () => {
    expect(sourceAddressFor(local, 0, 60_000)).toBeUndefined();
    expect(sourceAddressFor(local, 24_999, 60_000)).toBeUndefined();
    expect(sourceAddressFor(local, 25_000, 60_000)).toBe('127.0.0.2');
    expect(sourceAddressFor(local, 59_999, 60_000)).toBe('127.0.0.3');
  });

  it('never binds connections to a remote broker', () => {
    expect(sourceAddressFor(parseEndpoint('abc.iot.amazonaws.com', 'aws'), 40_000, 50_000)).toBeUndefined();
  });
});

describe('awsTlsOptions', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'certs-'));
    writeFileSync(join(dir, 'sim-00001.cert.pem'), 'CERT');
    writeFileSync(join(dir, 'sim-00001.private.key'), 'KEY');
    writeFileSync(join(dir, 'AmazonRootCA1.pem'), 'CA');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("uses the device's certificate, Amazon's root CA and SNI, on 8883 without ALPN", () => {
    const tls = awsTlsOptions(parseEndpoint('abc-ats.iot.eu-west-1.amazonaws.com', 'aws'), dir, 'sim-00001');

    expect(tls.cert?.toString()).toBe('CERT');
    expect(tls.key?.toString()).toBe('KEY');
    expect(tls.ca?.toString()).toBe('CA');
    expect(tls.servername).toBe('abc-ats.iot.eu-west-1.amazonaws.com');
    expect(tls.port).toBe(8883);
    expect(tls.rejectUnauthorized).toBe(true);
    expect(tls.ALPNProtocols).toBeUndefined();
  });

  it('asks for x-amzn-mqtt-ca by ALPN on port 443', () => {
    const tls = awsTlsOptions(parseEndpoint('abc-ats.iot.eu-west-1.amazonaws.com:443', 'aws'), dir, 'sim-00001');

    expect(AWS_IOT_ALPN).toBe('x-amzn-mqtt-ca');
    expect(tls.ALPNProtocols).toEqual(['x-amzn-mqtt-ca']);
  });

  it('falls back to the fleet\'s shared certificate for a device without its own, and prefers its own', () => {
    writeFileSync(join(dir, 'shared.cert.pem'), 'SHARED CERT');
    writeFileSync(join(dir, 'shared.private.key'), 'SHARED KEY');
    const endpoint = parseEndpoint('abc-ats.iot.eu-west-1.amazonaws.com', 'aws');

    expect(awsTlsOptions(endpoint, dir, 'sim-00002').cert?.toString()).toBe('SHARED CERT');
    expect(awsTlsOptions(endpoint, dir, 'sim-00002').key?.toString()).toBe('SHARED KEY');
    expect(awsTlsOptions(endpoint, dir, 'sim-00001').cert?.toString()).toBe('CERT');
    // The operator is not one of the things the shared certificate is attached to: it needs its own.
    expect(hasOwnCertificate(dir, 'sim-operator')).toBe(false);
    expect(hasOwnCertificate(dir, 'sim-00001')).toBe(true);
  });

  it("names the missing file of a device without a certificate", () => {
    expect(() => awsTlsOptions(parseEndpoint('abc.iot.amazonaws.com', 'aws'), dir, 'sim-00002')).toThrow(
      /--certs: cannot read .*sim-00002\.cert\.pem for sim-00002/,
    );
  });
});

describe('clientOptions', () => {
  it('speaks MQTT 3.1.1 with the device id as client id, a clean session and no built-in reconnect', () => {
    const options = clientOptions({
      endpoint: parseEndpoint('mqtt://127.0.0.1:1883', 'local'),
      clientId: 'sim-00001',
      username: 'sim-00001',
      password: 'secret',
      keepaliveS: 60,
      connectTimeoutMs: 5000,
    });

    expect(options).toMatchObject({
      protocolVersion: 4,
      clientId: 'sim-00001',
      username: 'sim-00001',
      password: 'secret',
      clean: true,
      reconnectPeriod: 0,
      queueQoSZero: false,
    });
  });
});

describe('backoffDelayMs', () => {
  it('doubles per attempt with jitter between half and all of it, up to the cap', () => {
    const low = () => 0;
    const high = () => 0.999999;

    expect(backoffDelayMs(0, 500, 30_000, low)).toBe(250);
    expect(backoffDelayMs(0, 500, 30_000, high)).toBeCloseTo(500, 0);
    expect(backoffDelayMs(3, 500, 30_000, low)).toBe(2000);
    expect(backoffDelayMs(20, 500, 30_000, high)).toBeCloseTo(30_000, 0);
    expect(backoffDelayMs(20, 500, 30_000, low)).toBe(15_000);
  });
});
