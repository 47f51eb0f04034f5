/**
 * What `npm run provision` created, as an append-only JSON-lines file in the certificates folder
 * (`provisioned.jsonl`). Each step is written down before (a thing) or right after (a certificate,
 * whose private key AWS returns only once) it is made, so an interrupted run resumes where it
 * stopped and `--remove` deletes exactly what was created. A torn last line (a crash mid-write) is
 * ignored.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../../lambdas/domain/errors.js';

export const MANIFEST_FILE = 'provisioned.jsonl';

/** One certificate and the things it is attached to (one, or all of them when shared). */
export interface CertificateRecord {
  readonly certificateArn: string;
  readonly certificateId: string;
  /** The policy attached to it when not the fleet's device policy (the operator's). */
  readonly policyName?: string;
}

/** How the fleet authenticates: one certificate per device, or one certificate shared by every thing. */
export type CertificateMode = 'per-device' | 'shared';

export interface ManifestMeta {
  readonly prefix: string;
  readonly mode: CertificateMode;
  readonly policyName: string;
  readonly thingType: string;
}

type Line =
  | ({ readonly kind: 'meta' } & ManifestMeta)
  | { readonly kind: 'thing'; readonly thingName: string }
  | ({ readonly kind: 'certificate'; readonly owner: string } & CertificateRecord)
  | { readonly kind: 'removed-thing'; readonly thingName: string }
  | { readonly kind: 'removed-certificate'; readonly owner: string };

/** The folded state of the manifest. */
export interface ManifestState {
  readonly meta: ManifestMeta | undefined;
  /** Things this folder created (and has not removed), in creation order. */
  readonly things: ReadonlySet<string>;
  /** Certificates by owner: a thing name, or `shared`. */
  readonly certificates: ReadonlyMap<string, CertificateRecord>;
}

/** The owner name of the one shared certificate. */
export const SHARED_OWNER = 'shared';

export class Manifest {
  private readonly file: string;
  private meta: ManifestMeta | undefined;
  private readonly things = new Set<string>();
  private readonly certificates = new Map<string, CertificateRecord>();

  private constructor(dir: string) {
    this.file = join(dir, MANIFEST_FILE);
  }

  /** Reads the manifest of `dir` (empty if there is none). */
  static open(dir: string): Manifest {
    const manifest = new Manifest(dir);
    if (!existsSync(manifest.file)) return manifest;
    const lines = readFileSync(manifest.file, 'utf8').split('\n');
    for (const [i, text] of lines.entries()) {
      if (text.trim() === '') continue;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch (error) {
        // Only the last line can be torn by a crash; anything else is a damaged file.
        if (i >= lines.length - 2) continue;
        throw new ConfigError(`${manifest.file}: line ${i + 1} is not JSON: ${(error as Error).message}`);
      }
      manifest.apply(line);
    }
    return manifest;
  }

  get state(): ManifestState {
    return { meta: this.meta, things: this.things, certificates: this.certificates };
  }

  private apply(line: Line): void {
    switch (line.kind) {
      case 'meta':
        this.meta = { prefix: line.prefix, mode: line.mode, policyName: line.policyName, thingType: line.thingType };
        break;
      case 'thing':
        this.things.add(line.thingName);
        break;
      case 'certificate':
        this.certificates.set(line.owner, {
          certificateArn: line.certificateArn,
          certificateId: line.certificateId,
          ...(line.policyName === undefined ? {} : { policyName: line.policyName }),
        });
        break;
      case 'removed-thing':
        this.things.delete(line.thingName);
        break;
      case 'removed-certificate':
        this.certificates.delete(line.owner);
        break;
    }
  }

  /** Appends one line (and applies it). */
  record(line: Line): void {
    appendFileSync(this.file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
    this.apply(line);
  }
}
