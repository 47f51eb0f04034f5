/**
 * `npm run provision` against aws-sdk-client-mock (AWS IoT's control plane has no local stand-in):
 * the exact requests per device and certificate mode, idempotence, throttling retried with backoff
 * and full jitter, pacing per API, resuming after an interruption, refusing a thing it did not make,
 * and removal of exactly what was made.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DeleteThingCommand,
  DescribeThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  IoTClient,
  ResourceNotFoundException,
  ThrottlingException,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fullJitterDelayMs } from '../../../infra/aws/provision/aws-calls.js';
import { MANIFEST_FILE } from '../../../infra/aws/provision/manifest.js';
import { provisionFleet, removeFleet } from '../../../infra/aws/provision/provision.js';
import type { ProvisionDeps } from '../../../infra/aws/provision/provision.js';

const iot = new IoTClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
const mock = mockClient(iot);

const notFound = (): ResourceNotFoundException => new ResourceNotFoundException({ message: 'no such thing', $metadata: {} });
const throttled = (): ThrottlingException => new ThrottlingException({ message: 'Rate exceeded', $metadata: {} });
const named = (name: string): Error => Object.assign(new Error(`${name} happened`), { name });

/** The requests the mock received, as [command, input] pairs in order. */
function requests(): [string, unknown][] {
  return mock.calls().map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: unknown };
    return [command.constructor.name.replace(/Command$/, ''), command.input];
  });
}

let certs = 0;
function mockHappyPath(): void {
  mock.on(DescribeThingCommand).rejects(notFound());
  mock.on(CreateThingCommand).callsFake((input: { thingName: string }) => ({ thingName: input.thingName, thingArn: `arn:thing/${input.thingName}` }));
  mock.on(CreateKeysAndCertificateCommand).callsFake(() => {
    certs += 1;
    return {
      certificateArn: `arn:aws:iot:eu-west-1:123456789012:cert/c${certs}`,
      certificateId: `c${certs}`,
      certificatePem: `-----BEGIN CERTIFICATE-----\ncert ${certs}\n-----END CERTIFICATE-----\n`,
      keyPair: { PrivateKey: `-----BEGIN RSA PRIVATE KEY-----\nkey ${certs}\n-----END RSA PRIVATE KEY-----\n`, PublicKey: 'pub' },
    };
  });
  mock.on(AttachPolicyCommand).resolves({});
  mock.on(AttachThingPrincipalCommand).resolves({});
  mock.on(DetachThingPrincipalCommand).resolves({});
  mock.on(DetachPolicyCommand).resolves({});
  mock.on(UpdateCertificateCommand).resolves({});
  mock.on(DeleteCertificateCommand).resolves({});
  mock.on(DeleteThingCommand).resolves({});
}

