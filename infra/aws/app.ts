/**
 * The CDK app (cdk.json: `npx tsx infra/aws/app.ts`). Synthesizes offline: no credentials, no
 * network, no Docker (the functions are bundled by the local esbuild).
 */
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../../lambdas/domain/errors.js';
import { buildFleetTelemetryApp } from './fleet-app.js';

const app = new App();
try {
  buildFleetTelemetryApp(app);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`fleet-telemetry: ${error.message}`);
  process.exit(1);
}
