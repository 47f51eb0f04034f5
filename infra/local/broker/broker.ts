/**
 * The local MQTT broker: aedes 1.x in-process (MQTT 3.1.1), over TCP and WebSocket, with the device
 * registry's credentials and the IoT policy's topic rules (acl.ts).
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
import type { AuthenticateError, Client, PublishPacket } from 'aedes';
import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { isBasicIngestTopic, pipeline, ruleTopicOf } from '../../pipeline.js';
import { TELEMETRY_LIMITS } from '../../../lambdas/domain/model.js';
import type { Clock, Log } from '../../../lambdas/ports/index.js';
import { systemClock } from '../../../lambdas/ports/index.js';
import type { DeviceRegistry, DeviceRole } from '../registry/index.js';
import { canPublish, canSubscribe, publishableTopic } from './acl.js';
import type { AclDecision } from './acl.js';
import { BrokerError, CONNACK, ConnectRefusedError, PublishRefusedError, TelemetryNotAcceptedError } from './errors.js';
import type { ConnackRefusal } from './errors.js';
import { InOrderAcks } from './in-order-acks.js';
import type { AckTicket } from './in-order-acks.js';
import { listenTcp, listenWebSocket } from './listeners.js';
import type { ConnectionHandler, Listener } from './listeners.js';
import { ConnectionAdmission, DEFAULT_CONNECTION_LIMITS } from './admission.js';
import type { AdmissionStats } from './admission.js';
import { packetLimitsFor } from './packet-guard.js';
import { AuthThrottle } from './auth-throttle.js';
import type { AuthThrottleOptions } from './auth-throttle.js';
import { RateLimitedLog } from '../rate-limited-log.js';

/** One accepted telemetry message, as the local rule needs it. */
export interface TelemetryMessage {
  /** As the rule sees it: a Basic Ingest topic without its `$aws/rules/<rule>/` prefix. */
  readonly topic: string;
  readonly payload: Buffer;
  /** The MQTT client id, which is also the device id (the broker enforces it). */
  readonly clientId: string;
  readonly qos: 0 | 1;
  /** Epoch ms when the broker received the PUBLISH (the rule's `timestamp()`). */
  readonly receivedAt: number;
}

export interface BrokerOptions {
  readonly registry: DeviceRegistry;
  /**
   * Called synchronously, in arrival order, for every accepted telemetry PUBLISH (QoS 0 and 1). The
   * PUBACK is sent only after the returned promise resolves; if it rejects (or the function throws),
   * the connection is closed without PUBACK and the client resends after reconnecting.
   */
  readonly onTelemetry: (message: TelemetryMessage) => Promise<void> | void;
  readonly log: Log;
  /** Largest payload accepted; a larger PUBLISH closes the connection, as on IoT Core. @default 131072 (128 KiB) */
  readonly maxPayloadBytes?: number;
  /**
   * Which accepted publishes are telemetry. Asked once per connection, for the one topic the ACL lets
   * it publish on (so it must be a pure function of the topic). @default matches pipeline.topics.telemetryFilter
   */
  readonly isTelemetryTopic?: (topic: string) => boolean;
  /** How often the registry is checked for removed devices and changed passwords. @default 500 (ms) */
  readonly registryPollMs?: number;
  /** Source of `receivedAt`. @default systemClock */
  readonly clock?: Clock;
  /** Open connections at most; one more is closed at once. @default 20,000 */
  readonly maxConnections?: number;
  /**
   * Connections read before their CONNECT is accepted, at most; more wait unread (TCP backpressure)
   * for a slot. @default 1,000
   */
  readonly maxUnauthenticated?: number;
  /** How long a connection may wait for that slot. @default 30,000 (ms) */
  readonly connectionWaitTimeoutMs?: number;
  /** The brake on password guessing (auth-throttle.ts). @default DEFAULT_AUTH_THROTTLE */
  readonly authThrottle?: AuthThrottleOptions;
}

export interface ListenOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly mqttPort: number;
  /** MQTT over WebSocket; omitted: not served. 0 picks a free port. */
  readonly wsPort?: number;
}

