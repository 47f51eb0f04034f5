import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { ALARM_STATE_WAKE_INDEX } from '../../../lambdas/adapters/aws/dynamodb-readings-schema.js';
import { ALARM_STATE_MIN_CAPACITY, ALARM_STATE_TARGET_UTILIZATION_PERCENT } from '../deployment-settings.js';
import type { DeploymentSettings } from '../deployment-settings.js';

export interface AlarmStateTableProps {
  readonly settings: Pick<DeploymentSettings, 'alarmStateCapacity' | 'alarmStateMaxCapacity'>;
}

/**
 * One item per device: its alarm state, version and lastSeen (lambdas/adapters/aws/dynamodb-alarm-state.ts),
 * plus the sparse wake index the offline check queries for ended snoozes and due reminders.
 *
 * Capacity: `provisioned` (the default) with target-tracking auto scaling, or `on-demand`. A fleet
 * reports at a steady rate, which is what provisioned capacity is for: at 70% utilization a write
 * costs about 0.26 USD per million against 0.625 on demand (docs/capacity.md has the arithmetic).
 * What it gives up: a burst above the scaled capacity and DynamoDB's burst allowance is throttled
 * (the SDK retries, then the alarms consumer reports the device's records as failed and the
 * mapping retries them: alarms are late, never lost) until auto scaling catches up, in minutes.
 * The operational alarm `alarm-state-throttled` tells the operators when that happens.
 */
export class AlarmStateTable extends Construct {
  public readonly table: Table;

  /**
   * @param scope the stack: the table is created there under `tableId`, so that its logical id stays
   *   the one earlier versions deployed and an update keeps the table instead of replacing it.
   */
  constructor(scope: Construct, id: string, tableId: string, props: AlarmStateTableProps) {
    super(scope, id);
    const provisioned = props.settings.alarmStateCapacity === 'provisioned';
    this.table = new Table(scope, tableId, {
      partitionKey: { name: 'deviceId', type: AttributeType.STRING },
      ...(provisioned
        ? { billingMode: BillingMode.PROVISIONED, readCapacity: ALARM_STATE_MIN_CAPACITY, writeCapacity: ALARM_STATE_MIN_CAPACITY }
        : { billingMode: BillingMode.PAY_PER_REQUEST }),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Kept when the stack is deleted: it holds every device's alarm state and last-seen time.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: ALARM_STATE_WAKE_INDEX.name,
      partitionKey: { name: ALARM_STATE_WAKE_INDEX.partitionKey.name, type: AttributeType.STRING },
      sortKey: { name: ALARM_STATE_WAKE_INDEX.sortKey.name, type: AttributeType.NUMBER },
      ...(provisioned ? { readCapacity: ALARM_STATE_MIN_CAPACITY, writeCapacity: ALARM_STATE_MIN_CAPACITY } : {}),
    });

    if (provisioned) {
      const range = { minCapacity: ALARM_STATE_MIN_CAPACITY, maxCapacity: props.settings.alarmStateMaxCapacity };
      const target = { targetUtilizationPercent: ALARM_STATE_TARGET_UTILIZATION_PERCENT };
      this.table.autoScaleReadCapacity(range).scaleOnUtilization(target);
      this.table.autoScaleWriteCapacity(range).scaleOnUtilization(target);
      // The index holds only devices with a snooze or reminder pending: little traffic, same rules.
      this.table.autoScaleGlobalSecondaryIndexReadCapacity(ALARM_STATE_WAKE_INDEX.name, range).scaleOnUtilization(target);
      this.table.autoScaleGlobalSecondaryIndexWriteCapacity(ALARM_STATE_WAKE_INDEX.name, range).scaleOnUtilization(target);
    }
  }
}
