/** The local device registry: credentials and roles for the embedded broker (`<dataDir>/devices.db`). */
export { DeviceRegistry, DEVICE_ROLES } from './device-registry.js';
export type {
  AuthenticatedDevice,
  DeviceCredentials,
  DeviceEntry,
  DeviceInfo,
  DeviceOptions,
  DeviceRole,
  RegistryOpenOptions,
} from './device-registry.js';
export {
  CorruptCredentialError,
  DeviceExistsError,
  InvalidDeviceIdError,
  InvalidDeviceOptionError,
  RegistryError,
} from './errors.js';
export { FAST_SCRYPT, STRONG_SCRYPT, HIGH_ENTROPY_MIN_LENGTH } from './password-hash.js';
export type { ScryptParams } from './password-hash.js';
