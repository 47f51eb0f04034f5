import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { pipeline } from '../../pipeline.js';
import type { DeploymentSettings } from '../deployment-settings.js';
import type { FunctionSizing } from '../function-sizing.js';
import { REPO_ROOT, handlerEntry } from '../paths.js';
import { ConfigError } from '../../../lambdas/domain/errors.js';

/** The name the bundled thresholds file has in the function's code directory (THRESHOLDS_FILE). */
export const BUNDLED_THRESHOLDS_FILE = 'thresholds.json';

/** Powertools reads these three; every function gets them. */
export const POWERTOOLS_ENV = ['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_LOG_LEVEL'] as const;

/** The CloudWatch namespace of the functions' own metrics (Powertools, embedded metric format). */
export const METRICS_NAMESPACE = 'FleetTelemetry';

/**
 * ESM output has no `require`; some CommonJS dependencies bundled by esbuild still call it for
 * Node built-ins, so the bundle defines one (the usual esbuild banner for ESM on Lambda).
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __fleetCreateRequire } from 'node:module'; const require = __fleetCreateRequire(import.meta.url);";

export interface FleetFunctionProps {
  /** Which handler: lambdas/<name>/handler.ts, export `handler`. */
  readonly name: 'ingest' | 'alarms' | 'offline' | 'alarm-commands';
  readonly sizing: FunctionSizing;
  /**
   * The variables the handler reads (its *_ENV list), exactly; Powertools' three are added here.
   * Build with {@link handlerEnvironment} so that a missing or extra name fails at synth.
   */
  readonly environment: Readonly<Record<string, string>>;
  readonly settings: DeploymentSettings;
  /** Absolute path of a validated thresholds file to ship as `thresholds.json`. @default none shipped */
  readonly thresholdsFile?: string;
  /** What this function does, for the console. */
  readonly description: string;
}

/**
 * One of the pipeline's functions: Node.js 24 on arm64, bundled by the local esbuild as ESM (no
 * Docker), with its own role (no managed policies: it may write only to its own log group until the
 * stack grants more) and its own log group with the deployment's retention.
 */
export class FleetFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: Role;
  public readonly logGroup: LogGroup;
  /** The function's name, which is also its Powertools service name (the `service` dimension of its metrics). */
  public readonly serviceName: string;

  constructor(scope: Construct, id: string, props: FleetFunctionProps) {
    super(scope, id);
    const functionName = `${pipeline.name}-${props.name}`;
    this.serviceName = functionName;

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${functionName}`,
    });
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.settings.logRetentionDays as RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.logGroup.grantWrite(this.role);

    const thresholdsFile = props.thresholdsFile;
    this.function = new NodejsFunction(this, 'Function', {
      functionName,
      description: props.description,
      entry: handlerEntry(props.name),
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.sizing.memoryMb,
      timeout: Duration.seconds(props.sizing.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: functionName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.settings.logLevel,
      },
      // SDK v3 keeps connections alive by itself; the variable would only add to the environment.
      awsSdkConnectionReuse: false,
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        // Bundle the SDK too: the functions run the SDK version the tests ran, not the runtime's.
        externalModules: [],
        minify: false,
        sourceMap: false,
        logLevel: LogLevel.ERROR,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) =>
            thresholdsFile === undefined
              ? []
              : [`cp ${shellQuote(thresholdsFile)} ${shellQuote(join(outputDir, BUNDLED_THRESHOLDS_FILE))}`],
        },
      },
    });
  }
}

/**
 * The environment of a handler whose `*_ENV` list is `names`: every name needs a value and no other
 * key is allowed, so the stack cannot drift from what the handler reads.
 * @throws Error naming the missing or extra variables (at synth).
 */
export function handlerEnvironment<const Name extends string>(
  names: readonly Name[],
  values: Readonly<Record<Name, string>>,
): Readonly<Record<Name, string>> {
  const given = Object.keys(values);
  const missing = names.filter((n) => !given.includes(n));
  const extra = given.filter((k) => !(names as readonly string[]).includes(k));
  if (missing.length > 0 || extra.length > 0) {
    throw new ConfigError(
      `handler environment does not match its list: missing [${missing.join(', ')}], extra [${extra.join(', ')}]`,
    );
  }
  return Object.freeze({ ...values });
}

function shellQuote(path: string): string {
  return `'${path.replaceAll("'", "'\\''")}'`;
}
