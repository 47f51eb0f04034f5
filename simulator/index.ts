/**
 * The fleet simulator's public surface: run a fleet in-process (the demo, end-to-end tests and
 * benchmarks do), or generate one device's readings without any I/O.
 */
export { runFleet, backoffDelayMs, deviceIdOf } from './fleet.js';
export type { FleetSummary } from './fleet.js';
export type { FleetOptions, ProgressOptions } from './options.js';
export { resolveFleetOptions } from './options.js';
export type { FleetSnapshot } from './stats.js';
export { DeviceModel, Outbox, generateReadings } from './device.js';
export type { DeviceSpec, PlannedReading, TelemetryMessage, Pending } from './device.js';
export { parseScenario, loadScenarioFile, parseAnomalyFlag, resolveScenario, ANOMALY_KINDS } from './scenario.js';
export type { Anomaly, AnomalyKind, AnomalyWindow, Scenario } from './scenario.js';
export { PROFILES, PROFILE_CHOICES, DEVICE_KINDS, kindOf } from './profiles/index.js';
export type { DeviceKind, DeviceProfile, ProfileChoice } from './profiles/index.js';
export { parseEndpoint, awsTlsOptions, sourceAddressFor, AWS_IOT_ALPN, DEFAULT_LOCAL_ENDPOINT } from './connection.js';
export type { Endpoint, Target } from './connection.js';
export { SimulatorError, SimulatorUsageError, BrokerUnreachableError, RegistrationError, VerifyError } from './errors.js';
export type { VerifyResult } from './verify.js';
export { runWorkers } from './workers.js';
export { AWS_IOT_LIMITS } from './aws-limits.js';
