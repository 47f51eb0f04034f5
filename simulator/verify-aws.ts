/**
 * `--verify --target aws`: the stored readings of the deployed stack, read back through the readings
 * port (lambdas/ports/readings-reader.ts) on the store the stack's outputs name (infra/aws/
 * deployed-readings.ts: DescribeStacks on `--stack` in `--region`). The DynamoDB reader's queries are
 * eventually consistent: a reading stored a moment ago may show on the next poll. Timestream gives
 * back no seq (it keeps it only as the record's version), so the check needs the DynamoDB store.
 */
import { openDeployedReadings } from '../infra/aws/deployed-readings.js';
import type { ReadingsReader } from '../lambdas/ports/readings-reader.js';
import { VerifyError } from './errors.js';
import type { StoredReadingsSource } from './verify.js';

/** A source over any readings reader: counts each seq of a device's readings since a time. */
export function readerSource(reader: ReadingsReader, close: () => void = () => undefined): StoredReadingsSource {
  return {
    seqCounts: async (deviceId, since) => {
      const counts = new Map<number, number>();
      const rows = await reader.deviceReadings({ deviceId, since, order: 'asc' });
      for (const row of rows) {
        if (row.seq !== null) counts.set(row.seq, (counts.get(row.seq) ?? 0) + 1);
      }
      if (rows.length > 0 && counts.size === 0) {
        throw new VerifyError(`the stack's store gives back no seq for ${deviceId}'s readings (Timestream keeps it only as the record version): --verify needs the DynamoDB readings store`);
      }
      return counts;
    },
    close,
  };
}

/** The deployed stack's store as a source (`--stack`, `--region`), whichever store it was deployed with. */
export function awsReadingsSource(options: { readonly stackName?: string; readonly region?: string }): {
  open: () => Promise<StoredReadingsSource>;
  storeName: string;
} {
  return {
    storeName: `the readings of stack ${options.stackName ?? 'FleetTelemetry'}`,
    open: async () => {
      const deployed = await openDeployedReadings({
        ...(options.stackName === undefined ? {} : { stackName: options.stackName }),
        ...(options.region === undefined ? {} : { region: options.region }),
      });
      return readerSource(deployed.reader, () => deployed.close());
    },
  };
}
