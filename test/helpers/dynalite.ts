/**
 * dynalite (a DynamoDB implementation on LevelDB, in memory here) started in-process on a loopback
 * port, for tests that must show DynamoDB accepts our requests and does what we meant: expressions,
 * reserved words, conditional writes, Scan segments. Each call gets its own server and data.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import type { AttributeDefinition, KeySchemaElement } from '@aws-sdk/client-dynamodb';

type DynaliteFactory = (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

export interface RunningDynalite {
  readonly endpoint: string;
  /** A client for it (fixed test credentials, us-east-1, no retries so that a refusal shows at once). */
  readonly client: DynamoDBClient;
  createTable(name: string, key: { readonly partitionKey: string; readonly sortKey?: string }): Promise<void>;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<RunningDynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return {
    endpoint,
    client,
    async createTable(name, key) {
      const keySchema: KeySchemaElement[] = [{ AttributeName: key.partitionKey, KeyType: 'HASH' }];
      const attributes: AttributeDefinition[] = [{ AttributeName: key.partitionKey, AttributeType: 'S' }];
      if (key.sortKey !== undefined) {
        keySchema.push({ AttributeName: key.sortKey, KeyType: 'RANGE' });
        attributes.push({ AttributeName: key.sortKey, AttributeType: 'S' });
      }
      await client.send(
        new CreateTableCommand({ TableName: name, KeySchema: keySchema, AttributeDefinitions: attributes, BillingMode: 'PAY_PER_REQUEST' }),
      );
      await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 1 }, { TableName: name });
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
