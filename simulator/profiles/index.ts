/**
 * The device kinds the simulator knows, and how a `--profile` choice assigns them to devices.
 */
import { coldChain } from './cold-chain.js';
import { envSensor } from './env-sensor.js';
import type { DeviceKind, DeviceProfile } from './types.js';
import { DEVICE_KINDS } from './types.js';
import { vehicle } from './vehicle.js';

export type { ActiveEffect, AnomalyEffect, DeviceKind, Signal, SignalEnvironment } from './types.js';

/** Every device kind, by name. */
export const PROFILES: Readonly<Record<DeviceKind, DeviceProfile>> = {
  'env-sensor': envSensor,
  'cold-chain': coldChain,
  vehicle,
};

/** `--profile` values: one kind for the whole fleet, or `mixed` (the kinds in turn, by device index). */
export const PROFILE_CHOICES = [...DEVICE_KINDS, 'mixed'] as const;
type ProfileChoice = (typeof PROFILE_CHOICES)[number];

/** The kind of device `index` under `choice`. `mixed` deals the kinds in turn: 0 env-sensor, 1 cold-chain, 2 vehicle, 3 env-sensor... */
export function kindOf(choice: ProfileChoice, index: number): DeviceKind {
  if (choice !== 'mixed') return choice;
  return DEVICE_KINDS[index % DEVICE_KINDS.length] as DeviceKind;
}
