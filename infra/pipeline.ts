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

/**
 * The topics, each written once here. `{deviceId}` is one topic level: the MQTT client id and the IoT
 * thing name. Each filter is its topic with that level a `+`, and the rules' SQL and partition key are
 * built from them, so a topic renamed here is renamed everywhere, the domain's topic parsing included.
 */
const DEVICE_ID = '{deviceId}';
/** Device to cloud. */
const TELEMETRY_TOPIC = 'dt/fleet/{deviceId}/telemetry';
const ALARMS_TOPIC = 'alarms/fleet/{deviceId}';
const COMMANDS_TOPIC = 'cmd/fleet/alarms/{deviceId}';

/** The topic filter matching `topic` for every device. */
function filterOf(topic: string): string {
  return topic.replace(DEVICE_ID, '+');
}

/** The 1-based level of `{deviceId}` in `topic`, as the IoT SQL function `topic(n)` counts it. */
function deviceIdLevelOf(topic: string): number {
  return topic.split('/').indexOf(DEVICE_ID) + 1;
}

const TELEMETRY_FILTER = filterOf(TELEMETRY_TOPIC);
const COMMANDS_FILTER = filterOf(COMMANDS_TOPIC);
/** The IoT rule that routes telemetry into the stream. */
const RULE_NAME = 'fleet_telemetry_to_stream';
/**
 * AWS IoT Basic Ingest: a message published on `$aws/rules/<rule name>/<topic>` goes to that rule
 * alone, without the message broker (no messaging charge, no subscriber receives it), and the rule
 * sees `<topic>`, without the prefix (docs/architecture.md, "Basic Ingest").
 */
const BASIC_INGEST_RULES_PREFIX = '$aws/rules/';
const BASIC_INGEST_PREFIX = `${BASIC_INGEST_RULES_PREFIX}${RULE_NAME}/`;

export const pipeline = {
  /** Prefix for every named resource. */
  name: 'fleet-telemetry',

  topics: {
    /** Device to cloud. `{deviceId}` is the MQTT client id and the IoT thing name. */
    telemetry: TELEMETRY_TOPIC,
    telemetryFilter: TELEMETRY_FILTER,
    /** The same, through Basic Ingest: straight to the rule, which sees `telemetry`. */
    basicIngestTelemetry: `${BASIC_INGEST_PREFIX}${TELEMETRY_TOPIC}`,
    /** Cloud to subscribers: one alarm event per transition. */
    alarms: ALARMS_TOPIC,
    alarmsFilter: filterOf(ALARMS_TOPIC),
    /** Operator to cloud: one alarm command (acknowledge, snooze, ...) about one device's alarms. */
    commands: COMMANDS_TOPIC,
    commandsFilter: COMMANDS_FILTER,
    /** Cloud to operator: each command's outcome (AWS IoT's device-shadow convention). Two levels below the filter: no loop. */
    commandAccepted: `${COMMANDS_TOPIC}/accepted`,
    commandRejected: `${COMMANDS_TOPIC}/rejected`,
  },

  /**
   * The IoT rule. It wraps every message in an envelope instead of `SELECT *`, so that a payload that
   * is not JSON still reaches the consumers, which reject it with a reason and keep the original bytes
   * (IoT SQL cannot `SELECT *` from a non-JSON payload; `encode(*, 'base64')` works on anything).
   */
  rule: {
    name: RULE_NAME,
    sqlVersion: '2016-03-23',
    sql: `SELECT encode(*, 'base64') AS payload, topic() AS topic, clientid() AS clientId, timestamp() AS receivedAt FROM '${TELEMETRY_FILTER}'`,
    /** Kinesis action partition key: the deviceId, so one device's readings stay in order on one shard. */
    partitionKey: `\${topic(${deviceIdLevelOf(TELEMETRY_TOPIC)})}`,
  },

  /**
   * The alarm command rule: the same envelope idea as the telemetry rule, so a command that is not
   * JSON still reaches the alarm-commands handler and is answered on `rejected` with a reason. Its
   * action invokes that handler (a Lambda action on AWS, in-process locally) with this object.
   */
  commandRule: {
    name: 'fleet_alarm_commands',
    sqlVersion: '2016-03-23',
    sql: `SELECT encode(*, 'base64') AS payload, topic(${deviceIdLevelOf(COMMANDS_TOPIC)}) AS deviceId, clientid() AS clientId, timestamp() AS receivedAt FROM '${COMMANDS_FILTER}'`,
  },

  stream: {
    name: 'fleet-telemetry',
    /** Provisioned shards (1 MB/s or 1,000 records/s of writes each). */
    shardCount: 2,
    /**
     * Seven days: a consumer that cannot write (a store outage, a bug fixed on Monday) still finds its
     * records, and what a mapping gave up on can be read back for days after. On AWS the context
     * value `streamRetentionHours` overrides it (Kinesis bills extended retention past 24 h).
     */
    retentionHours: 168,
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
      // Retry until the record is too old, not a fixed number of times: ten retries of a failing
      // store call are over in minutes, so an outage of a few minutes would discard readings.
      maximumRetryAttempts: -1,
      /** Three days: covers a weekend-long store outage, well inside the 7-day retention. */
      maximumRecordAgeInSeconds: 259_200,
      functionResponseTypes: ['ReportBatchItemFailures'],
    },
    /** Raises alarms. No batching window: an alarm should not wait for a batch to fill. */
    alarms: {
      batchSize: 100,
      maximumBatchingWindowInSeconds: 0,
      /**
       * Five lanes per shard: a batch of 100 devices takes about 530 ms (one state read per device,
       * overlapped), so a lane carries about 190 records/s; five carry a shard's 1,000 records/s write
       * limit (docs/capacity.md): the two default shards keep up with about 90,000 devices at one
       * reading a minute. One lane fell behind above about 23,000. Each lane is an invocation a
       * second, so lanes beyond the need are paid for in requests and logs (seven cost 9 USD a month
       * more at 10,000 devices).
       */
      parallelizationFactor: 5,
      startingPosition: 'TRIM_HORIZON',
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: -1,
      /**
       * One day: past that, an alarm raised now is news nobody can act on, and skipping ahead lets
       * today's readings be evaluated; what is skipped lands whole in the failure destination.
       */
      maximumRecordAgeInSeconds: 86_400,
      functionResponseTypes: ['ReportBatchItemFailures'],
    },
  } satisfies Record<string, EventSourceMappingSettings>,

  /**
   * The AWS tables have no fixed names: they are retained when the stack is deleted, and a fixed
   * name would make the next deploy fail on the table still there. CloudFormation names them; the
   * functions get the names in their environment and people from the stack outputs.
   */
  tables: {
    /** Timestream measure name of the multi-measure record holding one reading's metrics. */
    timestreamMeasureName: 'reading',
  },

  offlineCheck: {
    /** How often the silent-device check runs. */
    everyMinutes: 1,
  },

  /** Every alarm transition and operator command (DynamoDB on AWS, store.db locally). */
  alarmHistory: {
    /** On AWS each entry expires (DynamoDB TTL) this long after its time. */
    ttlDays: 90,
  },
} as const;

