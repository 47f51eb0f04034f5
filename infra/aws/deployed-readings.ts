/**
 * The readings of a deployed stack, through the same read port the local store has: the stack's
 * outputs say which store it was deployed with (ReadingsTableName: DynamoDB; TimestreamDatabaseName
 * and TimestreamTableName: Timestream) and name its tables. Credentials come from the SDK's default
 * chain; the region from `--region` or the chain.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { DynamoDbReadingsReader, alarmStateDeviceIds } from '../../lambdas/adapters/aws/dynamodb-readings-reader.js';
import { TimestreamReadingsReader } from '../../lambdas/adapters/aws/timestream-readings-reader.js';
import type { ReadingsReader } from '../../lambdas/ports/readings-reader.js';
import { STACK_OUTPUT, StackOutputsError, resolveStackOutputs } from './stack-outputs.js';

export interface DeployedReadingsOptions {
  /** @default DEFAULT_STACK_NAME */
  readonly stackName?: string;
  /** @default the SDK's chain */
  readonly region?: string;
  /** Clients to use instead of new ones (tests: a mocked CloudFormation, a DynamoDB client on dynalite). */
  readonly clients?: {
    readonly cloudFormation?: CloudFormationClient;
    readonly dynamodb?: DynamoDBClient;
    readonly timestream?: TimestreamQueryClient;
  };
}

export interface DeployedReadings {
  readonly reader: ReadingsReader;
  /** What is being read, for a line on stderr: `DynamoDB table X (stack S, eu-west-1)`. */
  readonly source: string;
  /** Whether the reader can list the fleet's newest readings without a device. */
  readonly readsAcrossDevices: boolean;
  /** Releases the clients this built (not the ones passed in). */
  close(): void;
}

/** Resolves the stack's outputs and opens the reader of the store it was deployed with. */
export async function openDeployedReadings(options: DeployedReadingsOptions = {}): Promise<DeployedReadings> {
  const stack = await resolveStackOutputs({
    ...(options.stackName === undefined ? {} : { stackName: options.stackName }),
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.clients?.cloudFormation === undefined ? {} : { client: options.clients.cloudFormation }),
  });
  const where = `stack ${stack.stackName}, ${stack.region}`;
  const readingsTable = stack.get(STACK_OUTPUT.readingsTableName);
  if (readingsTable !== undefined) {
    const client = options.clients?.dynamodb ?? new DynamoDBClient({ region: stack.region });
    const alarmTable = stack.get(STACK_OUTPUT.alarmStateTableName);
    return {
      reader: new DynamoDbReadingsReader({
        client,
        tableName: readingsTable,
        ...(alarmTable === undefined ? {} : { devices: alarmStateDeviceIds(client, alarmTable) }),
      }),
      source: `DynamoDB table ${readingsTable} (${where})`,
      readsAcrossDevices: alarmTable !== undefined,
      close: () => {
        if (options.clients?.dynamodb === undefined) client.destroy();
      },
    };
  }
  const database = stack.get(STACK_OUTPUT.timestreamDatabaseName);
  const table = stack.get(STACK_OUTPUT.timestreamTableName);
  if (database !== undefined && table !== undefined) {
    const client = options.clients?.timestream ?? new TimestreamQueryClient({ region: stack.region });
    return {
      reader: new TimestreamReadingsReader({ client, databaseName: database, tableName: table }),
      source: `Timestream table ${database}.${table} (${where})`,
      readsAcrossDevices: true,
      close: () => {
        if (options.clients?.timestream === undefined) client.destroy();
      },
    };
  }
  throw new StackOutputsError(
    `stack ${stack.stackName} in ${stack.region} has no time-series store: no ${STACK_OUTPUT.readingsTableName} or ${STACK_OUTPUT.timestreamTableName} output (deployed with -c timeSeriesStore=none?)`,
  );
}
