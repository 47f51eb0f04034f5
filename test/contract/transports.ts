import { createServer as createHttpServer } from 'node:http';
import type { IncomingHttpHeaders, Server as HttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server as TcpServer } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { until as waitUntil } from '../helpers/wait.js';

/** Waits until `ready()` holds (test/helpers/wait.ts), 5 s at most. */
export function until(ready: () => boolean, what: string, ms = 5_000): Promise<void> {
  return waitUntil(ready, ms, what);
}

/** A real aedes broker on 127.0.0.1 (ephemeral port) with a real MQTT.js subscriber on `filter`. */
export interface BrokerRig {
  readonly aedes: Aedes;
  /** The broker's own publish at QoS 1, as a promise: what the local stack hands BrokerNotifier. */
  publish(topic: string, payload: Buffer): Promise<void>;
  /** Messages the subscriber got, in arrival order. */
  readonly messages: { topic: string; payload: Buffer; qos: number }[];
  close(): Promise<void>;
}

export async function startBrokerRig(filter: string): Promise<BrokerRig> {
  const aedes = await Aedes.createBroker();
  const server: TcpServer = createTcpServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const subscriber: MqttClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 4, // aedes 1.x speaks MQTT 3.1.1 only
    clientId: 'contract-subscriber',
    reconnectPeriod: 0,
  });
  await subscriber.subscribeAsync(filter, { qos: 1 });
  const messages: BrokerRig['messages'] = [];
  subscriber.on('message', (topic, payload, packet) => messages.push({ topic, payload, qos: packet.qos }));
  return {
    aedes,
    messages,
    publish: (topic, payload) =>
      new Promise<void>((resolve, reject) =>
        aedes.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (err) =>
          err ? reject(err) : resolve(),
        ),
      ),
    close: async () => {
      await subscriber.endAsync(true);
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface HttpRequestSeen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A real node:http server on 127.0.0.1 that records requests and answers with `respond(n)` (n: 0-based request index). */
export interface HttpRig {
  readonly url: string;
  readonly requests: HttpRequestSeen[];
  close(): Promise<void>;
}

export async function startHttpRig(respond: (index: number) => number | 'hang' | 'drop' = () => 204): Promise<HttpRig> {
  const requests: HttpRequestSeen[] = [];
  const server: HttpServer = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const index = requests.length;
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = respond(index);
      if (answer === 'hang') return; // never answers: the client's timeout must fire
      if (answer === 'drop') {
        req.socket.destroy(); // a network error on the client side
        return;
      }
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(String(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/alarms`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
