/** The local MQTT broker (aedes): registry credentials, the IoT policy's topic rules, PUBACK after the durable append. */
export { createBroker } from './broker.js';
export type { Broker, BrokerOptions, BrokerStats } from './types.js';
export { DEFAULT_CONNECTION_LIMITS } from './admission.js';
export { CONNACK } from './errors.js';