describe('npm run provision', () => {
  let dir: string;
  let sleeps: number[];
  let clock: number;
  const deps = (over: Partial<ProvisionDeps> = {}): ProvisionDeps => ({
    iot,
    ratePerApi: 1_000_000,
    random: () => 0.5,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    ...over,
  });
  const request = (over: Partial<Parameters<typeof provisionFleet>[0]> = {}) => ({
    devices: 2,
    prefix: 'sim',
    certsDir: dir,
    thingType: 'fleet-telemetry-device',
    policyName: 'fleet-telemetry-device',
    mode: 'per-device' as const,
    concurrency: 1,
    ...over,
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'provision-'));
    mock.reset();
    certs = 0;
    sleeps = [];
    clock = 0;
    mockHappyPath();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes each thing, its own active certificate, attaches the device policy and the certificate exclusively, in that order', async () => {
    const report = await provisionFleet(request(), deps());

    expect(requests()).toEqual([
      ['DescribeThing', { thingName: 'sim-00001' }],
      ['CreateThing', { thingName: 'sim-00001', thingTypeName: 'fleet-telemetry-device' }],
      ['CreateKeysAndCertificate', { setAsActive: true }],
      ['AttachPolicy', { policyName: 'fleet-telemetry-device', target: 'arn:aws:iot:eu-west-1:123456789012:cert/c1' }],
      ['AttachThingPrincipal', { thingName: 'sim-00001', principal: 'arn:aws:iot:eu-west-1:123456789012:cert/c1', thingPrincipalType: 'EXCLUSIVE_THING' }],
      ['DescribeThing', { thingName: 'sim-00002' }],
      ['CreateThing', { thingName: 'sim-00002', thingTypeName: 'fleet-telemetry-device' }],
      ['CreateKeysAndCertificate', { setAsActive: true }],
      ['AttachPolicy', { policyName: 'fleet-telemetry-device', target: 'arn:aws:iot:eu-west-1:123456789012:cert/c2' }],
      ['AttachThingPrincipal', { thingName: 'sim-00002', principal: 'arn:aws:iot:eu-west-1:123456789012:cert/c2', thingPrincipalType: 'EXCLUSIVE_THING' }],
    ]);
    expect(report).toMatchObject({ things: 2, thingsCreated: 2, certificatesCreated: 2, retries: 0 });
    expect(readFileSync(join(dir, 'sim-00002.cert.pem'), 'utf8')).toContain('cert 2');
    expect(readFileSync(join(dir, 'sim-00002.private.key'), 'utf8')).toContain('key 2');
    expect(statSync(join(dir, 'sim-00001.private.key')).mode & 0o777).toBe(0o600);
    expect(report.rootCaMissing).toMatch(/curl -o .*AmazonRootCA1\.pem https:\/\/www\.amazontrust\.com\/repository\/AmazonRootCA1\.pem/);
  });

  it('creates nothing twice when run again: no new thing checks, no new certificates', async () => {
    await provisionFleet(request(), deps());
    mock.resetHistory();
    const again = await provisionFleet(request(), deps());

    const names = requests().map(([name]) => name);
    expect(names).not.toContain('DescribeThing');
    expect(names).not.toContain('CreateKeysAndCertificate');
    expect(names.filter((n) => n === 'CreateThing')).toHaveLength(2);
    expect(again).toMatchObject({ things: 2, thingsCreated: 0, certificatesCreated: 0 });
  });

  it('attaches one shared certificate to every thing, non-exclusively, with the policy attached once', async () => {
    const report = await provisionFleet(request({ devices: 3, mode: 'shared' }), deps());

    expect(mock.commandCalls(CreateKeysAndCertificateCommand)).toHaveLength(1);
    expect(mock.commandCalls(AttachPolicyCommand).map((c) => c.args[0].input)).toEqual([
      { policyName: 'fleet-telemetry-device', target: 'arn:aws:iot:eu-west-1:123456789012:cert/c1' },
    ]);
    expect(mock.commandCalls(AttachThingPrincipalCommand).map((c) => c.args[0].input)).toEqual(
      ['sim-00001', 'sim-00002', 'sim-00003'].map((thingName) => ({ thingName, principal: 'arn:aws:iot:eu-west-1:123456789012:cert/c1', thingPrincipalType: 'NON_EXCLUSIVE_THING' })),
    );
    expect(existsSync(join(dir, 'shared.cert.pem'))).toBe(true);
    expect(existsSync(join(dir, 'sim-00001.cert.pem'))).toBe(false);
    expect(report).toMatchObject({ things: 3, certificatesCreated: 1 });
  });

  it('makes an operator with its own certificate and the operator policy when asked, and removes it with that policy', async () => {
    await provisionFleet(request({ devices: 1, mode: 'shared', operatorPolicy: 'fleet-telemetry-operator' }), deps());

    const arn = 'arn:aws:iot:eu-west-1:123456789012:cert/c2';
    expect(requests().slice(-5)).toEqual([
      ['DescribeThing', { thingName: 'sim-operator' }],
      ['CreateThing', { thingName: 'sim-operator' }],
      ['CreateKeysAndCertificate', { setAsActive: true }],
      ['AttachPolicy', { policyName: 'fleet-telemetry-operator', target: arn }],
      ['AttachThingPrincipal', { thingName: 'sim-operator', principal: arn, thingPrincipalType: 'EXCLUSIVE_THING' }],
    ]);
    expect(existsSync(join(dir, 'sim-operator.cert.pem'))).toBe(true);

    mock.resetHistory();
    await removeFleet({ prefix: 'sim', certsDir: dir, concurrency: 1 }, deps());
    expect(mock.commandCalls(DetachPolicyCommand).map((c) => c.args[0].input)).toContainEqual({ policyName: 'fleet-telemetry-operator', target: arn });
    expect(mock.commandCalls(DeleteThingCommand).map((c) => c.args[0].input)).toContainEqual({ thingName: 'sim-operator' });
  });

  it('retries a throttled request with exponential backoff and full jitter, then goes on', async () => {
    mock.on(CreateThingCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({ thingName: 'sim-00001' });
    const report = await provisionFleet(request({ devices: 1 }), deps());

    expect(mock.commandCalls(CreateThingCommand)).toHaveLength(3);
    // Full jitter with random() = 0.5: half of 200 ms, then half of 400 ms (pacing waits are microseconds here).
    expect(sleeps.filter((ms) => ms >= 1)).toEqual([100, 200]);
    expect(report.retries).toBe(2);
  });

  it('draws each backoff between zero and a ceiling that doubles up to the maximum', () => {
    expect([0, 1, 2, 10].map((attempt) => fullJitterDelayMs(attempt, 200, 20_000, () => 1))).toEqual([200, 400, 800, 20_000]);
    expect(fullJitterDelayMs(3, 200, 20_000, () => 0)).toBe(0);
  });

  it('gives up on a request still throttled after 8 attempts, saying so', async () => {
    mock.on(CreateThingCommand).rejects(throttled());
    await expect(provisionFleet(request({ devices: 1 }), deps())).rejects.toThrow('CreateThing failed after 8 attempts: ThrottlingException: Rate exceeded');
  });

  it('does not retry an error a retry cannot fix', async () => {
    mock.on(AttachPolicyCommand).rejects(named('ResourceNotFoundException'));
    await expect(provisionFleet(request({ devices: 1 }), deps())).rejects.toThrow(/^AttachPolicy failed: ResourceNotFoundException/);
    expect(mock.commandCalls(AttachPolicyCommand)).toHaveLength(1);
  });

  it('paces each API to the given rate of requests per second', async () => {
    await provisionFleet(request({ devices: 3 }), deps({ ratePerApi: 10 }));

    // Three CreateThing calls at 10 a second: each after the first waits for its 100 ms slot.
    expect(clock).toBeGreaterThanOrEqual(200);
    expect(sleeps.every((ms) => ms <= 100)).toBe(true);
  });

  it('resumes after an interruption without making again what it made', async () => {
    mock.on(CreateKeysAndCertificateCommand).callsFake(() => {
      certs += 1;
      if (certs === 2) throw named('AccessDeniedException');
      return { certificateArn: `arn:cert/c${certs}`, certificateId: `c${certs}`, certificatePem: 'pem', keyPair: { PrivateKey: 'key', PublicKey: 'pub' } };
    });
    await expect(provisionFleet(request({ devices: 3 }), deps())).rejects.toThrow(/CreateKeysAndCertificate failed: AccessDeniedException/);
    mock.reset();
    mockHappyPath();

    const resumed = await provisionFleet(request({ devices: 3 }), deps());

    // sim-00001 was finished; sim-00002's thing was recorded, so it is not checked again; sim-00003 is new.
    expect(mock.commandCalls(DescribeThingCommand).map((c) => c.args[0].input)).toEqual([{ thingName: 'sim-00003' }]);
    expect(mock.commandCalls(CreateKeysAndCertificateCommand)).toHaveLength(2);
    expect(resumed).toMatchObject({ things: 3, thingsCreated: 1, certificatesCreated: 2 });
  });

  it('replaces a recorded certificate whose key file is gone, removing the unusable one', async () => {
    await provisionFleet(request({ devices: 1 }), deps());
    rmSync(join(dir, 'sim-00001.private.key'));
    mock.resetHistory();

    await provisionFleet(request({ devices: 1 }), deps());

    expect(requests().map(([name]) => name)).toEqual([
      'CreateThing',
      'DetachThingPrincipal',
      'DetachPolicy',
      'UpdateCertificate',
      'DeleteCertificate',
      'CreateKeysAndCertificate',
      'AttachPolicy',
      'AttachThingPrincipal',
    ]);
    expect(readFileSync(join(dir, 'sim-00001.private.key'), 'utf8')).toContain('key 2');
  });

  it('refuses a thing of the same name it did not create, and changes nothing of it', async () => {
    mock.on(DescribeThingCommand).resolves({ thingName: 'sim-00001' });

    await expect(provisionFleet(request({ devices: 1 }), deps())).rejects.toThrow(/thing sim-00001 already exists and was not created from .*: choose another --prefix/);
    expect(mock.commandCalls(CreateThingCommand)).toHaveLength(0);
  });

  it('refuses to mix two fleets in one folder', async () => {
    await provisionFleet(request({ devices: 1 }), deps());
    await expect(provisionFleet(request({ devices: 1, mode: 'shared' }), deps())).rejects.toThrow(/provisioned with mode per-device, not shared/);
  });

  it('removes exactly what it created: detach, deactivate, delete, then the thing; and nothing when run again', async () => {
    await provisionFleet(request(), deps());
    mock.resetHistory();

    const report = await removeFleet({ prefix: 'sim', certsDir: dir, concurrency: 1 }, deps());

    const arn = (n: number): string => `arn:aws:iot:eu-west-1:123456789012:cert/c${n}`;
    expect(requests()).toEqual([
      ['DetachThingPrincipal', { thingName: 'sim-00001', principal: arn(1) }],
      ['DetachPolicy', { policyName: 'fleet-telemetry-device', target: arn(1) }],
      ['UpdateCertificate', { certificateId: 'c1', newStatus: 'INACTIVE' }],
      ['DeleteCertificate', { certificateId: 'c1' }],
      ['DeleteThing', { thingName: 'sim-00001' }],
      ['DetachThingPrincipal', { thingName: 'sim-00002', principal: arn(2) }],
      ['DetachPolicy', { policyName: 'fleet-telemetry-device', target: arn(2) }],
      ['UpdateCertificate', { certificateId: 'c2', newStatus: 'INACTIVE' }],
      ['DeleteCertificate', { certificateId: 'c2' }],
      ['DeleteThing', { thingName: 'sim-00002' }],
    ]);
    expect(report).toMatchObject({ action: 'remove', things: 2, certificatesDeleted: 2 });
    expect(existsSync(join(dir, 'sim-00001.private.key'))).toBe(false);

    mock.resetHistory();
    const again = await removeFleet({ prefix: 'sim', certsDir: dir }, deps());
    expect(mock.calls()).toHaveLength(0);
    expect(again).toMatchObject({ things: 0, certificatesDeleted: 0 });
  });

  it('removes a shared certificate after every thing is detached from it, waiting out a delete conflict', async () => {
    await provisionFleet(request({ mode: 'shared' }), deps());
    mock.resetHistory();
    mock.on(DeleteCertificateCommand).rejectsOnce(named('DeleteConflictException')).resolves({});

    await removeFleet({ prefix: 'sim', certsDir: dir, concurrency: 1 }, deps());

    const arn = 'arn:aws:iot:eu-west-1:123456789012:cert/c1';
    expect(requests()).toEqual([
      ['DetachThingPrincipal', { thingName: 'sim-00001', principal: arn }],
      ['DeleteThing', { thingName: 'sim-00001' }],
      ['DetachThingPrincipal', { thingName: 'sim-00002', principal: arn }],
      ['DeleteThing', { thingName: 'sim-00002' }],
      ['DetachPolicy', { policyName: 'fleet-telemetry-device', target: arn }],
      ['UpdateCertificate', { certificateId: 'c1', newStatus: 'INACTIVE' }],
      ['DeleteCertificate', { certificateId: 'c1' }],
      ['DeleteCertificate', { certificateId: 'c1' }],
    ]);
  });

  it('treats what is already gone as removed, so an interrupted removal can run again', async () => {
    await provisionFleet(request({ devices: 1 }), deps());
    mock.on(DetachThingPrincipalCommand).rejects(notFound());
    mock.on(DeleteThingCommand).rejects(notFound());

    await expect(removeFleet({ prefix: 'sim', certsDir: dir }, deps())).resolves.toMatchObject({ things: 1, certificatesDeleted: 1 });
  });

  it('refuses to remove with a prefix the folder was not provisioned with, or from a folder without a manifest', async () => {
    await provisionFleet(request({ devices: 1 }), deps());
    await expect(removeFleet({ prefix: 'other', certsDir: dir }, deps())).rejects.toThrow(/holds the fleet of prefix sim, not other/);
    const empty = mkdtempSync(join(tmpdir(), 'provision-empty-'));
    try {
      await expect(removeFleet({ prefix: 'sim', certsDir: empty }, deps())).rejects.toThrow(/no provisioned fleet/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('reads past a line torn by a crash at the end of the manifest', async () => {
    await provisionFleet(request({ devices: 1 }), deps());
    writeFileSync(join(dir, MANIFEST_FILE), `${readFileSync(join(dir, MANIFEST_FILE), 'utf8')}{"kind":"thi`);
    mock.resetHistory();

    await expect(provisionFleet(request({ devices: 1 }), deps())).resolves.toMatchObject({ things: 1, certificatesCreated: 0 });
  });
});