/** The telemetry topic of one device. */
export function telemetryTopic(deviceId: string): string {
  return pipeline.topics.telemetry.replace('{deviceId}', deviceId);
}

/** The Basic Ingest telemetry topic of one device: its telemetry topic, straight to the pipeline's rule. */
export function basicIngestTelemetryTopic(deviceId: string): string {
  return pipeline.topics.basicIngestTelemetry.replace('{deviceId}', deviceId);
}

/** Whether `topic` is a Basic Ingest topic (of any rule): the broker delivers it to no subscriber. */
export function isBasicIngestTopic(topic: string): boolean {
  return topic.startsWith(BASIC_INGEST_RULES_PREFIX);
}

/**
 * The topic the pipeline's rule sees for a message published on `topic`: the topic itself, or, for
 * a Basic Ingest topic naming this rule, the topic without its `$aws/rules/<rule name>/` prefix.
 * Undefined for a Basic Ingest topic naming another rule, which this rule never sees.
 */
export function ruleTopicOf(topic: string): string | undefined {
  if (!isBasicIngestTopic(topic)) return topic;
  return topic.startsWith(BASIC_INGEST_PREFIX) ? topic.slice(BASIC_INGEST_PREFIX.length) : undefined;
}

/** The alarm topic of one device. */
export function alarmTopic(deviceId: string): string {
  return pipeline.topics.alarms.replace('{deviceId}', deviceId);
}

/** The topic an operator publishes alarm commands about one device on. */
export function commandTopic(deviceId: string): string {
  return pipeline.topics.commands.replace('{deviceId}', deviceId);
}

/** Where the outcome of a command about one device is published. */
export function commandReplyTopic(deviceId: string, outcome: 'accepted' | 'rejected'): string {
  return (outcome === 'accepted' ? pipeline.topics.commandAccepted : pipeline.topics.commandRejected).replace('{deviceId}', deviceId);
}
