import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: every command line runs from there, as `npm run` does. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface EntryRun {
  /** The exit code; -1 when the process did not exit by itself (killed by the timeout, a signal). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command line's entry (a path from the repository root, e.g. `infra/cli/thresholds.ts`) the way
 * `npm run` does, through tsx, as a real child process: without npm, whose start-up would dominate on
 * a busy machine. Never rejects: a failed run is its exit code and output.
 */
export function runEntry(entry: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<EntryRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', entry, ...args],
      { cwd: REPO_ROOT, timeout: options.timeoutMs ?? 60_000, env: options.env ?? process.env },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
