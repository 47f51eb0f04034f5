/** The local MQTT broker (aedes): registry credentials, the IoT policy's topic rules, PUBACK after the durable append. */
export { createBroker, matchesTelemetryFilter } from './broker.js';
export type { Broker, BrokerOptions, BrokerStats, ListenOptions, TelemetryMessage } from './broker.js';
export { canPublish, canSubscribe } from './acl.js';
export type { AclDecision, Principal } from './acl.js';
export { BrokerError, CONNACK, ConnectRefusedError, PublishRefusedError, TelemetryNotAcceptedError } from './errors.js';
export type { ConnackRefusal } from './errors.js';
