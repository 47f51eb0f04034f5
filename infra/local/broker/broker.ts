/**
 * The local MQTT broker: aedes 1.x in-process (MQTT 3.1.1), over TCP and WebSocket, with the device
 * registry's credentials and the IoT policy's topic rules (acl.ts). One file per aedes hook
 * (authenticate.ts, authorize-publish.ts, authorize-subscribe.ts, authorize-forward.ts), as aedes
 * keeps one file per packet; this file wires them, the listeners and the registry poll.
 *
 * Durability (docs/architecture.md, "The local runtime"; docs/aws-semantics.md section 5): aedes writes the PUBACK right after its
 * `authorizePublish` hook calls back (lib/handlers/publish.js: authorizePublish, then
 * write(PubAck), then broker.publish), and that hook is the only one that runs before the PUBACK. So
 * telemetry is handed to `onTelemetry` inside the hook, synchronously and in arrival order, and the
 * hook calls back only when `onTelemetry`'s promise resolves (the stream append has committed): an
 * acknowledged message is already durable. MQTT 3.1.1 [MQTT-4.3.2-2] only asks that the receiver has
 * "accepted ownership" before PUBACK; this is stronger, on purpose.
 */
import { Aedes } from 'aedes';
import type { Client, PublishPacket } from 'aedes';
import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { TELEMETRY_LIMITS } from '../../../lambdas/domain/model.js';
import type { Log } from '../../../lambdas/ports/observability.js';
import { systemClock } from '../../../lambdas/ports/clock.js';
import type { DeviceRegistry } from '../registry/index.js';
import { RateLimitedLog } from '../rate-limited-log.js';
import { ConnectionAdmission, DEFAULT_CONNECTION_LIMITS } from './admission.js';
import { AuthThrottle } from './auth-throttle.js';
import { createAuthenticate } from './authenticate.js';
import { authorizeForward } from './authorize-forward.js';
import { createAuthorizePublish } from './authorize-publish.js';
import { createAuthorizeSubscribe } from './authorize-subscribe.js';
import { BrokerError } from './errors.js';
import { listenTcp, listenWebSocket } from './listeners.js';
import type { ConnectionHandler, Listener } from './listeners.js';
import { packetLimitsFor } from './packet-guard.js';
import { enforceRegistry } from './registry-enforcement.js';
import { TelemetryHandoff } from './telemetry-handoff.js';
import { matchesTelemetryFilter } from './telemetry-filter.js';
import type { Broker, BrokerOptions, Counters, HookContext, ListenOptions } from './types.js';

/** Generous headroom over one telemetry packet per WebSocket message (a few packets may share one). */
const WS_MESSAGE_HEADROOM_BYTES = 64 * 1024;

function newCounters(): Counters {
  return {
    connectsAccepted: 0,
    connectsRefused: 0,
    connectsDelayed: 0,
    publishesRefused: 0,
    subscriptionsRefused: 0,
    messagesAccepted: 0,
    telemetryFailures: 0,
    disconnectedByRegistry: 0,
    serverPublishes: 0,
  };
}

function admissionFor(options: BrokerOptions, maxPayloadBytes: number): ConnectionAdmission {
  return new ConnectionAdmission(
    {
      maxConnections: options.maxConnections ?? DEFAULT_CONNECTION_LIMITS.maxConnections,
      maxUnauthenticated: options.maxUnauthenticated ?? DEFAULT_CONNECTION_LIMITS.maxUnauthenticated,
      waitTimeoutMs: options.connectionWaitTimeoutMs ?? DEFAULT_CONNECTION_LIMITS.waitTimeoutMs,
      packets: packetLimitsFor(maxPayloadBytes),
    },
    options.log,
  );
}

/** Keeps `live` (the connected clients) and logs client, connection and persistence errors. */
function watchClients(aedes: Aedes, live: Set<Client>, log: Log): void {
  aedes.on('client', (client) => live.add(client));
  aedes.on('clientDisconnect', (client) => live.delete(client));
  aedes.on('clientError', (client, error) => log.debug('mqtt client error', { clientId: client.id, error: error.message }));
  aedes.on('connectionError', (_client, error) => log.debug('mqtt connection error', { error: error.message }));
  // aedes emits 'error' for persistence failures; without a listener EventEmitter would throw.
  // (aedes' typings list no 'error' overload, hence the EventEmitter view.)
  const emitter: EventEmitter = aedes;
  emitter.on('error', (error: Error) => log.error('mqtt broker error', { error: error.message }));
}

