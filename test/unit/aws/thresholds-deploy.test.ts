import {
  AppConfigClient,
  BadRequestException,
  ConflictException,
  CreateHostedConfigurationVersionCommand,
  StartDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { STACK_OUTPUT } from '../../../infra/aws/stack-outputs.js';
import { thresholdsProgram } from '../../../infra/cli/thresholds-program.js';

// `npm run thresholds -- deploy` in-process (the program the entry runs), with AppConfig and
// CloudFormation mocked at the client class: the exact requests it sends and what it prints. The entry
// itself (exit codes, one-line errors) runs as a child process in test/integration/thresholds-cli.test.ts.

const appConfig = mockClient(AppConfigClient);
const cloudFormation = mockClient(CloudFormationClient);

const OUTPUTS = {
  [STACK_OUTPUT.thresholdsApplicationId]: 'app1234',
  [STACK_OUTPUT.thresholdsEnvironmentId]: 'env5678',
  [STACK_OUTPUT.thresholdsProfileId]: 'prof901',
  [STACK_OUTPUT.thresholdsDeploymentStrategyId]: 'strat12',
};
const RULES = { rules: [{ id: 'overheat', metric: 'temperature', when: { above: 70 }, severity: 'critical' }] };

let root: string;
let file: string;

/** Runs the program on `args`; returns what it wrote on stdout and stderr. */
async function run(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => out.push(String(chunk)) > 0);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => err.push(String(chunk)) > 0);
  try {
    await thresholdsProgram(root).exitOverride().parseAsync(args, { from: 'user' });
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  return { stdout: out.join(''), stderr: err.join('') };
}

function stackWith(outputs: Record<string, string>) {
  cloudFormation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'FleetTelemetry',
        CreationTime: new Date(0),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
}

describe('npm run thresholds -- deploy FILE --target aws', () => {
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ft-thresholds-'));
    mkdirSync(join(root, 'config'));
    file = join(root, 'new-thresholds.json');
    writeFileSync(file, JSON.stringify(RULES, null, 2));
    writeFileSync(join(root, 'config', 'thresholds.json'), JSON.stringify(RULES, null, 2));
    appConfig.reset();
    cloudFormation.reset();
    stackWith(OUTPUTS);
    appConfig.on(CreateHostedConfigurationVersionCommand).resolves({ VersionNumber: 7 });
    appConfig.on(StartDeploymentCommand).resolves({ DeploymentNumber: 12, State: 'DEPLOYING' });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("creates a version of the stack's profile with the file as JSON, then deploys it with the stack's strategy", async () => {
    await run('deploy', file, '--target', 'aws', '--region', 'eu-west-1');

    expect(cloudFormation.commandCalls(DescribeStacksCommand).map((c) => c.args[0].input)).toEqual([{ StackName: 'FleetTelemetry' }]);
    const created = appConfig.commandCalls(CreateHostedConfigurationVersionCommand).map((c) => c.args[0].input);
    expect(created).toEqual([
      {
        ApplicationId: 'app1234',
        ConfigurationProfileId: 'prof901',
        Content: readFileSync(file),
        ContentType: 'application/json',
        Description: `npm run thresholds -- deploy ${file}`,
      },
    ]);
    expect(appConfig.commandCalls(StartDeploymentCommand).map((c) => c.args[0].input)).toEqual([
      {
        ApplicationId: 'app1234',
        EnvironmentId: 'env5678',
        DeploymentStrategyId: 'strat12',
        ConfigurationProfileId: 'prof901',
        ConfigurationVersion: '7',
        Description: `npm run thresholds -- deploy ${file}`,
      },
    ]);
  });

  it('prints the deployment number and the exact command to follow it', async () => {
    const { stdout, stderr } = await run('deploy', file, '--target', 'aws', '--region', 'eu-west-1');

    expect(stdout).toContain(`${file}: 1 rule (above 1)\n`);
    expect(stdout).toContain('Created version 7 of AppConfig profile prof901 (application app1234).\n');
    expect(stdout).toContain('Started deployment 12 to environment env5678 (strategy strat12): DEPLOYING.\n');
    expect(stdout).toContain(
      'Follow it: aws appconfig get-deployment --application-id app1234 --environment-id env5678 --deployment-number 12 --region eu-west-1\n',
    );
    expect(stderr).toBe('');
  });

  it('prints one JSON object with --json', async () => {
    const { stdout } = await run('deploy', file, '--target', 'aws', '--region', 'eu-west-1', '--json');

    expect(JSON.parse(stdout)).toEqual({
      file,
      rules: 1,
      byKind: { above: 1 },
      region: 'eu-west-1',
      applicationId: 'app1234',
      environmentId: 'env5678',
      configurationProfileId: 'prof901',
      deploymentStrategyId: 'strat12',
      versionNumber: 7,
      deploymentNumber: 12,
      state: 'DEPLOYING',
      followCommand: 'aws appconfig get-deployment --application-id app1234 --environment-id env5678 --deployment-number 12 --region eu-west-1',
    });
  });

  it('notes on stderr when the rules differ from config/thresholds.json, which a later cdk deploy would put back', async () => {
    writeFileSync(file, JSON.stringify({ rules: [] }));

    const { stderr } = await run('deploy', file, '--target', 'aws', '--region', 'eu-west-1');

    expect(stderr).toMatch(/^note: these rules differ from config\/thresholds\.json; the next cdk deploy that changes config\/thresholds\.json deploys that file over them/);
  });

  it('validates the file before calling AWS, and calls nothing when it is invalid', async () => {
    writeFileSync(file, JSON.stringify({ rules: [{ id: 'overheat', metric: 'temperature', when: { above: 70 }, clear: { below: 75 }, severity: 'critical' }] }));

    await expect(run('deploy', file, '--target', 'aws')).rejects.toThrow(/rule "overheat": clear\.below must be at or below when\.above \(70\)/);
    expect(cloudFormation.commandCalls(DescribeStacksCommand)).toEqual([]);
    expect(appConfig.calls()).toEqual([]);
  });

  it('names the missing output of a stack deployed before the thresholds were in AppConfig', async () => {
    cloudFormation.reset();
    stackWith({});

    await expect(run('deploy', file, '--target', 'aws', '--region', 'eu-west-1')).rejects.toThrow(
      `stack FleetTelemetry in eu-west-1 has no output ${STACK_OUTPUT.thresholdsApplicationId} (deploy the stack again with npx cdk deploy: it creates the AppConfig thresholds)`,
    );
  });

  it('passes on why AppConfig refused the version, and starts no deployment', async () => {
    appConfig.on(CreateHostedConfigurationVersionCommand).rejects(new BadRequestException({ message: 'Configuration failed validation', $metadata: {} }));

    await expect(run('deploy', file, '--target', 'aws', '--region', 'eu-west-1')).rejects.toThrow(
      'AppConfig could not create the configuration version: BadRequestException: Configuration failed validation',
    );
    expect(appConfig.commandCalls(StartDeploymentCommand)).toEqual([]);
  });

  it('says to follow the running deployment when AppConfig refuses a second one', async () => {
    appConfig.on(StartDeploymentCommand).rejects(new ConflictException({ message: 'Deployment #11 is in progress', $metadata: {} }));

    await expect(run('deploy', file, '--target', 'aws', '--region', 'eu-west-1')).rejects.toThrow(
      'AppConfig could not start the deployment of version 7: ConflictException: Deployment #11 is in progress (a deployment is still running in this environment: follow it, then deploy again)',
    );
  });
});
