/**
 * `npm run thresholds -- validate FILE [--json]` and `deploy FILE --target aws [--json]` (README.md,
 * "Change thresholds on AWS"). validate checks a thresholds file as the functions, the synth and the
 * local stack do (exit 0 with a one-line summary; 2 with the reason naming the rule and the field);
 * deploy validates first, then creates an AppConfig version and starts its deployment. The AWS SDK is
 * loaded only for deploy.
 */
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadThresholdsFile } from '../../lambdas/config/load-thresholds.js';
import type { ThresholdRules } from '../../lambdas/domain/thresholds.js';
import { writeJson, writeText } from './cli-support.js';

/** What validate prints: the file, how many rules, how many of each kind. */
export interface ThresholdsSummary {
  readonly file: string;
  readonly rules: number;
  readonly byKind: Readonly<Record<string, number>>;
}

/** Validates the file (a ConfigError naming the file, rule and field otherwise) and counts its rules by kind. */
export function validateThresholdsFile(file: string): { readonly rules: ThresholdRules; readonly summary: ThresholdsSummary } {
  const rules = loadThresholdsFile(file);
  const byKind: Record<string, number> = {};
  for (const rule of rules.rules) byKind[rule.kind] = (byKind[rule.kind] ?? 0) + 1;
  return { rules, summary: { file, rules: rules.rules.length, byKind } };
}

/** e.g. `config/thresholds.json: 3 rules (above 1, below 1, silentFor 1)` */
export function formatSummary(summary: ThresholdsSummary): string {
  const kinds = Object.entries(summary.byKind)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  return `${summary.file}: ${summary.rules} rule${summary.rules === 1 ? '' : 's'}${kinds === '' ? '' : ` (${kinds})`}`;
}

interface DeployFlags {
  readonly target: 'aws';
  readonly stack?: string;
  readonly region?: string;
  readonly json?: boolean;
}

async function deploy(file: string, flags: DeployFlags, repoRoot: string): Promise<void> {
  const { summary } = validateThresholdsFile(file);
  const content = readFileSync(file);
  const [{ AppConfigClient }, { resolveStackOutputs }, { deployThresholds, thresholdsTargetOf }] = await Promise.all([
    import('@aws-sdk/client-appconfig'),
    import('../aws/stack-outputs.js'),
    import('../aws/thresholds-deploy.js'),
  ]);
  const stack = await resolveStackOutputs({
    ...(flags.stack === undefined ? {} : { stackName: flags.stack }),
    ...(flags.region === undefined ? {} : { region: flags.region }),
  });
  const target = thresholdsTargetOf(stack);
  const client = new AppConfigClient({ region: target.region });
  try {
    const deployment = await deployThresholds({ client, target, content, description: `npm run thresholds -- deploy ${file}` });
    if (flags.json === true) {
      writeJson({ ...summary, ...deployment });
    } else {
      writeText(
        [
          formatSummary(summary),
          `Created version ${deployment.versionNumber} of AppConfig profile ${target.configurationProfileId} (application ${target.applicationId}).`,
          `Started deployment ${deployment.deploymentNumber} to environment ${target.environmentId} (strategy ${target.deploymentStrategyId}): ${deployment.state}.`,
          'The alarm functions take the rules within a minute of its completion (each instance asks AppConfig at most once a minute).',
          `Follow it: ${deployment.followCommand}`,
        ].join('\n'),
      );
    }
  } finally {
    client.destroy();
  }
  warnIfNotTheStackFile(content, repoRoot);
}

/** A `cdk deploy` that changes config/thresholds.json deploys that file over what this command deployed. */
function warnIfNotTheStackFile(content: Buffer, repoRoot: string): void {
  let stackFile: Buffer;
  try {
    stackFile = readFileSync(join(repoRoot, 'config', 'thresholds.json'));
  } catch {
    return;
  }
  if (!stackFile.equals(content)) {
    process.stderr.write(
      'note: these rules differ from config/thresholds.json; the next cdk deploy that changes config/thresholds.json deploys that file over them (keep the two the same)\n',
    );
  }
}

/** The command line, built for a repository root (where config/thresholds.json is). */
export function thresholdsProgram(repoRoot: string): Command {
  const program = new Command('thresholds').description(
    'Checks a thresholds file, or deploys it to the AWS AppConfig profile of the deployed stack (the alarm functions read it within a minute).',
  );
  program
    .command('validate')
    .description('Checks FILE as the functions do: exit 0 and a summary, or exit 2 with the reason naming the rule and the field.')
    .argument('<file>', 'thresholds JSON file')
    .option('--json', 'one JSON object on stdout')
    .action((file: string, flags: { json?: boolean }) => {
      const { summary } = validateThresholdsFile(file);
      if (flags.json === true) writeJson(summary);
      else writeText(`${formatSummary(summary)}: valid`);
    });
  program
    .command('deploy')
    .description(
      'Validates FILE, then creates a version of the stack\'s AppConfig thresholds profile and starts its deployment (ids from the stack outputs), printing how to follow it.',
    )
    .argument('<file>', 'thresholds JSON file')
    .addOption(new Option('--target <target>', 'where to deploy (locally, edit the file the stack watches)').choices(['aws']).makeOptionMandatory())
    .option('--stack <name>', 'stack whose outputs name the AppConfig application, environment and profile', 'FleetTelemetry')
    .option('--region <region>', 'AWS region (default: the SDK chain)')
    .option('--json', 'one JSON object on stdout')
    .action((file: string, flags: DeployFlags) => deploy(file, flags, repoRoot));
  return program;
}
