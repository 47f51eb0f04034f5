/**
 * Synthesizes the CDK app the way `cdk synth` does (cdk.json's context, plus overrides) into a
 * temporary directory, for tests that assert on the template. Synth bundles three functions with
 * esbuild: build it once per test file (beforeAll) and share it.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFleetTelemetryApp } from '../../infra/aws/fleet-app.js';
import type { FleetTelemetryStack } from '../../infra/aws/fleet-telemetry-stack.js';
import { REPO_ROOT } from '../../infra/aws/paths.js';

/** Long enough for a synth with bundling on a loaded two-core machine. */
export const SYNTH_TIMEOUT_MS = 180_000;

export interface Synthesized {
  readonly app: App;
  readonly stack: FleetTelemetryStack;
  readonly template: Template;
  /** The cloud assembly directory (assets are under asset.<hash>/). */
  readonly outdir: string;
  cleanup(): void;
}

export interface SynthOptions {
  /** Context values on top of cdk.json's. */
  readonly context?: Readonly<Record<string, unknown>>;
  /** Bundle the functions (slow). Off: the template is the same except for asset hashes. @default true */
  readonly bundle?: boolean;
}

/** The context cdk.json gives the app. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  return cdkJson.context;
}

export function synthesize(options: SynthOptions = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'fleet-cdk-'));
  const context: Record<string, unknown> = { ...cdkJsonContext(), ...options.context };
  // The CDK's own switch to skip asset bundling for the listed stacks (none).
  if (options.bundle === false) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({ context, outdir });
  const stack = buildFleetTelemetryApp(app);
  const template = Template.fromStack(stack);
  return { app, stack, template, outdir, cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** The one resource of `type` whose properties include `props`; fails unless exactly one matches. */
export function onlyResource(
  template: Template,
  type: string,
  props: Record<string, unknown> = {},
): { logicalId: string; properties: Record<string, unknown>; resource: Record<string, unknown> } {
  // A resource with no properties at all (e.g. a Timestream database CloudFormation names) has no
  // Properties key, so an empty filter must not ask for one.
  const found = Object.entries(
    Object.keys(props).length === 0 ? template.findResources(type) : template.findResources(type, { Properties: props }),
  );
  if (found.length !== 1) throw new Error(`expected one ${type} matching ${JSON.stringify(props)}, found ${found.length}`);
  const [logicalId, resource] = found[0] as [string, Record<string, unknown>];
  return { logicalId, resource, properties: (resource['Properties'] ?? {}) as Record<string, unknown> };
}
