/**
 * Refuses an MQTT packet by its announced size, as soon as its fixed header has arrived.
 *
 * aedes' parser (mqtt-packet) buffers a whole packet before anything looks at it, up to MQTT's
 * 256 MiB remaining length (MQTT 3.1.1 section 2.2.3), and before authentication: one connection
 * announcing a huge CONNECT or PUBLISH and streaming it made the broker hold hundreds of MiB. This
 * guard reads only the fixed headers of the byte stream on its way to the parser (type in the first
 * byte, then the 1 to 4 byte remaining length) and skips the bodies, so it costs a few operations
 * per packet and copies nothing. A connection that is refused is closed before its body is read.
 */

/** MQTT 3.1.1 control packet types (section 2.2.1). */
const CONNECT = 1;
const PUBLISH = 3;

export interface PacketLimits {
  /** Largest CONNECT (remaining length): client id, username, password and a Will. */
  readonly maxConnectBytes: number;
  /** Largest PUBLISH (remaining length): the payload limit plus topic, packet id and their lengths. */
  readonly maxPublishBytes: number;
  /** Largest other packet (SUBSCRIBE, UNSUBSCRIBE; the rest are 0 to 2 bytes). */
  readonly maxOtherBytes: number;
  /**
   * Bytes a connection may send before it is authenticated, whatever their packets: its CONNECT and
   * what it sends before its CONNACK. MQTT 3.1.1 section 3.1.4 lets a client send on at once; MQTT.js
   * and mosquitto_pub wait for the CONNACK, so a small allowance costs no real client anything and
   * bounds what the unauthenticated connections can make the broker hold.
   */
  readonly maxBytesBeforeAuthentication: number;
}

/** Topic (IoT Core allows 256 bytes of UTF-8; we allow far more), its length prefix and the packet id. */
const PUBLISH_HEADROOM_BYTES = 4 * 1024;

/**
 * The limits that follow from the payload limit (128 KiB, as IoT Core): a PUBLISH carries at most
 * that plus 4 KiB of topic and ids; a CONNECT or SUBSCRIBE is small (16 KiB: a 128-character client id
 * and username, a password, a short Will; IoT Core takes at most 8 filters per SUBSCRIBE). Before its
 * CONNECT is accepted a connection may send 32 KiB: its CONNECT and a small packet or two.
 */
export function packetLimitsFor(maxPayloadBytes: number): PacketLimits {
  const maxConnectBytes = 16 * 1024;
  return {
    maxConnectBytes,
    maxPublishBytes: maxPayloadBytes + PUBLISH_HEADROOM_BYTES,
    maxOtherBytes: 16 * 1024,
    maxBytesBeforeAuthentication: 2 * maxConnectBytes,
  };
}

const PACKET_NAMES = ['reserved', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'reserved'];

/**
 * Follows one connection's inbound byte stream packet by packet. `inspect` each chunk in order; it
 * returns why the connection must be closed, or undefined.
 */
export class PacketSizeGuard {
  /** Body bytes of the current packet still to skip. */
  private skip = 0;
  /** 0: at a packet boundary; 1: type byte read; 2 to 5: that many remaining-length bytes read, plus one. */
  private headerBytes = 0;
  private type = 0;
  private length = 0;
  private multiplier = 1;
  private receivedBeforeAuthentication = 0;
  private authenticated = false;

  constructor(private readonly limits: PacketLimits) {}

  /** The connection's CONNECT was accepted: the byte budget before authentication no longer applies. */
  markAuthenticated(): void {
    this.authenticated = true;
  }

  inspect(chunk: Uint8Array): string | undefined {
    const n = chunk.length;
    if (!this.authenticated) {
      this.receivedBeforeAuthentication += n;
      if (this.receivedBeforeAuthentication > this.limits.maxBytesBeforeAuthentication) {
        return `sent more than ${this.limits.maxBytesBeforeAuthentication} bytes before its CONNECT was accepted`;
      }
    }
    // Locals in the loop, fields written back once: this runs for every byte chunk a connection sends.
    let i = 0;
    let skip = this.skip;
    let headerBytes = this.headerBytes;
    let type = this.type;
    let length = this.length;
    let multiplier = this.multiplier;
    let refusal: string | undefined;
    while (i < n) {
      if (skip > 0) {
        const step = skip < n - i ? skip : n - i;
        skip -= step;
        i += step;
        continue;
      }
      const byte = chunk[i++] as number;
      if (headerBytes === 0) {
        type = byte >> 4;
        length = 0;
        multiplier = 1;
        headerBytes = 1;
        continue;
      }
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      headerBytes += 1;
      if ((byte & 0x80) !== 0) {
        // MQTT 3.1.1 section 2.2.3: at most four bytes of remaining length.
        if (headerBytes > 4) {
          refusal = 'malformed remaining length (more than 4 bytes)';
          break;
        }
        continue;
      }
      const limit = this.limitFor(type);
      if (length > limit) {
        refusal = `${PACKET_NAMES[type] ?? 'packet'} announces ${length} bytes, more than the ${limit} allowed`;
        break;
      }
      skip = length;
      headerBytes = 0;
    }
    this.skip = skip;
    this.headerBytes = headerBytes;
    this.type = type;
    this.length = length;
    this.multiplier = multiplier;
    return refusal;
  }

  private limitFor(type: number): number {
    if (type === PUBLISH) return this.limits.maxPublishBytes;
    if (type === CONNECT) return this.limits.maxConnectBytes;
    return this.limits.maxOtherBytes;
  }
}
