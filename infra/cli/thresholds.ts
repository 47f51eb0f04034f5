/**
 * `npm run thresholds -- validate FILE [--json]` and `npm run thresholds -- deploy FILE --target aws
 * [--stack NAME] [--region R] [--json]`: the command line of thresholds-program.ts.
 */
import { fileURLToPath } from 'node:url';
import { runCli } from './cli-support.js';
import { thresholdsProgram } from './thresholds-program.js';

await runCli(thresholdsProgram(fileURLToPath(new URL('../../', import.meta.url))));
