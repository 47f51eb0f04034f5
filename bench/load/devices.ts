/** The publishers' client ids: the stack registers them as devices, raw aedes takes them as they are. */
import type { PublisherCredentials } from './publisher.js';

/** The `i`-th publisher's client id (and device id on the stack). */
export function benchDeviceId(i: number): string {
  return `bench-${String(i).padStart(5, '0')}`;
}

/** Credentials for a target that takes anyone (raw aedes): the same client ids as the stack's devices. */
export function anonymousClients(count: number): PublisherCredentials[] {
  return Array.from({ length: count }, (_, i) => ({ clientId: benchDeviceId(i), password: 'unused' }));
}
