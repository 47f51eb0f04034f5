/**
 * The simulated fleet of the scale benchmark, as a child process: `runFleet` (simulator/fleet.ts)
 * against the stack under test, which runs in the parent. Configuration as JSON in argv[2]; sends
 * `{ type: 'ready' }`, waits for `{ type: 'go' }`, forwards each progress snapshot as
 * `{ type: 'progress', snapshot }`, then `{ type: 'done', result }` with the fleet's summary.
 */
import { Writable } from 'node:stream';
import { runFleet } from '../../simulator/fleet.js';
import type { FleetOptions } from '../../simulator/options.js';

/** The fleet's options, and how often to send progress (ms). */
export type FleetChildConfig = FleetOptions & { readonly progressIntervalMs: number };

if (process.send !== undefined && process.argv[2] !== undefined) {
  const { progressIntervalMs, ...options } = JSON.parse(process.argv[2]) as FleetChildConfig;
  // The fleet ticks progress at its own interval only when it prints; the lines are thrown away.
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const started = new Promise<void>((resolve) => {
    process.on('message', (message: { type?: string }) => {
      if (message.type === 'go') resolve();
    });
  });
  process.send({ type: 'ready' });
  started
    .then(() => runFleet({ ...options, progress: { stream: discard, tty: false, intervalMs: progressIntervalMs }, onProgress: (snapshot) => process.send?.({ type: 'progress', snapshot }) }))
    .then(
      (result) => process.send?.({ type: 'done', result }, () => process.exit(0)),
      (error: unknown) => process.send?.({ type: 'failed', error: String(error) }, () => process.exit(1)),
    );
}
