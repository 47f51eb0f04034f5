import { FleetTelemetryError } from '../../../lambdas/domain/errors.js';

/** Base of every error the device registry raises on purpose. */
export class RegistryError extends FleetTelemetryError {}

/** A device id that is not 1 to 128 of `[A-Za-z0-9_:-]` (an IoT thing name). */
export class InvalidDeviceIdError extends RegistryError {
  constructor(readonly deviceId: string) {
    super(`invalid device id ${JSON.stringify(deviceId)}: expected 1 to 128 of A-Z a-z 0-9 _ : -`);
  }
}

/** `add`/`addMany` of an id that is already registered (use `upsert` to replace its password). */
export class DeviceExistsError extends RegistryError {
  constructor(
    readonly deviceId: string,
    options?: { cause?: unknown },
  ) {
    super(`device ${deviceId} already exists`, options);
  }
}

/** An option that cannot be stored (role, type, password), naming the device and the field. */
export class InvalidDeviceOptionError extends RegistryError {
  constructor(
    readonly deviceId: string,
    readonly field: string,
    reason: string,
  ) {
    super(`device ${deviceId}: ${field}: ${reason}`);
  }
}

/** A stored password hash that cannot be read (hand-edited or corrupt devices.db). */
export class CorruptCredentialError extends RegistryError {
  constructor(readonly deviceId: string, reason: string) {
    super(`device ${deviceId}: stored credential is unreadable: ${reason}`);
  }
}
