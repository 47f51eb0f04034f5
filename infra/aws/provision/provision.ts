/**
 * `npm run provision`: makes a simulated fleet's things and credentials in AWS IoT, and removes them
 * again (docs/architecture.md, "Provisioning a simulated fleet").
 *
 * Provisioning device `P-00001`... : the thing (of the stack's thing type), its credentials, the
 * stack's device policy on the certificate, the certificate attached to the thing; the files the
 * simulator needs (`<id>.cert.pem`, `<id>.private.key`, or `shared.cert.pem`/`shared.private.key`)
 * in the certificates folder. Everything is written to the folder's manifest (manifest.ts) as it is
 * made: run twice, nothing is made twice; interrupted, it continues. A thing of the same name that
 * this folder did not create is never adopted (`--remove` would delete it): the run stops instead.
 *
 * Removal undoes exactly what the manifest lists: detach the certificate from the thing and the
 * policy from the certificate, deactivate and delete the certificate, delete the thing. Then
 * `cdk destroy` can delete the policies, which CloudFormation cannot while certificates hold them.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import type { CreateKeysAndCertificateCommandOutput, IoTClient } from '@aws-sdk/client-iot';
import { ConfigError } from '../../../lambdas/domain/errors.js';
import { AwsCalls, ProvisionError } from './aws-calls.js';
import type { AwsCallsOptions } from './aws-calls.js';
import { Manifest, SHARED_OWNER } from './manifest.js';
import type { CertificateMode, CertificateRecord, ManifestMeta } from './manifest.js';

/** Amazon's root CA the simulator verifies AWS IoT's server certificate with. */
export const ROOT_CA_FILE = 'AmazonRootCA1.pem';
export const ROOT_CA_URL = 'https://www.amazontrust.com/repository/AmazonRootCA1.pem';

export interface ProvisionRequest {
  readonly devices: number;
  readonly prefix: string;
  readonly certsDir: string;
  /** The stack's thing type and device policy. */
  readonly thingType: string;
  readonly policyName: string;
  readonly mode: CertificateMode;
  /**
   * Also an operator, `<prefix>-operator` (no thing type), with a certificate of its own and this
   * policy (the stack's operator policy): the simulator then counts alarm events on AWS.
   */
  readonly operatorPolicy?: string;
  /** Devices worked on at once. @default 8 */
  readonly concurrency?: number;
}

export interface ProvisionDeps extends Omit<AwsCallsOptions, 'iot' | 'ratePerApi'> {
  readonly iot: IoTClient;
  /** @default 10 */
  readonly ratePerApi?: number;
  /** After each device: how many are done of how many. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What a run did. */
export interface ProvisionReport {
  readonly action: 'provision' | 'remove';
  readonly mode: CertificateMode;
  readonly certsDir: string;
  /** Things the folder now holds (provision) or removed (remove). */
  readonly things: number;
  /** Things and certificates made (or deleted) by this run; the rest were done by an earlier one. */
  readonly thingsCreated: number;
  readonly certificatesCreated: number;
  readonly certificatesDeleted: number;
  /** Requests sent and retries after throttling or transient errors. */
  readonly requests: number;
  readonly retries: number;
  /** Set when the root CA is not in the folder yet: how to get it. */
  readonly rootCaMissing?: string;
}

/** Zero-padded thing names, as the simulator's device ids: `P-00001`. */
export function thingNameOf(prefix: string, index: number): string {
  return `${prefix}-${String(index + 1).padStart(5, '0')}`;
}

/** The simulator's files for one owner (a device id, or `shared`). */
export function credentialFiles(certsDir: string, owner: string): { cert: string; key: string } {
  return { cert: join(certsDir, `${owner}.cert.pem`), key: join(certsDir, `${owner}.private.key`) };
}

/** Runs `work` over `items` with at most `concurrency` at once; the first failure stops new work and is thrown. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  if (failure !== undefined) throw failure;
}

function checkMeta(manifest: Manifest, meta: ManifestMeta, certsDir: string): void {
  const known = manifest.state.meta;
  if (known === undefined) {
    manifest.record({ kind: 'meta', ...meta });
    return;
  }
  for (const key of ['prefix', 'mode', 'policyName', 'thingType'] as const) {
    if (known[key] !== meta[key]) {
      throw new ConfigError(`${certsDir} holds a fleet provisioned with ${key} ${known[key]}, not ${meta[key]}: use another --certs folder, or --remove it first`);
    }
  }
}

/** Provisioning and removal over one IoT client and one certificates folder. */
class Provisioner {
  readonly calls: AwsCalls;
  thingsCreated = 0;
  certificatesCreated = 0;
  certificatesDeleted = 0;

