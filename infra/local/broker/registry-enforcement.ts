/** Closes the connections whose device was removed, or whose password changed since they connected. */
import type { Client } from 'aedes';
import type { DeviceRegistry } from '../registry/index.js';
import type { HookContext } from './types.js';

export function enforceRegistry(registry: DeviceRegistry, live: ReadonlySet<Client>, context: HookContext): void {
  if (!registry.pollChanges()) return;
  for (const client of live) {
    const session = context.sessions.get(client);
    if (!session || session.revoked) continue;
    const stamp = registry.credentialStamp(session.deviceId);
    if (stamp === session.credentialStamp) continue;
    session.revoked = true;
    context.counters.disconnectedByRegistry += 1;
    context.log.info('mqtt client disconnected: its credential was revoked', {
      clientId: client.id,
      reason: stamp === undefined ? 'device removed' : 'password changed',
    });
    client.close();
  }
}
