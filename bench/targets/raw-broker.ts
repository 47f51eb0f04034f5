/**
 * The baseline of the broker benchmarks: aedes 1 over TCP on 127.0.0.1 with a publish tap (an
 * `authorizePublish` that counts and accepts) and nothing else: no authentication, no rule, no
 * stream. Kept apart from the stack's modules so that a process running only the baseline does not
 * load them.
 */
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { Aedes } from 'aedes';

export interface RawBroker {
  readonly port: number;
  /** Publishes the tap has seen. */
  received(): number;
  stop(): Promise<void>;
}

/** Starts raw aedes on a free port; any credentials are accepted, every publish is counted by the tap. */
export async function startRawBroker(): Promise<RawBroker> {
  let received = 0;
  const aedes = new Aedes({
    authorizePublish(_client, _packet, done) {
      received += 1;
      done(null);
    },
  });
  await aedes.listen();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('raw broker: no port'));
      else resolve(address.port);
    });
  });
  return {
    port,
    received: () => received,
    async stop() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
