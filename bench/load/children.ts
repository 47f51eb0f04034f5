/**
 * Child processes of the benchmark: the publishers (load/publisher.ts) and the simulated fleet
 * (load/fleet-child.ts), forked with tsx and talked to over IPC. A child is started fresh for each
 * run, so no run inherits another's warmed-up JIT, sockets or buffers.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import type { FleetSummary } from '../../simulator/summary.js';
import type { FleetChildConfig } from './fleet-child.js';
import type { PublisherConfig, PublisherResult } from './publisher.js';

/** A forked child that has said it is ready, and can be told to start. */
export interface ReadyChild<R> {
  /** Starts the work; resolves with the child's result once it is done (the child then exits). */
  go(): Promise<R>;
  kill(): void;
}

type ChildMessage<R> = { type: 'ready' } | { type: 'done'; result: R } | { type: 'failed'; error: string } | { type: 'progress'; snapshot: unknown };

/**
 * Forks `script` (a .ts file beside this one) with `config` as JSON in argv[2] and resolves once it
 * sends `{ type: 'ready' }`; `{ type: 'progress' }` messages go to `onProgress`. Rejects if it fails or exits first, or after `readyTimeoutMs`.
 */
export function forkChild<R>(
  script: string,
  config: unknown,
  options: { readonly readyTimeoutMs?: number; readonly onProgress?: (snapshot: unknown) => void; readonly bundle?: boolean } = {},
): Promise<ReadyChild<R>> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const child: ChildProcess =
    options.bundle !== true
      ? fork(fileURLToPath(new URL(script, import.meta.url)), [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      : fork(bundled(script), [JSON.stringify(config)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let onDone: ((result: R) => void) | undefined;
  let onFail: ((error: Error) => void) | undefined;
  let finished = false;
  const done = new Promise<R>((resolve, reject) => {
    onDone = resolve;
    onFail = reject;
  });
  // Until go() is called nobody awaits `done`: keep an early failure from being unhandled.
  done.catch(() => undefined);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script}: not ready after ${readyTimeoutMs} ms`));
    }, readyTimeoutMs);
    child.on('message', (message: ChildMessage<R>) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve({
          go: () => {
            child.send({ type: 'go' });
            return done;
          },
          kill: () => child.kill('SIGKILL'),
        });
      } else if (message.type === 'progress') {
        options.onProgress?.(message.snapshot);
      } else if (message.type === 'done') {
        finished = true;
        onDone?.(message.result);
      } else {
        finished = true;
        const error = new Error(`${script}: ${message.error}`);
        clearTimeout(timer);
        reject(error);
        onFail?.(error);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (finished) return;
      const error = new Error(`${script}: exited (${code ?? signal}) before finishing`);
      reject(error);
      onFail?.(error);
    });
  });
}

const bundles = new Map<string, string>();

/**
 * A child script as one JavaScript file, built once per bench process with esbuild (packages stay
 * external). Forking it with plain node takes about 0.1 s, against about 0.6 s through tsx: the
 * publishers are forked for every run, and `--quick` must finish in under a minute. The file goes
 * to `.bench/` (git-ignored) inside the repository, so node resolves packages from its node_modules.
 * Only for scripts whose modules do not locate files through `import.meta.url` (the stack does).
 */
function bundled(script: string): string {
  const known = bundles.get(script);
  if (known !== undefined) return known;
  // bench/load/children.ts: the repository is two folders up.
  const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
  const outfile = join(root, '.bench', `${basename(script, '.ts')}-${process.pid}.mjs`);
  mkdirSync(dirname(outfile), { recursive: true });
  buildSync({
    entryPoints: [fileURLToPath(new URL(script, import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  process.once('exit', () => rmSync(outfile, { force: true }));
  bundles.set(script, outfile);
  return outfile;
}

/** Forks the publishers; resolves once every client is connected. */
export function forkPublishers(config: PublisherConfig): Promise<ReadyChild<PublisherResult>> {
  return forkChild<PublisherResult>('./publisher.ts', config, { bundle: true });
}


/** Forks the simulated fleet (load/fleet-child.ts); its progress snapshots go to `onProgress`. */
export function forkFleet(config: FleetChildConfig, onProgress: (snapshot: unknown) => void): Promise<ReadyChild<FleetSummary>> {
  return forkChild<FleetSummary>('./fleet-child.ts', config, { bundle: true, onProgress });
}
