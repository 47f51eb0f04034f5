/**
 * Builds the CDK app: reads the deployment settings from context, validates the thresholds file,
 * adds the stack and the cdk-nag AwsSolutions checks. app.ts runs it under the CDK CLI; the tests
 * run it on an App of their own, so both synthesize exactly the same thing.
 */
import { Aspects } from 'aws-cdk-lib';
import type { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { resolve } from 'node:path';
import { loadThresholdsFile } from '../../lambdas/config/load-thresholds.js';
import { pipeline } from '../pipeline.js';
import { validateRecordAgeWithinRetention, validateSettings } from '../pipeline-validation.js';
import { readDeploymentSettings, rejectUnknownContextKeys } from './deployment-settings.js';
import { FleetTelemetryStack } from './fleet-telemetry-stack.js';
import { REPO_ROOT } from './paths.js';

/** The CloudFormation stack name. */
export const STACK_NAME = 'FleetTelemetry';

/**
 * Adds the fleet-telemetry stack to `app`.
 * @throws ConfigError (DeploymentSettingsError, EventSourceMappingSettingsError or from
 *   loadThresholdsFile) naming the bad context key or value, mapping setting or thresholds file,
 *   before anything is built.
 */
export function buildFleetTelemetryApp(app: App): FleetTelemetryStack {
  rejectUnknownContextKeys(Object.keys(app.node.getAllContext()));
  const settings = readDeploymentSettings((key) => app.node.tryGetContext(key));
  // The same checks the local event source mapping runs when it starts, plus the record age
  // against this deployment's stream retention.
  for (const [consumer, mapping] of Object.entries(pipeline.consumers)) {
    validateSettings(consumer, mapping);
    validateRecordAgeWithinRetention(consumer, mapping, settings.streamRetentionHours);
  }
  const thresholdsFile = resolve(REPO_ROOT, settings.thresholdsFile);
  // Fail the synth, not the first cold start, on a bad thresholds file.
  loadThresholdsFile(thresholdsFile);

  const stack = new FleetTelemetryStack(app, STACK_NAME, {
    description: 'fleet-telemetry: IoT Core -> Kinesis -> Lambda -> Timestream + alarms (infra/aws)',
    settings,
    thresholdsFile,
  });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  return stack;
}
