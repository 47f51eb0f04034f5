/** The broker's public shapes, and the per-connection state its aedes hooks share. */
import type { Aedes, Client } from 'aedes';
import type { Clock } from '../../../lambdas/ports/clock.js';
import type { Log } from '../../../lambdas/ports/observability.js';
import type { DeviceRegistry, DeviceRole } from '../registry/index.js';
import type { RateLimitedLog } from '../rate-limited-log.js';
import type { AdmissionStats } from './admission.js';
import type { AuthThrottleOptions } from './auth-throttle.js';
import type { InOrderAcks } from './in-order-acks.js';
import type { RuleMessage } from '../iot-sql/index.js';

export interface BrokerOptions {
  readonly registry: DeviceRegistry;
  /**
   * Called synchronously, in arrival order, for every accepted telemetry PUBLISH (QoS 0 and 1), with
   * the message as the rule sees it: a Basic Ingest topic without its `$aws/rules/<rule>/` prefix,
   * the client id (also the device id: the broker enforces it), and the receive time as `timestamp`.
   * The PUBACK is sent only after the returned promise resolves; if it rejects (or the function
   * throws), the connection is closed without PUBACK and the client resends after reconnecting.
   */
  readonly onTelemetry: (message: RuleMessage) => Promise<void> | void;
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
  /** Source of the messages' `timestamp` (their receive time). @default systemClock */
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

/** What the broker knows of one authenticated connection. */
export interface Session {
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

export type Counters = { -readonly [K in Exclude<keyof BrokerStats, 'connected' | 'connections'>]: number };

/** The state every hook of one broker shares: its sessions, its counters and its rate-limited warnings. */
export interface HookContext {
  readonly sessions: WeakMap<Client, Session>;
  readonly counters: Counters;
  readonly warnings: RateLimitedLog;
  readonly log: Log;
  readonly clock: Clock;
}
