/** The local device registry: credentials and roles for the embedded broker (`<dataDir>/devices.db`). */
export { DeviceRegistry, DEVICE_ROLES } from './device-registry.js';
export type { DeviceCredentials, DeviceEntry, DeviceInfo, DeviceRole } from './device-registry.js';
export { DeviceExistsError, InvalidDeviceIdError, InvalidDeviceOptionError, RegistryError } from './errors.js';
