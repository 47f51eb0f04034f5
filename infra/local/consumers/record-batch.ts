/**
 * A commit's records, packed to cross from the stack's thread to the consumers' worker without a
 * copy per record: the data of every record in one transferred buffer, the numbers in typed arrays.
 * (Structured-cloning each record's Buffer would copy its whole pooled 8 KiB slab.)
 */
import type { CommittedRecord, ShardRecord } from '../stream/index.js';
import { formatSequenceNumber, shardIdOf } from '../stream/index.js';

export interface PackedRecords {
  readonly shardIndexes: Uint16Array;
  readonly seqs: Float64Array;
  readonly arrivals: Float64Array;
  /** End offset of each record's data in `data`. */
  readonly ends: Uint32Array;
  readonly data: Uint8Array;
  readonly partitionKeys: readonly string[];
  /** Sparse: only records that had one. */
  readonly explicitHashKeys: Readonly<Record<number, string>>;
}

export function packRecords(records: readonly CommittedRecord[]): { packed: PackedRecords; transfer: ArrayBuffer[] } {
  const n = records.length;
  const shardIndexes = new Uint16Array(n);
  const seqs = new Float64Array(n);
  const arrivals = new Float64Array(n);
  const ends = new Uint32Array(n);
  const partitionKeys: string[] = new Array<string>(n);
  const explicitHashKeys: Record<number, string> = {};
  let total = 0;
  for (let i = 0; i < n; i++) total += records[i]!.data.byteLength;
  const data = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    shardIndexes[i] = r.shardIndex;
    seqs[i] = r.seq;
    arrivals[i] = r.arrivalMs;
    data.set(r.data, at);
    at += r.data.byteLength;
    ends[i] = at;
    partitionKeys[i] = r.partitionKey;
    if (r.explicitHashKey !== null) explicitHashKeys[i] = r.explicitHashKey;
  }
  return {
    packed: { shardIndexes, seqs, arrivals, ends, data, partitionKeys, explicitHashKeys },
    transfer: [shardIndexes.buffer, seqs.buffer, arrivals.buffer, ends.buffer, data.buffer] as ArrayBuffer[],
  };
}

/** The records, as `LocalStream.read` returns them; each record's data is a view into the one buffer. */
export function unpackRecords(packed: PackedRecords): ShardRecord[] {
  const out: ShardRecord[] = new Array<ShardRecord>(packed.seqs.length);
  const data = Buffer.from(packed.data.buffer, packed.data.byteOffset, packed.data.byteLength);
  let start = 0;
  for (let i = 0; i < packed.seqs.length; i++) {
    const end = packed.ends[i]!;
    const explicitHashKey = packed.explicitHashKeys[i];
    out[i] = {
      shardId: shardIdOf(packed.shardIndexes[i]!),
      sequenceNumber: formatSequenceNumber(packed.seqs[i]!),
      partitionKey: packed.partitionKeys[i]!,
      ...(explicitHashKey === undefined ? {} : { explicitHashKey }),
      data: data.subarray(start, end),
      approximateArrivalTimestamp: packed.arrivals[i]!,
    };
    start = end;
  }
  return out;
}
