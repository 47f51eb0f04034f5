/**
 * The deployed stack's alarms for the command lines (`npm run alarms -- list --target aws`,
 * `npm run query -- alarms --target aws`): its alarm-state and alarm-history tables, named by the
 * stack's outputs unless given, read through the same read port as the local store
 * (DynamoDbAlarmReader), with the rules in force (the stored state is read with them).
 */
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbAlarmReader } from '../../lambdas/adapters/aws/dynamodb-alarm-history.js';
import { loadThresholdsFile } from '../../lambdas/config/load-thresholds.js';
import type { AlarmReader } from '../../lambdas/ports/alarm-reader.js';
import { resolveStackOutputs, STACK_OUTPUT } from './stack-outputs.js';

export interface AwsAlarmSource {
  /** The threshold rules deployed. */
  readonly thresholds: string;
  readonly stack?: string;
  readonly region?: string;
  /** The alarm-state table, instead of the stack's output. */
  readonly stateTable?: string;
  /** The alarm-history table, instead of the stack's output. */
  readonly historyTable?: string;
}

/** Runs `use` with a reader of the deployed alarms, and closes its client. */
export async function withAwsAlarmReader<T>(source: AwsAlarmSource, use: (reader: AlarmReader) => Promise<T>): Promise<T> {
  const rules = loadThresholdsFile(resolve(source.thresholds));
  let stateTableName = source.stateTable;
  let historyTableName = source.historyTable;
  if (stateTableName === undefined || historyTableName === undefined) {
    const stack = await resolveStackOutputs({ ...(source.stack === undefined ? {} : { stackName: source.stack }), ...(source.region === undefined ? {} : { region: source.region }) });
    stateTableName ??= stack.require(STACK_OUTPUT.alarmStateTableName);
    historyTableName ??= stack.require(STACK_OUTPUT.alarmHistoryTableName);
  }
  const dynamo = new DynamoDBClient(source.region === undefined ? {} : { region: source.region });
  try {
    return await use(new DynamoDbAlarmReader({ client: DynamoDBDocumentClient.from(dynamo), stateTableName, historyTableName, rules }));
  } finally {
    dynamo.destroy();
  }
}
