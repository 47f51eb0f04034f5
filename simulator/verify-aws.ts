/**
 * `--verify --target aws`: the stored readings of the deployed stack, read back through the readings
 * port (lambdas/ports/readings-reader.ts) on the table the stack names in its `ReadingsTableName`
 * output (found with CloudFormation DescribeStacks on `--stack` in `--region`). The reader's queries
 * are eventually consistent: a reading stored a moment ago may show on the next poll.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from '../lambdas/adapters/aws/client-config.js';
import { DynamoDbReadingsReader } from '../lambdas/adapters/aws/dynamodb-readings-reader.js';
import type { ReadingsReader } from '../lambdas/ports/readings-reader.js';
import { STACK_OUTPUT, resolveStackOutputs } from '../infra/aws/stack-outputs.js';
import type { StoredReadingsSource } from './verify.js';

/** A source over any readings reader: counts each seq of a device's readings since a time. */
export function readerSource(reader: ReadingsReader, close: () => void = () => undefined): StoredReadingsSource {
  return {
    seqCounts: async (deviceId, since) => {
      const counts = new Map<number, number>();
      for (const row of await reader.deviceReadings({ deviceId, since, order: 'asc' })) {
        if (row.seq !== null) counts.set(row.seq, (counts.get(row.seq) ?? 0) + 1);
      }
      return counts;
    },
    close,
  };
}

/** The deployed stack's readings table as a source (`--stack`, `--region`). */
export function awsReadingsSource(options: { readonly stackName?: string; readonly region?: string }): {
  open: () => Promise<StoredReadingsSource>;
  storeName: string;
} {
  return {
    storeName: `the readings table of stack ${options.stackName ?? 'FleetTelemetry'}`,
    open: async () => {
      const stack = await resolveStackOutputs({
        ...(options.stackName === undefined ? {} : { stackName: options.stackName }),
        ...(options.region === undefined ? {} : { region: options.region }),
      });
      const tableName = stack.require(
        STACK_OUTPUT.readingsTableName,
        'the stack stores readings elsewhere (Timestream, or none): --verify reads the DynamoDB readings table',
      );
      const client = new DynamoDBClient({ ...awsClientConfig(), region: stack.region });
      return readerSource(new DynamoDbReadingsReader({ client, tableName }), () => client.destroy());
    },
  };
}