export interface BrokerStats {
  /** Clients connected now. */
  readonly connected: number;
  readonly connectsAccepted: number;
  readonly connectsRefused: number;
  /** CONNECTs whose password check waited because of earlier failures (same client id or address). */
  readonly connectsDelayed: number;
  readonly publishesRefused: number;
  readonly subscriptionsRefused: number;
  /** Telemetry messages `onTelemetry` accepted (each is acknowledged if QoS 1). */
  readonly messagesAccepted: number;
  /** Telemetry messages `onTelemetry` failed (the connection was closed without PUBACK). */
  readonly telemetryFailures: number;
  /** Connections closed because their device was removed or given a new password. */
  readonly disconnectedByRegistry: number;
  /** Server-side publishes (alarm notifications). */
  readonly serverPublishes: number;
  /** Connections, and those refused before any MQTT was read (admission.ts). */
  readonly connections: AdmissionStats;
}

export interface Broker {
  /** The aedes instance, for events and tests. Its hooks belong to this module. */
  readonly aedes: Aedes;
  /** Starts aedes and the listeners; resolves with the bound ports. */
  listen(options: ListenOptions): Promise<{ mqttPort: number; wsPort?: number }>;
  /** Publishes from the server side (alarm notifications), bypassing the client ACL. */
  publish(topic: string, payload: Buffer, options?: { qos?: 0 | 1 }): Promise<void>;
  stats(): BrokerStats;
  /** Disconnects every client and stops listening. Idempotent. */
  close(): Promise<void>;
}

interface Session {
  readonly deviceId: string;
  readonly role: DeviceRole;
  readonly credentialStamp: string;
  /** `publishableTopic(session)`: the one topic the ACL lets this connection publish on. */
  readonly publishTopic: string | undefined;
  /** Whether `publishTopic` is telemetry: `isTelemetryTopic` asked once per connection, not per PUBLISH. */
  readonly publishesTelemetry: boolean;
  /** This connection's PUBACKs, released in arrival order. */
  readonly acks: InOrderAcks;
  /** The credential is gone: the connection is being closed, and its Will must not be published. */
  revoked: boolean;
}

/** A telemetry message whose PUBACK waits for `onTelemetry`'s promise. */
interface Waiting {
  readonly session: Session;
  readonly clientId: string;
  readonly topic: string;
  readonly ticket: AckTicket;
}

/** The messages waiting for one promise: the Kinesis rule action returns one per batch of appends. */
interface WaitGroup {
  readonly members: Waiting[];
  settled: boolean;
}

type Counters = { -readonly [K in Exclude<keyof BrokerStats, 'connected' | 'connections'>]: number };

/** Generous headroom over one telemetry packet per WebSocket message (a few packets may share one). */
const WS_MESSAGE_HEADROOM_BYTES = 64 * 1024;

const telemetryPattern = new RegExp(
  `^${pipeline.topics.telemetryFilter
    .split('/')
    .map((level) => (level === '+' ? '[^/]+' : level.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/')}$`,
);

/** Whether `topic` matches the pipeline's telemetry filter (`dt/fleet/+/telemetry`). */
export function matchesTelemetryFilter(topic: string): boolean {
  return telemetryPattern.test(topic);
}

/**
 * Builds the broker. Nothing listens until `listen()`.
 *
 * @example
 * const broker = createBroker({ registry, log, onTelemetry: (m) => stream.append(m) });
 * const { mqttPort } = await broker.listen({ host: '127.0.0.1', mqttPort: 0 });
 */
