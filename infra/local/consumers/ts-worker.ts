/**
 * Starts a worker thread on a module of this repository. Under `tsx` (npm start, the tests, the
 * benchmarks) the module is TypeScript, and Node 20 does not pass the parent's `--import` loader hooks
 * to a worker's entry in time to load it: the worker's entry is then a tiny ES module that registers
 * tsx's ESM loader through its public API (`tsx/esm/api`) and imports the real entry.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WorkerOptions } from 'node:worker_threads';
import { InvariantError } from '../../../lambdas/domain/errors.js';

/** The file URL of tsx's ESM API, from its package's export map. */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const exported = (require('tsx/package.json') as { exports: Record<string, { import?: { default?: string } }> }).exports['./esm/api']?.import?.default;
  if (exported === undefined) throw new InvariantError('tsx/package.json exports no ESM "./esm/api"');
  return pathToFileURL(join(dirname(manifest), exported)).href;
}

export function startModuleWorker(entry: URL, options: WorkerOptions): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const source = `import { register } from ${JSON.stringify(tsxEsmApi())};\nregister();\nawait import(${JSON.stringify(entry.href)});\n`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), options);
}
