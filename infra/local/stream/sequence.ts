/**
 * Sequence numbers: integers in SQLite, fixed-width decimal strings at the edge.
 *
 * Kinesis documents its sequence numbers only as decimal strings that increase per shard ("Records …
 * received through a GetRecords call are strictly ordered by sequence number"); the format is not
 * documented (its examples have 56 digits). Ours are 20 digits, zero-padded, so that they compare
 * correctly both as numbers and as strings, and hold any 64-bit counter.
 */
import { StreamRecordInvalidError } from './errors.js';

const SEQUENCE_NUMBER_DIGITS = 20;

/** The string form of a stored sequence number. */
export function formatSequenceNumber(value: number): string {
  return String(value).padStart(SEQUENCE_NUMBER_DIGITS, '0');
}

/** Parses a sequence number given by a caller (any width of decimal digits); `where` names the argument. */
export function parseSequenceNumber(text: string, where: string): number {
  if (!/^\d{1,20}$/.test(text)) {
    throw new StreamRecordInvalidError(`${where}: not a sequence number: ${JSON.stringify(text)}`);
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new StreamRecordInvalidError(`${where}: sequence number out of range: ${text}`);
  }
  return value;
}
