/**
 * How a simulated device reaches the broker: the endpoint, the socket (TCP from a spread of
 * loopback source addresses locally; TLS with the device's X.509 certificate on AWS IoT), and the
 * MQTT.js client options. MQTT.js's own reconnect is off: the fleet reconnects with exponential
 * backoff and jitter itself (fleet.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { SimulatorError, SimulatorUsageError } from './errors.js';

/** Where the fleet connects. */
export type Target = 'local' | 'aws';

/** A parsed endpoint. */
export interface Endpoint {
  readonly protocol: 'mqtt' | 'mqtts';
  readonly host: string;
  readonly port: number;
}

/** The local stack's broker (`npm start`). */
export const DEFAULT_LOCAL_ENDPOINT = 'mqtt://127.0.0.1:1883';

/**
 * AWS IoT Core's ALPN protocol for MQTT over TLS on port 443 with X.509 client certificates
 * (AWS IoT developer guide, "Protocols, port mappings, and authentication").
 */
export const AWS_IOT_ALPN = 'x-amzn-mqtt-ca';

/**
 * Parses `--endpoint`. Locally: `mqtt://host:port` (default port 1883). On AWS: the account's
 * data endpoint, bare (`xxxx-ats.iot.eu-west-1.amazonaws.com`, port 8883), with a port
 * (`host:443`) or as `mqtts://host:port`; AWS IoT takes TLS only, so `mqtt://` is refused.
 */
