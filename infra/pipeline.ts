/**
 * The pipeline, once, as plain data. Both runtimes read this file: the CDK stack (infra/aws) and the
 * local runtime (infra/local). No CDK or Node imports here, so it cannot drift into one runtime.
 */

/** Settings of one Lambda event source mapping, named as in AWS::Lambda::EventSourceMapping (camelCase). */
export interface EventSourceMappingSettings {
  /** Records per invocation. AWS default 100, max 10,000 (also capped at 6 MB of payload). */
  readonly batchSize: number;
  /** Seconds to gather records before invoking (0 to 300). */
  readonly maximumBatchingWindowInSeconds: number;
  /** Concurrent batches per shard (1 to 10); order is kept per partition key. */
  readonly parallelizationFactor: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** Split a failing batch in two and retry the halves (splitting does not count as a retry). */
  readonly bisectBatchOnFunctionError: boolean;
  /** Retries of a failing batch before it goes to the on-failure destination (-1 = until the record expires). */
  readonly maximumRetryAttempts: number;
  /** Records older than this are discarded to the on-failure destination (-1 or 60 to 604,800 seconds). */
  readonly maximumRecordAgeInSeconds: number;
  readonly functionResponseTypes: readonly 'ReportBatchItemFailures'[];
}

export const pipeline = {
  /** Prefix for every named resource. */
  name: 'fleet-telemetry',

  topics: {
    /** Device to cloud. `{deviceId}` is the MQTT client id and the IoT thing name. */
    telemetry: 'dt/fleet/{deviceId}/telemetry',
    telemetryFilter: 'dt/fleet/+/telemetry',
    /** Cloud to subscribers: one alarm event per transition. */
    alarms: 'alarms/fleet/{deviceId}',
    alarmsFilter: 'alarms/fleet/+',
  },

  /**
   * The IoT rule. It wraps every message in an envelope instead of `SELECT *`, so that a payload that
   * is not JSON still reaches the consumers, which reject it with a reason and keep the original bytes
   * (IoT SQL cannot `SELECT *` from a non-JSON payload; `encode(*, 'base64')` works on anything).
   */
  rule: {
    name: 'fleet_telemetry_to_stream',
    sqlVersion: '2016-03-23',
    sql: "SELECT encode(*, 'base64') AS payload, topic() AS topic, clientid() AS clientId, timestamp() AS receivedAt FROM 'dt/fleet/+/telemetry'",
    /** Kinesis action partition key: the deviceId, so one device's readings stay in order on one shard. */
    partitionKey: '${topic(3)}',
  },

  stream: {
    name: 'fleet-telemetry',
    /** Provisioned shards (1 MB/s or 1,000 records/s of writes each). */
    shardCount: 2,
    retentionHours: 24,
  },

  consumers: {
    /** Writes the time series. Bigger batches: Timestream bills per 1 KB written and takes 100 records per call. */
    ingest: {
      batchSize: 500,
      maximumBatchingWindowInSeconds: 1,
      /**
       * Two lanes per shard: a full batch of 500 takes about 470 ms on the DynamoDB store, so one lane
       * would be 94% busy at a shard's 1,000 records/s and could never catch up after a brownout;
       * two keep it under half (docs/capacity.md).
       */
      parallelizationFactor: 2,
      startingPosition: 'TRIM_HORIZON',
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 10,
      maximumRecordAgeInSeconds: 86_400,
      functionResponseTypes: ['ReportBatchItemFailures'],
    },
    /** Raises alarms. No batching window: an alarm should not wait for a batch to fill. */
    alarms: {
      batchSize: 100,
      maximumBatchingWindowInSeconds: 0,
      /**
       * Seven lanes per shard: a batch of 100 devices takes about 530 ms (one state read per device,
       * overlapped), so a lane carries about 190 records/s; seven keep a shard at its 1,000 records/s
       * write limit under 80% busy (docs/capacity.md). One lane fell behind above about 23,000
       * devices at one reading a minute.
       */
      parallelizationFactor: 7,
      startingPosition: 'TRIM_HORIZON',
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 10,
      maximumRecordAgeInSeconds: 3_600,
      functionResponseTypes: ['ReportBatchItemFailures'],
    },
  } satisfies Record<string, EventSourceMappingSettings>,

  tables: {
    timestreamDatabase: 'fleet_telemetry',
    timestreamTable: 'readings',
    /** Timestream measure name of the multi-measure record holding one reading's metrics. */
    timestreamMeasureName: 'reading',
    alarmState: 'fleet-telemetry-alarm-state',
  },

  offlineCheck: {
    /** How often the silent-device check runs. */
    everyMinutes: 1,
  },
} as const;

export type Pipeline = typeof pipeline;
export type ConsumerName = keyof Pipeline['consumers'];

/** The telemetry topic of one device. */
export function telemetryTopic(deviceId: string): string {
  return pipeline.topics.telemetry.replace('{deviceId}', deviceId);
}

/** The alarm topic of one device. */
export function alarmTopic(deviceId: string): string {
  return pipeline.topics.alarms.replace('{deviceId}', deviceId);
}