export function createBroker(options: BrokerOptions): Broker {
  const { registry, onTelemetry, log } = options;
  const maxPayloadBytes = options.maxPayloadBytes ?? TELEMETRY_LIMITS.maxPayloadBytes;
  const isTelemetryTopic = options.isTelemetryTopic ?? matchesTelemetryFilter;
  const clock = options.clock ?? systemClock;
  const admission = new ConnectionAdmission(
    {
      maxConnections: options.maxConnections ?? DEFAULT_CONNECTION_LIMITS.maxConnections,
      maxUnauthenticated: options.maxUnauthenticated ?? DEFAULT_CONNECTION_LIMITS.maxUnauthenticated,
      waitTimeoutMs: options.connectionWaitTimeoutMs ?? DEFAULT_CONNECTION_LIMITS.waitTimeoutMs,
      packets: packetLimitsFor(maxPayloadBytes),
    },
    log,
  );

  const throttle = new AuthThrottle(options.authThrottle);
  const warnings = new RateLimitedLog({ log });

  const sessions = new WeakMap<Client, Session>();
  const live = new Set<Client>();
  const counters: Counters = {
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

  const refuseConnect = (
    client: Client,
    username: string | undefined,
    returnCode: ConnackRefusal,
    reason: string,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
    cause?: unknown,
    extra?: Record<string, unknown>,
  ) => {
    counters.connectsRefused += 1;
    // Per return code, at most one line per interval with a count: a guesser must not flood the log.
    warnings.warn(`connect-refused-${returnCode}`, 'mqtt connect refused', { clientId: client.id, username, returnCode, reason, ...extra });
    const error = new ConnectRefusedError(client.id, returnCode, reason, cause === undefined ? undefined : { cause });
    done(Object.assign(error, { returnCode }) as unknown as AuthenticateError, false);
  };

  function refusePublish(clientId: string, topic: string, reason: string, done: (error?: Error | null) => void): void {
    counters.publishesRefused += 1;
    warnings.warn('publish-refused', 'mqtt publish refused; closing the connection', { clientId, topic, reason });
    done(new PublishRefusedError(clientId, topic, reason));
  }

  function acceptGroup(group: WaitGroup): void {
    group.settled = true;
    for (const member of group.members) {
      counters.messagesAccepted += 1;
      member.session.acks.settle(member.ticket);
    }
  }

  function failTelemetry(member: Waiting, cause: unknown): void {
    counters.telemetryFailures += 1;
    const error = new TelemetryNotAcceptedError(member.clientId, member.topic, { cause });
    // Rate-limited with a count: while the disk headroom is engaged this is every message.
    warnings.warn('telemetry-not-accepted', 'mqtt telemetry not accepted; closing the connection without PUBACK so the client resends', {
      clientId: member.clientId,
      topic: member.topic,
      error: cause instanceof Error ? cause.message : String(cause),
    });
    member.session.acks.settle(member.ticket, error);
  }

  function failGroup(group: WaitGroup, cause: unknown): void {
    group.settled = true;
    for (const member of group.members) failTelemetry(member, cause);
  }

  /**
   * Waits for `result` before releasing `member`'s PUBACK. Consecutive messages handed the same
   * promise (one batch of appends) share one `then`, instead of two closures and a reaction each.
   */
  let lastResult: PromiseLike<void> | undefined;
  let lastGroup: WaitGroup | undefined;
  function waitFor(result: PromiseLike<void>, member: Waiting): void {
    if (result === lastResult && lastGroup !== undefined && !lastGroup.settled) {
      lastGroup.members.push(member);
      return;
    }
    const group: WaitGroup = { members: [member], settled: false };
    lastResult = result;
    lastGroup = group;
    result.then(
      () => acceptGroup(group),
      (cause: unknown) => failGroup(group, cause),
    );
  }

  const aedes = new Aedes({
    // IoT Core allows client ids up to 128 characters; aedes' default limit of 23 applies to MQTT 3.1 only.
    maxClientsIdLength: 128,

    authenticate(client, username, password, done) {
      // Anonymous connections are not allowed (IoT Core needs a certificate or an authorizer).
      if (username === undefined || password === undefined) {
        refuseConnect(client, username, CONNACK.notAuthorized, 'no username or password', done);
        return;
      }
      // As IoT Core's thing policy: `iot:Connect` on `client/${iot:Connection.Thing.ThingName}` (the
      // client id must equal the thing name). Operators too: one identity, one session.
      if (client.id !== username) {
        refuseConnect(client, username, CONNACK.identifierRejected, 'client id must equal the username', done);
        return;
      }
      const address = admission.remoteAddressOf(client.conn as Duplex);
      const checkPassword = () =>
        registry.authenticate(username, password).then(
          (device) => {
            if (!device) {
              const { clientFailures, addressFailures } = throttle.failed(client.id, address, clock.now());
              // Unknown device and wrong password get the same answer, so ids cannot be probed.
              refuseConnect(client, username, CONNACK.badUsernameOrPassword, 'unknown device or wrong password', done, undefined, {
                remoteAddress: address,
                clientFailures,
                addressFailures,
              });
              return;
            }
            throttle.succeeded(client.id);
            const publishTopic = publishableTopic(device);
            sessions.set(client, {
              deviceId: device.deviceId,
              role: device.role,
              credentialStamp: device.credentialStamp,
              publishTopic,
              publishesTelemetry: publishTopic !== undefined && isTelemetryTopic(publishTopic),
              acks: new InOrderAcks(),
              revoked: false,
            });
            counters.connectsAccepted += 1;
            admission.authenticated(client.conn as Duplex);
            log.debug('mqtt client authenticated', { clientId: client.id, role: device.role });
            done(null, true);
          },
          (error: unknown) => {
            refuseConnect(client, username, CONNACK.serverUnavailable, `registry error: ${String(error)}`, done, error);
          },
        );
      const wait = throttle.beforeAttempt(client.id, address, clock.now());
      if (wait.delayMs === 0) {
        checkPassword();
        return;
      }
      counters.connectsDelayed += 1;
      warnings.warn('connect-delayed', 'mqtt connect delayed after repeated failed attempts', {
        clientId: client.id,
        remoteAddress: address,
        delayMs: wait.delayMs,
        because: wait.reason,
        failures: wait.failures,
      });
      setTimeout(checkPassword, wait.delayMs).unref();
    },

    // Runs for every PUBLISH (and a Will) before aedes writes the PUBACK: keep it free of per-message
    // closures, map lookups beyond the session, and string building (bench/stages.ts `ack`).
    authorizePublish(client, packet, done) {
      const { topic } = packet;
      const session = client ? sessions.get(client) : undefined;
      if (!client || session === undefined || session.revoked) return refusePublish(client?.id ?? '(none)', topic, 'not an authenticated session', done);
      const { acks } = session;
      if (acks.failed) {
        // An earlier message of this connection was not accepted: take nothing more, so nothing later
        // overtakes it. The client resends all of them after reconnecting.
        done(acks.failed);
        return;
      }
      // Basic Ingest: the ACL and the rule see the topic without its `$aws/rules/<rule>/` prefix.
      const ruleTopic = ruleTopicOf(topic);
      if (ruleTopic === undefined || ruleTopic !== session.publishTopic) {
        // Only for the refusal's reason: the ACL allows exactly `publishTopic`, directly or through Basic Ingest.
        const decision = canPublish(session, topic);
        if (!decision.allowed) return refusePublish(client.id, topic, decision.reason, done);
      }
      // IoT Core supports QoS 0 and 1 only ("AWS IoT differences from MQTT specifications").
      if (packet.qos !== 0 && packet.qos !== 1) return refusePublish(client.id, topic, 'QoS 2 is not supported', done);
      const payload = packet.payload as Buffer;
      if (payload.length > maxPayloadBytes) {
        // IoT Core: "rejects publish and connect requests larger than 128 KB" and disconnects.
        return refusePublish(client.id, topic, `payload of ${payload.length} bytes exceeds ${maxPayloadBytes}`, done);
      }
      // Retained telemetry is ignored, not stored: no client may subscribe to a telemetry topic, so a
      // retained copy could never be delivered, and the rule sees the message either way.
      packet.retain = false;
      if (!session.publishesTelemetry) {
        done(null);
        return;
      }
      const ticket = acks.enqueue(done);
      const clientId = client.id;
      const message: TelemetryMessage = { topic: ruleTopic ?? topic, payload, clientId, qos: packet.qos, receivedAt: clock.now() };
      let result: PromiseLike<void> | void;
      try {
        // Called before anything is awaited: arrival order is the order of these calls.
        result = onTelemetry(message);
      } catch (error) {
        failTelemetry({ session, clientId, topic, ticket }, error);
        return;
      }
      if (result && typeof result.then === 'function') {
        waitFor(result, { session, clientId, topic, ticket });
      } else {
        counters.messagesAccepted += 1;
        acks.settle(ticket);
      }
    },

    // Basic Ingest messages go to the rule only: no subscriber receives them, as on IoT Core (where
    // nothing may even subscribe to `$aws/rules/...`). Runs only per delivery to a subscriber.
    authorizeForward(_client, packet) {
      return isBasicIngestTopic(packet.topic) ? null : packet;
    },

    authorizeSubscribe(client, subscription, done) {
      const session = sessions.get(client);
      const decision: AclDecision = !session
        ? { allowed: false, reason: 'not an authenticated session' }
        : subscription.qos > 1
          ? // IoT Core does not support QoS 2 and sends no SUBACK for it ("AWS IoT differences from MQTT
            // specifications"). aedes cannot grant less than was asked (it puts the requested QoS in the
            // SUBACK), so the filter is refused: a client that would hang on AWS fails visibly here.
            { allowed: false, reason: 'QoS 2 is not supported' }
          : canSubscribe(session, subscription.topic);
      if (!decision.allowed) {
        counters.subscriptionsRefused += 1;
        warnings.warn('subscribe-refused', 'mqtt subscribe refused', { clientId: client.id, filter: subscription.topic, qos: subscription.qos, reason: decision.reason });
        // A null subscription makes aedes answer 0x80 (failure) for this filter in the SUBACK
        // (MQTT 3.1.1 section 3.9.3) and keep the connection, as IoT Core does for a denied filter.
        done(null, null);
        return;
      }
      done(null, subscription);
    },
  });

  aedes.on('client', (client) => live.add(client));
  aedes.on('clientDisconnect', (client) => live.delete(client));
  aedes.on('clientError', (client, error) => log.debug('mqtt client error', { clientId: client.id, error: error.message }));
  aedes.on('connectionError', (_client, error) => log.debug('mqtt connection error', { error: error.message }));
  // aedes emits 'error' for persistence failures; without a listener EventEmitter would throw.
  // (aedes' typings list no 'error' overload, hence the EventEmitter view.)
  const emitter: EventEmitter = aedes;
  emitter.on('error', (error: Error) => log.error('mqtt broker error', { error: error.message }));

  /** Closes the connections whose device was removed, or whose password changed since they connected. */
  const enforceRegistry = () => {
    if (!registry.pollChanges()) return;
    for (const client of live) {
      const session = sessions.get(client);
      if (!session || session.revoked) continue;
      const stamp = registry.credentialStamp(session.deviceId);
      if (stamp === session.credentialStamp) continue;
      session.revoked = true;
      counters.disconnectedByRegistry += 1;
      log.info('mqtt client disconnected: its credential was revoked', {
        clientId: client.id,
        reason: stamp === undefined ? 'device removed' : 'password changed',
      });
      client.close();
    }
  };

  const listeners: Listener[] = [];
  let pollTimer: NodeJS.Timeout | undefined;
  let listening = false;
  let closing: Promise<void> | undefined;

  const handle: ConnectionHandler = (connection, request?: IncomingMessage) =>
    admission.offer(connection, (stream) => aedes.handle(stream, request));

  return {
    aedes,

    async listen({ host, mqttPort, wsPort }) {
      if (listening || closing) throw new BrokerError('the broker is already listening or closed');
      listening = true;
      await aedes.listen();
      try {
        const tcp = await listenTcp(handle, host, mqttPort);
        listeners.push(tcp);
        const ws =
          wsPort === undefined
            ? undefined
            : await listenWebSocket(handle, host, wsPort, { maxMessageBytes: maxPayloadBytes + WS_MESSAGE_HEADROOM_BYTES });
        if (ws) listeners.push(ws);
        registry.pollChanges();
        pollTimer = setInterval(() => {
          try {
            enforceRegistry();
          } catch (error) {
            log.error('device registry check failed', { error: String(error) });
          }
        }, options.registryPollMs ?? 500);
        pollTimer.unref();
        log.info('mqtt broker listening', { host, mqttPort: tcp.port, ...(ws ? { wsPort: ws.port } : {}) });
        return { mqttPort: tcp.port, ...(ws ? { wsPort: ws.port } : {}) };
      } catch (error) {
        await this.close();
        throw error;
      }
    },

    publish(topic, payload, publishOptions = {}) {
      if (!listening || closing) return Promise.reject(new BrokerError(`cannot publish on ${topic}: the broker is not listening`));
      const packet: PublishPacket = { cmd: 'publish', topic, payload, qos: publishOptions.qos ?? 0, retain: false, dup: false };
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
    },

    stats() {
      return { connected: live.size, ...counters, connections: admission.stats() };
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