  constructor(
    private readonly manifest: Manifest,
    private readonly certsDir: string,
    private readonly policyName: string,
    deps: ProvisionDeps,
  ) {
    this.calls = new AwsCalls({ ...deps, ratePerApi: deps.ratePerApi ?? 10 });
  }

  /** The thing, made by this folder: refuses a same-named thing it did not make. */
  async ensureThing(thingName: string, thingType: string | undefined): Promise<void> {
    if (!this.manifest.state.things.has(thingName)) {
      const existing = await this.calls.send('DescribeThing', (iot) => iot.send(new DescribeThingCommand({ thingName })), { tolerate: ['ResourceNotFoundException'] });
      if (existing !== undefined) {
        throw new ProvisionError(`thing ${thingName} already exists and was not created from ${this.certsDir}: choose another --prefix (nothing of it was changed)`);
      }
      // Written before the thing is made, so an interruption right after still lets --remove find it.
      this.manifest.record({ kind: 'thing', thingName });
      this.thingsCreated += 1;
    }
    // Idempotent for the same name and type: a resumed run sends it again safely.
    await this.calls.send('CreateThing', (iot) => iot.send(new CreateThingCommand({ thingName, ...(thingType === undefined ? {} : { thingTypeName: thingType }) })));
  }

  /**
   * The owner's certificate with its files in the folder: the recorded one, or a new one (active).
   * A recorded certificate whose key file is gone (an interruption between recording and writing it)
   * cannot be used by anyone: it is removed and a new one made.
   */
  async ensureCertificate(owner: string, policyName?: string): Promise<CertificateRecord> {
    const files = credentialFiles(this.certsDir, owner);
    const recorded = this.manifest.state.certificates.get(owner);
    if (recorded !== undefined && existsSync(files.cert) && existsSync(files.key)) return recorded;
    if (recorded !== undefined) await this.deleteCertificate(owner, recorded, owner === SHARED_OWNER ? [] : [owner]);
    const out = await this.calls.send<CreateKeysAndCertificateCommandOutput>('CreateKeysAndCertificate', (iot) => iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true })));
    const { certificateArn, certificateId, certificatePem, keyPair } = out ?? {};
    if (certificateArn === undefined || certificateId === undefined || certificatePem === undefined || keyPair?.PrivateKey === undefined) {
      throw new ProvisionError(`CreateKeysAndCertificate for ${owner} returned no certificate or key`);
    }
    const record: CertificateRecord = { certificateArn, certificateId, ...(policyName === undefined ? {} : { policyName }) };
    this.manifest.record({ kind: 'certificate', owner, ...record });
    writeFileSync(files.key, keyPair.PrivateKey, { mode: 0o600 });
    writeFileSync(files.cert, certificatePem, { mode: 0o644 });
    this.certificatesCreated += 1;
    return record;
  }

  async attach(thingName: string, certificate: CertificateRecord, exclusive: boolean): Promise<void> {
    await this.calls.send(
      'AttachThingPrincipal',
      (iot) => iot.send(new AttachThingPrincipalCommand({ thingName, principal: certificate.certificateArn, thingPrincipalType: exclusive ? 'EXCLUSIVE_THING' : 'NON_EXCLUSIVE_THING' })),
    );
  }

  async attachPolicy(certificate: CertificateRecord): Promise<void> {
    const policyName = certificate.policyName ?? this.policyName;
    await this.calls.send('AttachPolicy', (iot) => iot.send(new AttachPolicyCommand({ policyName, target: certificate.certificateArn })));
  }

  /** Detaches the certificate from `things` and from the policy, deactivates and deletes it, and its files. */
  async deleteCertificate(owner: string, certificate: CertificateRecord, things: readonly string[]): Promise<void> {
    const gone = ['ResourceNotFoundException'];
    for (const thingName of things) {
      await this.calls.send('DetachThingPrincipal', (iot) => iot.send(new DetachThingPrincipalCommand({ thingName, principal: certificate.certificateArn })), { tolerate: gone });
    }
    await this.calls.send('DetachPolicy', (iot) => iot.send(new DetachPolicyCommand({ policyName: certificate.policyName ?? this.policyName, target: certificate.certificateArn })), {
      tolerate: gone,
    });
    await this.calls.send('UpdateCertificate', (iot) => iot.send(new UpdateCertificateCommand({ certificateId: certificate.certificateId, newStatus: 'INACTIVE' })), { tolerate: gone });
    // Detaching a thing takes a few seconds to be seen (AWS: DetachThingPrincipal is asynchronous):
    // until then the delete is refused with DeleteConflictException, worth waiting for.
    await this.calls.send('DeleteCertificate', (iot) => iot.send(new DeleteCertificateCommand({ certificateId: certificate.certificateId })), {
      tolerate: gone,
      retryAlso: ['DeleteConflictException', 'CertificateStateException'],
    });
    this.manifest.record({ kind: 'removed-certificate', owner });
    const files = credentialFiles(this.certsDir, owner);
    rmSync(files.cert, { force: true });
    rmSync(files.key, { force: true });
    this.certificatesDeleted += 1;
  }

  async deleteThing(thingName: string): Promise<void> {
    await this.calls.send('DeleteThing', (iot) => iot.send(new DeleteThingCommand({ thingName })), { tolerate: ['ResourceNotFoundException'] });
    this.manifest.record({ kind: 'removed-thing', thingName });
  }
}

