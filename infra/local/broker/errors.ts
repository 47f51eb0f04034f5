import { FleetTelemetryError } from '../../../lambdas/domain/errors.js';

/** Base of every error the local broker raises on purpose. */
export class BrokerError extends FleetTelemetryError {}

/**
 * MQTT 3.1.1 CONNACK return codes (section 3.2.2.3, table 3.1). aedes sends the `returnCode` carried by
 * the error given to its `authenticate` callback (2 to 5).
 */
export const CONNACK = {
  identifierRejected: 2,
  serverUnavailable: 3,
  badUsernameOrPassword: 4,
  notAuthorized: 5,
} as const;
export type ConnackRefusal = (typeof CONNACK)[keyof typeof CONNACK];

/** A CONNECT the broker refuses; aedes answers with CONNACK `returnCode`, then closes the connection. */
export class ConnectRefusedError extends BrokerError {
  constructor(
    readonly clientId: string,
    readonly returnCode: ConnackRefusal,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`client ${clientId}: connect refused: ${reason}`, options);
  }
}

/**
 * A PUBLISH the broker refuses (policy, size, QoS 2). aedes closes the connection without a PUBACK, as
 * IoT Core does for a publish its policy denies; MQTT 3.1.1 has no negative acknowledgement.
 */
export class PublishRefusedError extends BrokerError {
  constructor(
    readonly clientId: string,
    readonly topic: string,
    reason: string,
  ) {
    super(`client ${clientId}: publish on ${topic} refused: ${reason}`);
  }
}

/** `onTelemetry` failed: no PUBACK, the connection closes, and the client resends after reconnecting. */
export class TelemetryNotAcceptedError extends BrokerError {
  constructor(
    readonly clientId: string,
    readonly topic: string,
    options?: { cause?: unknown },
  ) {
    super(`client ${clientId}: telemetry on ${topic} not accepted; closing without PUBACK so the client resends`, options);
  }
}
