/**
 * The aedes `authenticate` hook: the CONNECT's username and password against the device registry,
 * braked by the auth throttle; an accepted connection gets its `Session`.
 */
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import type { Duplex } from 'node:stream';
import type { DeviceRegistry } from '../registry/index.js';
import { publishableTopic } from './acl.js';
import type { ConnectionAdmission } from './admission.js';
import type { AuthThrottle } from './auth-throttle.js';
import { CONNACK, ConnectRefusedError } from './errors.js';
import type { ConnackRefusal } from './errors.js';
import { InOrderAcks } from './in-order-acks.js';
import type { HookContext } from './types.js';

export type AuthenticateHook = NonNullable<AedesOptions['authenticate']>;
type AuthenticateDone = Parameters<AuthenticateHook>[3];

export interface AuthenticateDependencies {
  readonly registry: DeviceRegistry;
  readonly admission: ConnectionAdmission;
  readonly throttle: AuthThrottle;
  readonly isTelemetryTopic: (topic: string) => boolean;
}

function refuseConnect(
  context: HookContext,
  client: Client,
  username: string | undefined,
  returnCode: ConnackRefusal,
  reason: string,
  done: AuthenticateDone,
  cause?: unknown,
  extra?: Record<string, unknown>,
): void {
  context.counters.connectsRefused += 1;
  // Per return code, at most one line per interval with a count: a guesser must not flood the log.
  context.warnings.warn(`connect-refused-${returnCode}`, 'mqtt connect refused', { clientId: client.id, username, returnCode, reason, ...extra });
  const error = new ConnectRefusedError(client.id, returnCode, reason, cause === undefined ? undefined : { cause });
  done(Object.assign(error, { returnCode }) as unknown as AuthenticateError, false);
}

export function createAuthenticate(context: HookContext, dependencies: AuthenticateDependencies): AuthenticateHook {
  const { sessions, counters, warnings, log, clock } = context;
  const { registry, admission, throttle, isTelemetryTopic } = dependencies;

  const checkPassword = (client: Client, username: string, password: Buffer, address: string, done: AuthenticateDone) =>
    registry.authenticate(username, password).then(
      (device) => {
        if (!device) {
          const { clientFailures, addressFailures } = throttle.failed(client.id, address, clock.now());
          // Unknown device and wrong password get the same answer, so ids cannot be probed.
          refuseConnect(context, client, username, CONNACK.badUsernameOrPassword, 'unknown device or wrong password', done, undefined, {
            remoteAddress: address,
            clientFailures,
            addressFailures,
          });
          return;
        }
        throttle.succeeded(client.id);
        const publishTopic = publishableTopic(device);
        sessions.set(client, {
          deviceId: device.deviceId,
          role: device.role,
          credentialStamp: device.credentialStamp,
          publishTopic,
          publishesTelemetry: publishTopic !== undefined && isTelemetryTopic(publishTopic),
          acks: new InOrderAcks(),
          revoked: false,
        });
        counters.connectsAccepted += 1;
        admission.authenticated(client.conn as Duplex);
        log.debug('mqtt client authenticated', { clientId: client.id, role: device.role });
        done(null, true);
      },
      (error: unknown) => {
        refuseConnect(context, client, username, CONNACK.serverUnavailable, `registry error: ${String(error)}`, done, error);
      },
    );

  return (client, username, password, done) => {
    // Anonymous connections are not allowed (IoT Core needs a certificate or an authorizer).
    if (username === undefined || password === undefined) {
      refuseConnect(context, client, username, CONNACK.notAuthorized, 'no username or password', done);
      return;
    }
    // As IoT Core's thing policy: `iot:Connect` on `client/${iot:Connection.Thing.ThingName}` (the
    // client id must equal the thing name). Operators too: one identity, one session.
    if (client.id !== username) {
      refuseConnect(context, client, username, CONNACK.identifierRejected, 'client id must equal the username', done);
      return;
    }
    const address = admission.remoteAddressOf(client.conn as Duplex);
    const wait = throttle.beforeAttempt(client.id, address, clock.now());
    if (wait.delayMs === 0) {
      checkPassword(client, username, password, address, done);
      return;
    }
    counters.connectsDelayed += 1;
    warnings.warn('connect-delayed', 'mqtt connect delayed after repeated failed attempts', {
      clientId: client.id,
      remoteAddress: address,
      delayMs: wait.delayMs,
      because: wait.reason,
      failures: wait.failures,
    });
    setTimeout(() => checkPassword(client, username, password, address, done), wait.delayMs).unref();
  };
}
