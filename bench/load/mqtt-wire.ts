/**
 * A minimal MQTT 3.1.1 publisher for the benchmarks: CONNECT, PUBLISH at QoS 1, PUBACK, and nothing
 * else. MQTT.js spends more CPU per message than aedes does (measured here: 100 MQTT.js clients in one
 * process saturate a core at about 30,000 publishes/s while the raw broker idles at 70%), so with
 * MQTT.js the baseline would measure the client, not the broker. This client encodes each PUBLISH
 * into one buffer and writes every packet due on a socket in one write, so one process can offer the
 * broker more than it can take. It speaks plain MQTT 3.1.1 over TCP: what it measures is what any
 * device would see.
 *
 * Packet layouts: MQTT 3.1.1 (OASIS, 2014) sections 2.2 (fixed header, remaining length), 3.1
 * (CONNECT), 3.2 (CONNACK), 3.3 (PUBLISH), 3.4 (PUBACK).
 */
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';

/** Remaining Length (section 2.2.3): 7 bits per byte, high bit = more. */
function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

function utf8Field(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

function connectPacket(clientId: string, username: string, password: string, keepaliveS: number): Buffer {
  // Protocol name "MQTT", level 4, flags: username, password, clean session (section 3.1.2).
  const header = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0xc2, keepaliveS >> 8, keepaliveS & 0xff]);
  const body = Buffer.concat([header, utf8Field(clientId), utf8Field(username), utf8Field(password)]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

export interface WireClientOptions {
  readonly port: number;
  readonly host?: string;
  readonly clientId: string;
  readonly password: string;
  /** @default 600 (no PINGREQ is ever needed during a run) */
  readonly keepaliveS?: number;
}

/** One MQTT connection that publishes at QoS 1. Call `flush()` after queuing publishes outside a PUBACK callback. */
export class WireClient {
  private readonly acks = new Map<number, (error?: Error) => void>();
  private nextId = 1;
  private queued: Buffer[] = [];
  private inbound: Buffer = Buffer.alloc(0);
  private closed = false;

  private constructor(private readonly socket: Socket) {}

  /** Connects and resolves after a CONNACK accepting the connection. */
  static connect(options: WireClientOptions): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ port: options.port, host: options.host ?? '127.0.0.1', noDelay: true });
      const client = new WireClient(socket);
      let connected = false;
      socket.once('connect', () => socket.write(connectPacket(options.clientId, options.clientId, options.password, options.keepaliveS ?? 600)));
      socket.on('error', (error) => {
        if (!connected) reject(error);
        client.failAll(error);
      });
      socket.on('close', () => {
        client.closed = true;
        if (!connected) reject(new Error(`${options.clientId}: connection closed before CONNACK`));
        client.failAll(new Error(`${options.clientId}: connection closed`));
      });
      socket.on('data', (chunk: Buffer) => {
        client.inbound = client.inbound.length === 0 ? chunk : Buffer.concat([client.inbound, chunk]);
        client.parse((returnCode) => {
          if (returnCode === 0) {
            connected = true;
            resolve(client);
          } else {
            reject(new Error(`${options.clientId}: CONNACK return code ${returnCode}`));
            socket.destroy();
          }
        });
        client.flush();
      });
    });
  }

  /** Publishes unacknowledged right now. */
  get outstanding(): number {
    return this.acks.size;
  }

  /** Queues a QoS 1 PUBLISH; `onAck` runs at its PUBACK (or with an error if the connection goes). */
  publish(topic: string, payload: Buffer, onAck: (error?: Error) => void): void {
    if (this.closed) {
      onAck(new Error('connection closed'));
      return;
    }
    let id = this.nextId;
    while (this.acks.has(id)) id = id === 0xffff ? 1 : id + 1;
    this.nextId = id === 0xffff ? 1 : id + 1;
    const topicLength = Buffer.byteLength(topic, 'utf8');
    const length = 2 + topicLength + 2 + payload.length;
    const rl = remainingLength(length);
    const packet = Buffer.allocUnsafe(1 + rl.length + length);
    let at = 0;
    packet[at++] = 0x32; // PUBLISH, QoS 1, no DUP, no RETAIN (section 3.3.1)
    at += rl.copy(packet, at);
    at = packet.writeUInt16BE(topicLength, at);
    at += packet.write(topic, at, 'utf8');
    at = packet.writeUInt16BE(id, at);
    payload.copy(packet, at);
    this.acks.set(id, onAck);
    this.queued.push(packet);
  }

  /** Writes every queued packet in one write. */
  flush(): void {
    if (this.queued.length === 0 || this.closed) return;
    const data = this.queued.length === 1 ? (this.queued[0] as Buffer) : Buffer.concat(this.queued);
    this.queued = [];
    this.socket.write(data);
  }

  /** Sends DISCONNECT and closes. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end(Buffer.from([0xe0, 0x00]));
    });
  }

  private parse(onConnack: (returnCode: number) => void): void {
    let at = 0;
    const buf = this.inbound;
    while (buf.length - at >= 2) {
      // Fixed header and remaining length.
      let length = 0;
      let multiplier = 1;
      let i = at + 1;
      let complete = false;
      while (i < buf.length && i < at + 5) {
        const byte = buf[i++] as number;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || buf.length < i + length) break;
      const type = (buf[at] as number) >> 4;
      if (type === 4) {
        const id = buf.readUInt16BE(i);
        const ack = this.acks.get(id);
        this.acks.delete(id);
        ack?.();
      } else if (type === 2) {
        onConnack(buf[i + 1] as number);
      }
      at = i + length;
    }
    this.inbound = at === buf.length ? Buffer.alloc(0) : buf.subarray(at);
  }

  private failAll(error: Error): void {
    const pending = [...this.acks.values()];
    this.acks.clear();
    for (const ack of pending) ack(error);
  }
}
