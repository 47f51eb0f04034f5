/**
 * The local mapping checks its settings as the Lambda API would, with the same code the CDK app
 * runs at synth (infra/pipeline-validation.ts), so a value that would fail at deploy fails at
 * local start too.
 */
export { validateSettings } from '../../pipeline-validation.js';