export function parseEndpoint(text: string, target: Target): Endpoint {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `${target === 'aws' ? 'mqtts' : 'mqtt'}://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new SimulatorUsageError('--endpoint', `not a URL or host: "${text}"`);
  }
  const protocol = url.protocol.replace(/:$/, '');
  if (protocol !== 'mqtt' && protocol !== 'mqtts') {
    throw new SimulatorUsageError('--endpoint', `scheme must be mqtt:// or mqtts://, got ${protocol}://`);
  }
  if (target === 'aws' && protocol !== 'mqtts') {
    throw new SimulatorUsageError('--endpoint', 'AWS IoT Core accepts MQTT over TLS only: use mqtts:// or a bare host');
  }
  if (url.pathname !== '' && url.pathname !== '/') {
    throw new SimulatorUsageError('--endpoint', `no path expected, got ${url.pathname}`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new SimulatorUsageError('--endpoint', `no host in "${text}"`);
  const port = url.port === '' ? (protocol === 'mqtts' ? 8883 : 1883) : Number(url.port);
  return { protocol, host, port };
}

/** True when the host is on the IPv4 loopback network (where extra source addresses exist without setup). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Connections per source address. Each (source address, destination) pair has one ephemeral port
 * range (Linux default 32768-60999, about 28,000 ports), so past that a single source address
 * runs out; we stay under it.
 */
export const CONNECTIONS_PER_SOURCE_ADDRESS = 25_000;

/**
 * The local address device `index` of `total` binds its socket to, or undefined to let the OS
 * choose. Below {@link CONNECTIONS_PER_SOURCE_ADDRESS} nothing is bound; beyond it, on a loopback
 * broker (Linux routes all of 127.0.0.0/8 to loopback), each further block of connections binds
 * to 127.0.0.2, 127.0.0.3... Only the excess binds because binding before connecting costs the
 * kernel a port search per socket (Linux's IP_BIND_ADDRESS_NO_PORT avoids it, but Node does not
 * expose it): in one measurement on this project's 2-core machine, 19,000 connections spread over
 * two bound addresses spent twice the system CPU of 19,000 unbound ones and stalled at 14,700
 * connected, while the unbound ones all connected.
 */
export function sourceAddressFor(endpoint: Endpoint, index: number, total: number): string | undefined {
  if (total <= CONNECTIONS_PER_SOURCE_ADDRESS || !isLoopback(endpoint.host)) return undefined;
  const block = Math.floor(index / CONNECTIONS_PER_SOURCE_ADDRESS);
  return block === 0 ? undefined : `127.0.0.${Math.min(254, block + 1)}`;
}

/** `count` loopback source addresses, 127.0.0.1 to 127.0.0.<count> (an explicit `--source-addresses`). */
export function loopbackAddresses(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.0.${i + 1}`);
}

/**
 * The open-file limit of this process (`ulimit -n`), read from /proc on Linux; undefined elsewhere.
 * Every connection is a file descriptor, so a fleet larger than this fails with EMFILE.
 */
export function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/** The certificate `npm run provision -- --certificate shared` attaches to every thing of a simulated fleet. */
export const SHARED_CERTIFICATE_OWNER = 'shared';

/**
 * Files of one device's certificate for AWS IoT, in `--certs DIR`: its own (`<deviceId>.cert.pem`),
 * or else the fleet's shared one (`shared.cert.pem`), with which AWS IoT takes the client id as the
 * thing name among the things the certificate is attached to.
 */
export function certificateFiles(certsDir: string, deviceId: string): { cert: string; key: string; ca: string } {
  const ca = join(certsDir, 'AmazonRootCA1.pem');
  const own = { cert: join(certsDir, `${deviceId}.cert.pem`), key: join(certsDir, `${deviceId}.private.key`), ca };
  if (existsSync(own.cert)) return own;
  const shared = { cert: join(certsDir, `${SHARED_CERTIFICATE_OWNER}.cert.pem`), key: join(certsDir, `${SHARED_CERTIFICATE_OWNER}.private.key`), ca };
  return existsSync(shared.cert) ? shared : own;
}

/** Whether `<deviceId>.cert.pem` is in the folder (not counting the fleet's shared certificate). */
export function hasOwnCertificate(certsDir: string, deviceId: string): boolean {
  return existsSync(join(certsDir, `${deviceId}.cert.pem`));
}

/** File contents by path: a shared certificate and the root CA are read once, not once per connection. */
const fileCache = new Map<string, Buffer>();

/**
 * The TLS options for one device on AWS IoT: its certificate and key, Amazon's root CA, SNI, and
 * on port 443 the ALPN protocol AWS IoT needs to recognise MQTT (without it, 443 is HTTPS).
 */
export function awsTlsOptions(endpoint: Endpoint, certsDir: string, deviceId: string): tls.ConnectionOptions {
  const files = certificateFiles(certsDir, deviceId);
  const read = (file: string): Buffer => {
    const cached = fileCache.get(file);
    if (cached !== undefined) return cached;
    try {
      const content = readFileSync(file);
      // Per-device files are read once each anyway; caching them would only hold 100,000 keys in memory.
      if (!file.endsWith(`${deviceId}.cert.pem`) && !file.endsWith(`${deviceId}.private.key`)) fileCache.set(file, content);
      return content;
    } catch (err) {
      throw new SimulatorUsageError('--certs', `cannot read ${file} for ${deviceId}: ${(err as Error).message}`, { cause: err });
    }
  };
  const options: tls.ConnectionOptions = {
    host: endpoint.host,
    port: endpoint.port,
    servername: endpoint.host,
    cert: read(files.cert),
    key: read(files.key),
    ca: read(files.ca),
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  };
  if (endpoint.port === 443) options.ALPNProtocols = [AWS_IOT_ALPN];
  return options;
}

/** What one connection needs. */
export interface ConnectionSpec {
  readonly endpoint: Endpoint;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  /** Bind the socket to this local address (spreading over 127.0.0.x). */
  readonly localAddress?: string;
  /** TLS options (AWS); absent: plain TCP, or TLS without a client certificate for `mqtts://`. */
  readonly tls?: tls.ConnectionOptions;
  readonly keepaliveS: number;
  readonly connectTimeoutMs: number;
}

/** The MQTT.js options: MQTT 3.1.1 (aedes 1 speaks nothing newer), clean session, no built-in reconnect. */
export function clientOptions(spec: ConnectionSpec): IClientOptions {
  const options: IClientOptions = {
    protocolVersion: 4,
    clientId: spec.clientId,
    clean: true,
    keepalive: spec.keepaliveS,
    connectTimeout: spec.connectTimeoutMs,
    reconnectPeriod: 0,
    // Readings that cannot be sent wait in the device's own bounded outbox, not in MQTT.js.
    queueQoSZero: false,
    resubscribe: true,
  };
  if (spec.username !== undefined) options.username = spec.username;
  if (spec.password !== undefined) options.password = spec.password;
  return options;
}

/**
 * Opens one MQTT connection. The socket is built here (not by MQTT.js) so it can be bound to a
 * source address and carry the device's TLS options.
 */
export function openClient(spec: ConnectionSpec): MqttClient {
  const { endpoint } = spec;
  const build = (): net.Socket => {
    if (spec.tls !== undefined || endpoint.protocol === 'mqtts') {
      // tls.connect hands the socket options (localAddress included) to net.Socket#connect; the types omit it.
      const options: tls.ConnectionOptions & { localAddress?: string } = {
        host: endpoint.host,
        port: endpoint.port,
        servername: endpoint.host,
        ...spec.tls,
      };
      if (spec.localAddress !== undefined) options.localAddress = spec.localAddress;
      return tls.connect(options);
    }
    const options: net.NetConnectOpts = { host: endpoint.host, port: endpoint.port };
    if (spec.localAddress !== undefined) options.localAddress = spec.localAddress;
    const socket = net.connect(options);
    socket.setNoDelay(true);
    return socket;
  };
  return new mqtt.MqttClient(build, clientOptions(spec));
}

/** Renders an endpoint back as a URL (for messages). */
export function endpointUrl(endpoint: Endpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.protocol}://${host}:${endpoint.port}`;
}

/** One connection attempt: resolves with the connected client, or rejects with why it failed (and cleans up). */
export function connectOnce(spec: ConnectionSpec): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    let client: MqttClient;
    try {
      client = openClient(spec);
    } catch (err) {
      reject(err);
      return;
    }
    let lastError: unknown;
    const onError = (err: Error): void => {
      lastError = err;
    };
    const onConnect = (): void => {
      client.removeListener('error', onError);
      // Until the caller attaches its own, an error must not become an uncaught 'error' event.
      client.on('error', () => undefined);
      client.removeListener('close', onClose);
      resolve(client);
    };
    const onClose = (): void => {
      client.removeListener('connect', onConnect);
      client.end(true);
      reject(lastError ?? new SimulatorError('connection closed before CONNACK'));
    };
    client.on('error', onError);
    client.once('connect', onConnect);
    client.once('close', onClose);
  });
}
