import { Duration, Stack } from 'aws-cdk-lib';
import {
  Application,
  ConfigurationContent,
  ConfigurationType,
  DeletionProtectionCheck,
  DeploymentStrategy,
  Environment,
  HostedConfiguration,
  JsonSchemaValidator,
  RolloutStrategy,
} from 'aws-cdk-lib/aws-appconfig';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { readFileSync } from 'node:fs';
import type { ThresholdsEnvName } from '../../../lambdas/common/thresholds-env.js';
import { thresholdsJsonSchema } from '../../../lambdas/domain/thresholds.js';
import { METRIC } from '../../../lambdas/ports/observability.js';
import { pipeline } from '../../pipeline.js';
import { BUNDLED_THRESHOLDS_FILE, METRICS_NAMESPACE } from './fleet-function.js';
import type { FleetFunction } from './fleet-function.js';

/** AppConfig refuses a validator whose content is longer (API Validator.Content, 0 to 32,768 characters). */
export const APPCONFIG_VALIDATOR_MAX_CHARS = 32_768;

/** The AppConfig names, fixed so that a person finds them in the console. */
export const THRESHOLDS_APPCONFIG_NAMES = {
  application: pipeline.name,
  environment: 'live',
  profile: 'thresholds',
} as const;

/** The stale-rules alarm's name (after the ops prefix): functions keep deciding with rules they could not refresh. */
export const STALE_RULES_ALARM = 'thresholds-stale';

export interface ThresholdsConfigProps {
  /** Absolute path of the thresholds file, validated at synth: the first hosted version. */
  readonly thresholdsFile: string;
}

/**
 * The threshold rules on AWS (docs/architecture.md, "Thresholds on AWS"): an AppConfig application
 * with one environment and a freeform hosted configuration profile of JSON, checked at deployment by a
 * JSON Schema validator generated from our zod schema. The stack creates its first version from
 * config/thresholds.json and deploys it; `npm run thresholds -- deploy` adds versions and deploys them
 * later. A `cdk deploy` with the file unchanged leaves whatever the command deployed in force; with the
 * file changed it creates a new version and deploys it, replacing the rules deployed by the command.
 *
 * The deployment strategy puts a version in force everywhere at once, without bake time: thresholds
 * are small, validated before they leave (the command, the synth, AppConfig's validator) and refused
 * by the functions if still wrong, and an operator who changes a threshold wants it to act now; a
 * gradual rollout would only mix two rule sets across the lanes of one stream. With no bake time a
 * next deployment can start at once.
 */
export class ThresholdsConfig extends Construct {
  public readonly application: Application;
  public readonly environment: Environment;
  public readonly profile: HostedConfiguration;
  public readonly strategy: DeploymentStrategy;

  constructor(scope: Construct, id: string, props: ThresholdsConfigProps) {
    super(scope, id);
    this.application = new Application(this, 'Application', {
      applicationName: THRESHOLDS_APPCONFIG_NAMES.application,
      description: 'fleet-telemetry: the threshold rules the alarm functions run on',
    });
    this.environment = new Environment(this, 'Environment', {
      application: this.application,
      environmentName: THRESHOLDS_APPCONFIG_NAMES.environment,
      // The functions reading it go with the stack: a destroy must not be refused because they read it.
      deletionProtectionCheck: DeletionProtectionCheck.BYPASS,
    });
    this.strategy = new DeploymentStrategy(this, 'AllAtOnce', {
      description: 'Thresholds in force everywhere at once, no bake time (infra/aws/constructs/thresholds-config.ts says why).',
      rolloutStrategy: RolloutStrategy.linear({ growthFactor: 100, deploymentDuration: Duration.minutes(0), finalBakeTime: Duration.minutes(0) }),
    });
    this.profile = new HostedConfiguration(this, 'Thresholds', {
      application: this.application,
      name: THRESHOLDS_APPCONFIG_NAMES.profile,
      description: 'The threshold rules (config/thresholds.json); deploy changes with npm run thresholds -- deploy FILE --target aws.',
      type: ConfigurationType.FREEFORM,
      content: ConfigurationContent.fromInlineJson(readFileSync(props.thresholdsFile, 'utf8'), 'application/json'),
      validators: [JsonSchemaValidator.fromInline(thresholdsValidatorContent())],
      deploymentStrategy: this.strategy,
      deployTo: [this.environment],
      deletionProtectionCheck: DeletionProtectionCheck.BYPASS,
    });
  }

  /** The three ids (and the bundled file) a function reads its rules with, as its environment. */
  functionEnvironment(): Readonly<Record<ThresholdsEnvName, string>> {
    return {
      THRESHOLDS_FILE: BUNDLED_THRESHOLDS_FILE,
      THRESHOLDS_APPCONFIG_APPLICATION: this.application.applicationId,
      THRESHOLDS_APPCONFIG_ENVIRONMENT: this.environment.environmentId,
      THRESHOLDS_APPCONFIG_PROFILE: this.profile.configurationProfileId,
    };
  }

  /** Exactly the two AppConfig data-plane actions, on this profile in this environment. */
  grantRead(fn: FleetFunction): void {
    fn.role.addToPolicy(
      new PolicyStatement({
        actions: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
        resources: [this.configurationArn()],
      }),
    );
  }

  /** arn:...:appconfig:region:account:application/<id>/environment/<id>/configuration/<profile id> */
  configurationArn(): string {
    return Stack.of(this).formatArn({
      service: 'appconfig',
      resource: 'application',
      resourceName: `${this.application.applicationId}/environment/${this.environment.environmentId}/configuration/${this.profile.configurationProfileId}`,
    });
  }

  /**
   * An operational alarm when the functions keep failing to refresh their rules (ThresholdsRefreshFailed
   * in three 5-minute periods in a row, any of `functions`): they decide with rules older than what is
   * deployed, or with the bundled file's. A single throttled read does not page anyone.
   */
  addStaleRulesAlarm(functions: readonly FleetFunction[], topic: ITopic, namePrefix: string): Alarm {
    const period = Duration.minutes(5);
    const usingMetrics: Record<string, Metric> = {};
    functions.forEach((fn, index) => {
      usingMetrics[`f${index}`] = new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRIC.thresholdsRefreshFailed,
        // Powertools Metrics adds the function's service name as the `service` dimension.
        dimensionsMap: { service: fn.serviceName },
        statistic: 'Sum',
        period,
      });
    });
    const alarm = new Alarm(this, 'StaleRules', {
      alarmName: `${namePrefix}${STALE_RULES_ALARM}`,
      alarmDescription:
        'Functions could not refresh their threshold rules from AppConfig for 15 minutes and keep deciding with the rules they had (or the bundled file). Their logs say why (warnings "thresholds: kept ..."): access, throttling, or deployed content they refused.',
      metric: new MathExpression({ label: 'threshold refreshes failed', expression: Object.keys(usingMetrics).join(' + '), usingMetrics, period }),
      threshold: 1,
      evaluationPeriods: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(topic));
    alarm.addOkAction(new SnsAction(topic));
    return alarm;
  }
}

/** The JSON Schema AppConfig validates every deployment with (draft 4, within its size limit). */
export function thresholdsValidatorContent(): string {
  return JSON.stringify(thresholdsJsonSchema());
}
