/** Raw MQTT 3.1.1 bytes for tests that must control what goes on the wire (sizes, timing). */
import { connect as tcpConnect, type Socket } from 'node:net';

/** An MQTT fixed header: type, flags, and the remaining length as MQTT's variable-length integer. */
export function fixedHeader(type: number, flags: number, remainingLength: number): Buffer {
  const bytes = [(type << 4) | flags];
  let n = remainingLength;
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    bytes.push(digit);
  } while (n > 0);
  return Buffer.from(bytes);
}

/** An MQTT 3.1.1 CONNECT with username and password, clean session, keep-alive 60 s. */
export function connectPacket(clientId: string, username: string, password: string): Buffer {
  const field = (text: string) => {
    const bytes = Buffer.from(text);
    return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
  };
  const body = Buffer.concat([field('MQTT'), Buffer.from([4, 0xc2, 0, 60]), field(clientId), field(username), field(password)]);
  return Buffer.concat([fixedHeader(1, 0, body.length), body]);
}

export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Connects, sends a CONNECT and resolves with the CONNACK return code (0 accepted, 4 bad username or
 * password, ...) and how long it took; the socket is closed after a refusal and left open otherwise.
 */
export async function connectRaw(port: number, clientId: string, username: string, password: string, timeoutMs = 60_000): Promise<{ returnCode: number; ms: number; socket: Socket }> {
  const socket = await openSocket(port);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no CONNACK for ${clientId} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('data', (data) => {
      clearTimeout(timer);
      if (data[0] !== 0x20 || data.length < 4) {
        reject(new Error(`not a CONNACK: ${data.toString('hex')}`));
        return;
      }
      const returnCode = data[3] as number;
      if (returnCode !== 0) socket.destroy();
      resolve({ returnCode, ms: performance.now() - started, socket });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.write(connectPacket(clientId, username, password));
  });
}
