/**
 * `npm run thresholds -- deploy FILE --target aws`, the AWS part (loaded only for it): a new hosted
 * version of the thresholds profile with the file's content, then a deployment of that version to the
 * stack's environment with the stack's strategy (docs/architecture.md, "Thresholds on AWS"). The ids
 * come from the stack's outputs. AppConfig checks the content against the profile's JSON Schema when
 * the version is created, so a file that passed our own validation first is refused only if the two
 * disagree.
 */
import type { AppConfigClient } from '@aws-sdk/client-appconfig';
import { CreateHostedConfigurationVersionCommand, StartDeploymentCommand } from '@aws-sdk/client-appconfig';
import { CommandFailedError } from '../cli/cli-support.js';
import { STACK_OUTPUT, type DeployedStack } from './stack-outputs.js';

/** Where a thresholds deployment goes: the stack's AppConfig ids. */
export interface ThresholdsTarget {
  readonly region: string;
  readonly applicationId: string;
  readonly environmentId: string;
  readonly configurationProfileId: string;
  readonly deploymentStrategyId: string;
}

export interface ThresholdsDeployment extends ThresholdsTarget {
  readonly versionNumber: number;
  readonly deploymentNumber: number;
  /** AppConfig's state of the deployment when it was started (DEPLOYING, or COMPLETE for an instant one). */
  readonly state: string;
  /** The AWS CLI command that shows how the deployment goes. */
  readonly followCommand: string;
}

/** The target named by the stack's outputs; a missing one fails naming it (the stack predates AppConfig). */
export function thresholdsTargetOf(stack: DeployedStack): ThresholdsTarget {
  const hint = 'deploy the stack again with npx cdk deploy: it creates the AppConfig thresholds';
  return {
    region: stack.region,
    applicationId: stack.require(STACK_OUTPUT.thresholdsApplicationId, hint),
    environmentId: stack.require(STACK_OUTPUT.thresholdsEnvironmentId, hint),
    configurationProfileId: stack.require(STACK_OUTPUT.thresholdsProfileId, hint),
    deploymentStrategyId: stack.require(STACK_OUTPUT.thresholdsDeploymentStrategyId, hint),
  };
}

export interface DeployThresholdsOptions {
  readonly client: AppConfigClient;
  readonly target: ThresholdsTarget;
  /** The file's bytes, already validated. */
  readonly content: Uint8Array;
  /** Stored with the version and the deployment (where it came from). */
  readonly description: string;
}

/**
 * Creates the version and starts its deployment.
 * @throws CommandFailedError with AppConfig's reason (content refused by the validator, a deployment
 *   already running in the environment, access denied...).
 */
export async function deployThresholds(options: DeployThresholdsOptions): Promise<ThresholdsDeployment> {
  const { client, target, content, description } = options;
  const version = await send('create the configuration version', () =>
    client.send(
      new CreateHostedConfigurationVersionCommand({
        ApplicationId: target.applicationId,
        ConfigurationProfileId: target.configurationProfileId,
        Content: content,
        ContentType: 'application/json',
        Description: description,
      }),
    ),
  );
  if (version.VersionNumber === undefined) throw new CommandFailedError('AppConfig created the version without giving its number');
  const deployment = await send(`start the deployment of version ${version.VersionNumber}`, () =>
    client.send(
      new StartDeploymentCommand({
        ApplicationId: target.applicationId,
        EnvironmentId: target.environmentId,
        DeploymentStrategyId: target.deploymentStrategyId,
        ConfigurationProfileId: target.configurationProfileId,
        ConfigurationVersion: String(version.VersionNumber),
        Description: description,
      }),
    ),
  );
  if (deployment.DeploymentNumber === undefined) throw new CommandFailedError('AppConfig started the deployment without giving its number');
  return {
    ...target,
    versionNumber: version.VersionNumber,
    deploymentNumber: deployment.DeploymentNumber,
    state: deployment.State ?? 'unknown',
    followCommand: followCommand(target, deployment.DeploymentNumber),
  };
}

/** `aws appconfig get-deployment ...` for this deployment. */
export function followCommand(target: ThresholdsTarget, deploymentNumber: number): string {
  return [
    'aws appconfig get-deployment',
    `--application-id ${target.applicationId}`,
    `--environment-id ${target.environmentId}`,
    `--deployment-number ${deploymentNumber}`,
    `--region ${target.region}`,
  ].join(' ');
}

async function send<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    const message = error instanceof Error ? error.message : String(error);
    const advice = name === 'ConflictException' ? ' (a deployment is still running in this environment: follow it, then deploy again)' : '';
    throw new CommandFailedError(`AppConfig could not ${what}: ${name === '' || name === 'Error' ? '' : `${name}: `}${message}${advice}`, { cause: error });
  }
}
