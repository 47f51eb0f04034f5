/**
 * A real DynamoDB implementation for tests: dynalite (npm), started in this process on 127.0.0.1
 * on a free port, in memory. It enforces key schemas, expression syntax, reserved words, item size
 * and conditional writes, so an adapter test over it shows what DynamoDB would accept and do, not
 * only what we meant to send.
 *
 * Tables are created from the same key schemas the CDK stack deploys (lambdas/adapters/aws/
 * dynamodb-readings-schema.ts), so a passing test also proves the template's keys work.
 *
 * @example
 * const db = await startDynalite();
 * const table = await db.createTable(READINGS_TABLE_KEYS);
 * const store = new DynamoDbTimeSeriesStore({ client: db.client, tableName: table });
 * ...
 * await db.stop();
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, type AttributeDefinition, type KeySchemaElement } from '@aws-sdk/client-dynamodb';
import type { TableKeySchema } from '../../lambdas/adapters/aws/dynamodb-readings-schema.js';

const require = createRequire(import.meta.url);
// dynalite ships CommonJS without types: a factory returning a node:http server.
const dynalite = require('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export interface Dynalite {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** A client for the endpoint (fake credentials, region us-east-1, no SDK retries: tests see every error). */
  readonly client: DynamoDBClient;
  /** Creates an on-demand table with `keys` under a fresh name (or `name`) and waits until ACTIVE; returns the name. */
  createTable(keys: TableKeySchema, name?: string): Promise<string>;
  /** A new client for the endpoint, e.g. with other SDK options. */
  newClient(options?: ConstructorParameters<typeof DynamoDBClient>[0]): DynamoDBClient;
  stop(): Promise<void>;
}

let tableCounter = 0;

/** Starts dynalite on 127.0.0.1 (a free port). Call stop() in afterAll/afterEach. */
export async function startDynalite(): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const newClient = (options: ConstructorParameters<typeof DynamoDBClient>[0] = {}): DynamoDBClient =>
    new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
      ...options,
    });
  const client = newClient();

  return {
    endpoint,
    client,
    newClient,
    async createTable(keys, name) {
      tableCounter += 1;
      const tableName = name ?? `test-table-${process.pid}-${tableCounter}`;
      const attributes: AttributeDefinition[] = [{ AttributeName: keys.partitionKey.name, AttributeType: keys.partitionKey.type }];
      const schema: KeySchemaElement[] = [{ AttributeName: keys.partitionKey.name, KeyType: 'HASH' }];
      if (keys.sortKey !== undefined) {
        attributes.push({ AttributeName: keys.sortKey.name, AttributeType: keys.sortKey.type });
        schema.push({ AttributeName: keys.sortKey.name, KeyType: 'RANGE' });
      }
      const indexes = (keys.globalIndexes ?? []).map((index) => {
        for (const key of [index.partitionKey, index.sortKey]) {
          if (key !== undefined && !attributes.some((a) => a.AttributeName === key.name)) {
            attributes.push({ AttributeName: key.name, AttributeType: key.type });
          }
        }
        const indexSchema: KeySchemaElement[] = [{ AttributeName: index.partitionKey.name, KeyType: 'HASH' }];
        if (index.sortKey !== undefined) indexSchema.push({ AttributeName: index.sortKey.name, KeyType: 'RANGE' });
        return { IndexName: index.name, KeySchema: indexSchema, Projection: { ProjectionType: 'ALL' as const } };
      });
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          AttributeDefinitions: attributes,
          KeySchema: schema,
          BillingMode: 'PAY_PER_REQUEST',
          ...(indexes.length === 0 ? {} : { GlobalSecondaryIndexes: indexes }),
        }),
      );
      await waitUntilActive(client, tableName);
      return tableName;
    },
    async stop() {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`dynalite table ${tableName} not ACTIVE within 5 s (status ${Table?.TableStatus})`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