/** Provisions things `P-00001`... with their credentials; see the module comment. */
export async function provisionFleet(request: ProvisionRequest, deps: ProvisionDeps): Promise<ProvisionReport> {
  const { certsDir, mode } = request;
  mkdirSync(certsDir, { recursive: true, mode: 0o700 });
  const manifest = Manifest.open(certsDir);
  checkMeta(manifest, { prefix: request.prefix, mode, policyName: request.policyName, thingType: request.thingType }, certsDir);
  const p = new Provisioner(manifest, certsDir, request.policyName, deps);
  let shared: CertificateRecord | undefined;
  if (mode === 'shared') {
    shared = await p.ensureCertificate(SHARED_OWNER);
    await p.attachPolicy(shared);
  }
  const names = Array.from({ length: request.devices }, (_, i) => thingNameOf(request.prefix, i));
  let done = 0;
  await pool(names, request.concurrency ?? 8, async (thingName) => {
    await p.ensureThing(thingName, request.thingType);
    if (shared !== undefined) {
      await p.attach(thingName, shared, false);
    } else {
      const own = await p.ensureCertificate(thingName);
      await p.attachPolicy(own);
      await p.attach(thingName, own, true);
    }
    done += 1;
    deps.onProgress?.(done, names.length);
  });
  if (request.operatorPolicy !== undefined) {
    const operator = `${request.prefix}-operator`;
    await p.ensureThing(operator, undefined);
    const certificate = await p.ensureCertificate(operator, request.operatorPolicy);
    await p.attachPolicy(certificate);
    await p.attach(operator, certificate, true);
  }
  return {
    action: 'provision',
    mode,
    certsDir,
    things: manifest.state.things.size,
    thingsCreated: p.thingsCreated,
    certificatesCreated: p.certificatesCreated,
    certificatesDeleted: p.certificatesDeleted,
    requests: p.calls.requests,
    retries: p.calls.retries,
    ...(existsSync(join(certsDir, ROOT_CA_FILE)) ? {} : { rootCaMissing: `curl -o ${join(certsDir, ROOT_CA_FILE)} ${ROOT_CA_URL}` }),
  };
}

/** Removes what the folder's manifest says was provisioned, for `prefix`. */
export async function removeFleet(request: { readonly prefix: string; readonly certsDir: string; readonly concurrency?: number }, deps: ProvisionDeps): Promise<ProvisionReport> {
  const { certsDir } = request;
  const manifest = Manifest.open(certsDir);
  const meta = manifest.state.meta;
  if (meta === undefined) throw new ConfigError(`${certsDir} holds no provisioned fleet (no manifest): nothing to remove`);
  if (meta.prefix !== request.prefix) throw new ConfigError(`${certsDir} holds the fleet of prefix ${meta.prefix}, not ${request.prefix}`);
  const p = new Provisioner(manifest, certsDir, meta.policyName, deps);
  const things = [...manifest.state.things];
  const shared = manifest.state.certificates.get(SHARED_OWNER);
  let done = 0;
  await pool(things, request.concurrency ?? 8, async (thingName) => {
    const own = manifest.state.certificates.get(thingName);
    if (own !== undefined) await p.deleteCertificate(thingName, own, [thingName]);
    if (shared !== undefined) {
      await p.calls.send('DetachThingPrincipal', (iot) => iot.send(new DetachThingPrincipalCommand({ thingName, principal: shared.certificateArn })), { tolerate: ['ResourceNotFoundException'] });
    }
    await p.deleteThing(thingName);
    done += 1;
    deps.onProgress?.(done, things.length);
  });
  // Certificates left without a thing (the shared one; one whose thing went first in an interrupted run).
  for (const [owner, certificate] of [...manifest.state.certificates]) await p.deleteCertificate(owner, certificate, []);
  return {
    action: 'remove',
    mode: meta.mode,
    certsDir,
    things: things.length,
    thingsCreated: 0,
    certificatesCreated: 0,
    certificatesDeleted: p.certificatesDeleted,
    requests: p.calls.requests,
    retries: p.calls.retries,
  };
}
