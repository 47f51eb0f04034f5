/**
 * The parent's side of targets/target-child.ts: forks the system under test of the scale section
 * (raw aedes or the full local stack) into its own process, so that its CPU time and memory are
 * its own, and drives its measured window over IPC.
 */
import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TargetConfig, TargetMessage, TargetResult } from './target-child.js';

export interface TargetHandle {
  readonly port: number;
  readonly dataDir: string | null;
  measure(): void;
  finish(stored: number): Promise<TargetResult>;
  kill(): void;
}

export function forkTarget(config: TargetConfig): Promise<TargetHandle> {
  const child = fork(fileURLToPath(new URL('./target-child.ts', import.meta.url)), [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let settle: { resolve: (r: TargetResult) => void; reject: (e: Error) => void } | undefined;
  return new Promise((resolve, reject) => {
    child.on('message', (message: TargetMessage) => {
      if (message.type === 'ready') {
        resolve({
          port: message.port,
          dataDir: message.dataDir,
          measure: () => child.send({ type: 'measure' }),
          finish: (stored) =>
            new Promise<TargetResult>((res, rej) => {
              settle = { resolve: res, reject: rej };
              child.send({ type: 'finish', stored });
            }),
          kill: () => {
            // Killed, the child cannot remove its stack's data dir: do it once it is gone.
            if (message.dataDir !== null) {
              const dataDir = message.dataDir;
              child.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
            }
            child.kill('SIGKILL');
          },
        });
      } else if (message.type === 'done') {
        settle?.resolve(message.result);
      } else {
        const error = new Error(`target-child: ${message.error}`);
        reject(error);
        settle?.reject(error);
      }
    });
    child.once('exit', (code) => {
      const error = new Error(`target-child exited (${code})`);
      reject(error);
      settle?.reject(error);
    });
  });
}
