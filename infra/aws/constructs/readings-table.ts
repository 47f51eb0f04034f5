import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  READINGS_TABLE_KEYS,
  READINGS_TTL_ATTRIBUTE,
  type KeyAttribute,
} from '../../../lambdas/adapters/aws/dynamodb-readings-schema.js';

/**
 * The time series on DynamoDB, for every AWS account: one item per reading, keyed as
 * READINGS_TABLE_KEYS says (the adapter and the tests' dynalite tables read the same constant).
 * On-demand (pay per request: nothing to size, nothing billed while the fleet is quiet), TTL on
 * READINGS_TTL_ATTRIBUTE (deletes are free), point-in-time recovery, retained when the stack is
 * deleted. No physical name: the stack outputs it as ReadingsTableName, so a destroyed and redeployed
 * stack never collides with the retained table.
 */
export class ReadingsTable extends Construct {
  public readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: attribute(READINGS_TABLE_KEYS.partitionKey),
      sortKey: attribute(READINGS_TABLE_KEYS.sortKey),
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: READINGS_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

function attribute(key: KeyAttribute): { name: string; type: AttributeType } {
  const type = { S: AttributeType.STRING, N: AttributeType.NUMBER, B: AttributeType.BINARY }[key.type];
  return { name: key.name, type };
}