/** Polls the registry and closes revoked connections; a failed check is logged, not thrown. */
function pollRegistry(registry: DeviceRegistry, live: ReadonlySet<Client>, context: HookContext, intervalMs: number): NodeJS.Timeout {
  registry.pollChanges();
  const timer = setInterval(() => {
    try {
      enforceRegistry(registry, live, context);
    } catch (error) {
      context.log.error('device registry check failed', { error: String(error) });
    }
  }, intervalMs);
  timer.unref();
  return timer;
}

function serverPublish(aedes: Aedes, counters: Counters, topic: string, payload: Buffer, qos: 0 | 1): Promise<void> {
  const packet: PublishPacket = { cmd: 'publish', topic, payload, qos, retain: false, dup: false };
  return new Promise((resolve, reject) => {
    aedes.publish(packet, (error) => {
      if (error) {
        reject(new BrokerError(`server publish on ${topic} failed: ${error.message}`, { cause: error }));
        return;
      }
      counters.serverPublishes += 1;
      resolve();
    });
  });
}

/**
 * Builds the broker. Nothing listens until `listen()`.
 *
 * @example
 * const broker = createBroker({ registry, log, onTelemetry: (m) => stream.append(m) });
 * const { mqttPort } = await broker.listen({ host: '127.0.0.1', mqttPort: 0 });
 */
export function createBroker(options: BrokerOptions): Broker {
  const { registry, log } = options;
  const maxPayloadBytes = options.maxPayloadBytes ?? TELEMETRY_LIMITS.maxPayloadBytes;
  const admission = admissionFor(options, maxPayloadBytes);
  const warnings = new RateLimitedLog({ log });
  const context: HookContext = { sessions: new WeakMap(), counters: newCounters(), warnings, log, clock: options.clock ?? systemClock };
  const live = new Set<Client>();

  const aedes = new Aedes({
    // IoT Core allows client ids up to 128 characters; aedes' default limit of 23 applies to MQTT 3.1 only.
    maxClientsIdLength: 128,
    authenticate: createAuthenticate(context, {
      registry,
      admission,
      throttle: new AuthThrottle(options.authThrottle),
      isTelemetryTopic: options.isTelemetryTopic ?? matchesTelemetryFilter,
    }),
    authorizePublish: createAuthorizePublish(context, new TelemetryHandoff(context, options.onTelemetry), maxPayloadBytes),
    authorizeForward,
    authorizeSubscribe: createAuthorizeSubscribe(context),
  });
  watchClients(aedes, live, log);

  const listeners: Listener[] = [];
  let pollTimer: NodeJS.Timeout | undefined;
  let listening = false;
  let closing: Promise<void> | undefined;
  const handle: ConnectionHandler = (connection, request?: IncomingMessage) => admission.offer(connection, (stream) => aedes.handle(stream, request));

  return {
    aedes,

    async listen({ host, mqttPort, wsPort }: ListenOptions) {
      if (listening || closing) throw new BrokerError('the broker is already listening or closed');
      listening = true;
      await aedes.listen();
      try {
        const tcp = await listenTcp(handle, host, mqttPort);
        listeners.push(tcp);
        const ws = wsPort === undefined ? undefined : await listenWebSocket(handle, host, wsPort, { maxMessageBytes: maxPayloadBytes + WS_MESSAGE_HEADROOM_BYTES });
        if (ws) listeners.push(ws);
        pollTimer = pollRegistry(registry, live, context, options.registryPollMs ?? 500);
        log.info('mqtt broker listening', { host, mqttPort: tcp.port, ...(ws ? { wsPort: ws.port } : {}) });
        return { mqttPort: tcp.port, ...(ws ? { wsPort: ws.port } : {}) };
      } catch (error) {
        await this.close();
        throw error;
      }
    },

    publish(topic, payload, publishOptions = {}) {
      if (!listening || closing) return Promise.reject(new BrokerError(`cannot publish on ${topic}: the broker is not listening`));
      return serverPublish(aedes, context.counters, topic, payload, publishOptions.qos ?? 0);
    },

    stats() {
      return { connected: live.size, ...context.counters, connections: admission.stats() };
    },

    close() {
      closing ??= (async () => {
        if (pollTimer) clearInterval(pollTimer);
        admission.close();
        warnings.flushAll();
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        await Promise.all(listeners.map((listener) => listener.close()));
      })();
      return closing;
    },
  };
}
