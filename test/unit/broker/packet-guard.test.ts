import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketSizeGuard, packetLimitsFor } from '../../../infra/local/broker/packet-guard.js';
import type { PacketLimits } from '../../../infra/local/broker/packet-guard.js';

const limits: PacketLimits = { maxConnectBytes: 100, maxPublishBytes: 1_000, maxOtherBytes: 50, maxBytesBeforeAuthentication: 1_000_000 };

/** A fixed header: type and flags, then the remaining length as MQTT's variable-length integer. */
function fixedHeader(type: number, remainingLength: number): Buffer {
  const header = [(type << 4) | (type === 3 ? 2 : 0)];
  let n = remainingLength;
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    header.push(digit);
  } while (n > 0);
  return Buffer.from(header);
}

function packet(type: number, bodyLength: number): Buffer {
  return Buffer.concat([fixedHeader(type, bodyLength), Buffer.alloc(bodyLength, 0xab)]);
}

/** Feeds `bytes` to a guard in chunks cut at `cuts`; the first refusal, if any. */
function feed(guard: PacketSizeGuard, bytes: Buffer, cuts: number[]): string | undefined {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, bytes.length]) {
    if (to <= from) continue;
    const refusal = guard.inspect(bytes.subarray(from, to));
    if (refusal !== undefined) return refusal;
    from = to;
  }
  return undefined;
}

describe('packet size guard', () => {
  it('lets any stream of packets within their limits through, however it is cut into chunks', () => {
    const withinLimits = fc.oneof(
      fc.nat({ max: 100 }).map((n) => packet(1, n)),
      fc.nat({ max: 1_000 }).map((n) => packet(3, n)),
      fc.constantFrom(4, 8, 10, 12, 14).chain((type) => fc.nat({ max: 50 }).map((n) => packet(type, n))),
    );
    fc.assert(
      fc.property(fc.array(withinLimits, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 40 }), (packets, cuts) => {
        expect(feed(new PacketSizeGuard(limits), Buffer.concat(packets), cuts)).toBeUndefined();
      }),
      { seed: 3, numRuns: 300 },
    );
  });

  it('refuses the first packet over its limit as soon as its remaining length is read, before its body', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 1_000 }).map((n) => packet(3, n)), { maxLength: 5 }),
        fc.constantFrom([1, 101], [3, 1_001], [8, 51], [3, 268_435_455]),
        fc.array(fc.nat(), { maxLength: 10 }),
        (before, [type, length], cuts) => {
          // Only the header of the oversized packet is sent: refusing needs nothing of its body.
          const refusal = feed(new PacketSizeGuard(limits), Buffer.concat([...before, fixedHeader(type as number, length as number)]), cuts);
          expect(refusal).toMatch(new RegExp(`announces ${length} bytes, more than the \\d+ allowed`));
        },
      ),
      { seed: 5, numRuns: 200 },
    );
  });

  it('refuses a remaining length longer than four bytes', () => {
    expect(new PacketSizeGuard(limits).inspect(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe('malformed remaining length (more than 4 bytes)');
  });

  it('limits what a connection sends before it is authenticated, and lifts that limit after', () => {
    const small: PacketLimits = { ...limits, maxBytesBeforeAuthentication: 150 };
    const pings = Buffer.concat(Array.from({ length: 100 }, () => packet(12, 0)));
    expect(new PacketSizeGuard(small).inspect(pings)).toBe('sent more than 150 bytes before its CONNECT was accepted');

    const guard = new PacketSizeGuard(small);
    expect(guard.inspect(packet(1, 60))).toBeUndefined();
    guard.markAuthenticated();
    expect(guard.inspect(pings)).toBeUndefined();
  });

  it('derives the limits from the payload limit: a PUBLISH of 128 KiB and its topic fits, a CONNECT is small', () => {
    const derived = packetLimitsFor(128 * 1024);
    expect(derived.maxPublishBytes).toBeGreaterThan(128 * 1024 + 2 + 256 + 2);
    expect(derived.maxConnectBytes).toBeLessThanOrEqual(16 * 1024);
    expect(derived.maxBytesBeforeAuthentication).toBe(32 * 1024);
    const guard = new PacketSizeGuard(derived);
    guard.markAuthenticated();
    expect(guard.inspect(packet(3, 128 * 1024 + 300))).toBeUndefined();
  });
});
