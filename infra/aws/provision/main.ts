/**
 * `npm run provision -- --devices N --prefix P --certs DIR [--region R] [--thing-type T]
 * [--certificate per-device|shared] [--rate N] [--json]`, and `--remove --prefix P --certs DIR`:
 * a simulated fleet's things and credentials in AWS IoT (provision.ts). Progress on stderr, what was
 * done on stdout; errors as one line, usage errors exit 2.
 */
import { pathToFileURL } from 'node:url';
import { IoTClient } from '@aws-sdk/client-iot';
import { Command, Option } from 'commander';
import { pipeline } from '../../pipeline.js';
import { UsageError, integerArgument, runCli, writeJson, writeText } from '../../cli/cli-support.js';
import type { ProvisionReport } from './provision.js';
import { provisionFleet, removeFleet } from './provision.js';
import type { CertificateMode } from './manifest.js';

interface Flags {
  devices?: number;
  prefix: string;
  certs: string;
  region?: string;
  thingType: string;
  policy: string;
  certificate: CertificateMode;
  rate: number;
  concurrency: number;
  operator?: boolean;
  operatorPolicy: string;
  remove?: boolean;
  json?: boolean;
}

/** The report as lines for a person. */
export function formatReport(r: ProvisionReport): string {
  const lines =
    r.action === 'provision'
      ? [
          `${r.things} things in ${r.certsDir} (${r.mode === 'shared' ? 'one shared certificate' : 'one certificate each'}): ${r.thingsCreated} things and ${r.certificatesCreated} certificates created by this run`,
          `${r.requests} requests, ${r.retries} retried after throttling or transient errors`,
        ]
      : [`removed ${r.things} things and ${r.certificatesDeleted} certificates listed in ${r.certsDir}`, `${r.requests} requests, ${r.retries} retried`];
  if (r.rootCaMissing !== undefined) lines.push(`the simulator also needs Amazon's root CA in the folder, once: ${r.rootCaMissing}`);
  return lines.join('\n');
}

export function buildCommand(): Command {
  return new Command('provision')
    .description("Create (or --remove) a simulated fleet's things and certificates in AWS IoT, for npm run simulate -- --target aws.")
    .option('--devices <N>', 'things P-00001 to P-N', integerArgument({ min: 1, max: 1_000_000 }))
    .requiredOption('--prefix <P>', 'thing names are <P>-00001...: the simulator\'s --prefix')
    .requiredOption('--certs <DIR>', 'where the certificates, keys and the manifest go: the simulator\'s --certs')
    .option('--region <R>', "AWS region (default: the SDK's chain, e.g. AWS_REGION)")
    .option('--thing-type <T>', "the stack's thing type", `${pipeline.name}-device`)
    .option('--policy <NAME>', "the stack's device policy", `${pipeline.name}-device`)
    .addOption(
      new Option('--certificate <MODE>', 'per-device: one certificate per thing (as real devices); shared: one certificate attached to every thing (large simulated fleets)')
        .choices(['per-device', 'shared'])
        .default('per-device'),
    )
    .option('--rate <N>', 'requests per second per IoT API (AWS throttles each API per account)', integerArgument({ min: 1, max: 100 }), 10)
    .option('--concurrency <N>', 'things worked on at once', integerArgument({ min: 1, max: 64 }), 8)
    .option('--operator', 'also an operator, <P>-operator, with its own certificate: the simulator then counts alarm events on AWS')
    .option('--operator-policy <NAME>', "the stack's operator policy", `${pipeline.name}-operator`)
    .option('--remove', 'remove what this --certs folder lists as provisioned (then cdk destroy can delete the policies)')
    .option('--json', 'print what was done as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  npm run provision -- --devices 100 --prefix sim --certs ./certs\n  npm run provision -- --devices 100000 --prefix load --certs ./load-certs --certificate shared\n  npm run provision -- --remove --prefix sim --certs ./certs',
    );
}

async function run(f: Flags): Promise<void> {
  if (f.remove !== true && f.devices === undefined) throw new UsageError('--devices: required to provision (or pass --remove)');
  const iot = new IoTClient({ maxAttempts: 1, ...(f.region === undefined ? {} : { region: f.region }) });
  let lastShown = 0;
  const onProgress = (done: number, total: number): void => {
    const now = Date.now();
    if (done === total || now - lastShown >= 1000) {
      lastShown = now;
      process.stderr.write(`provision: ${done}/${total} things\n`);
    }
  };
  try {
    const deps = { iot, ratePerApi: f.rate, onProgress };
    const report =
      f.remove === true
        ? await removeFleet({ prefix: f.prefix, certsDir: f.certs, concurrency: f.concurrency }, deps)
        : await provisionFleet(
            { devices: f.devices as number, prefix: f.prefix, certsDir: f.certs, thingType: f.thingType, policyName: f.policy, mode: f.certificate, concurrency: f.concurrency, ...(f.operator === true ? { operatorPolicy: f.operatorPolicy } : {}) },
            deps,
          );
    if (f.json === true) writeJson(report);
    else writeText(formatReport(report));
  } finally {
    iot.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const program = buildCommand().action(async () => {
    await run(program.opts<Flags>());
  });
  await runCli(program);
}
