/**
 * The dated price table the cost estimator uses: on-demand list prices in USD, without free tiers,
 * taxes or discounts. One entry per region; add a region by copying one and checking every figure
 * against the pages in SOURCES.
 *
 * How much to trust each figure is recorded beside it (`PriceCheck`): AWS's pricing pages render their
 * tables with JavaScript, so the text that could be consulted while compiling this table (2026-11-25)
 * did not always show the number itself. Re-check the `unverified` ones before relying on a total.
 *
 * Re-checked 2026-12-06 with the documentation search: the DynamoDB on-demand prices ($0.625 per
 * million write units, $0.125 per million read units) are quoted again by third parties after the
 * November 2024 reduction; Kinesis' pricing page text confirms the billing dimensions (extended
 * retention past 24 hours up to 7 days, long-term retention past 7 days, on-demand records rounded
 * up to 1 KB) but not the figures; IoT Core's pages confirm 5 KB metering and Basic Ingest's free
 * messaging (docs iot-basic-ingest) but only show figures for other regions; Timestream's docs
 * (metering-and-pricing.writes) fix the unit the estimate now uses: 1 KiB of each write request.
 * The new prices (extended and long-term retention, S3, the dashboard) are marked as checked.
 */

/** How a price was checked when the table was compiled. */
export const PRICE_CHECKS = {
  /** The figure was read in AWS's own text (a pricing page, an archived copy, or the docs). */
  aws: 'aws',
  /** The figure was read in a third-party article quoting the AWS price (dated in SOURCES). */
  secondary: 'secondary',
  /** From the compiler's knowledge of the AWS price list; not re-read in any text. */
  unverified: 'unverified',
} as const;
export type PriceCheck = (typeof PRICE_CHECKS)[keyof typeof PRICE_CHECKS];

/** One price, with where it comes from. */
export interface Price {
  readonly usd: number;
  /** What one `usd` buys, e.g. "per million messages". */
  readonly per: string;
  readonly check: PriceCheck;
  /** A key of SOURCES. */
  readonly source: keyof typeof SOURCES;
}

/** A tiered price: `upTo` units at `usd` each (per `per`), then the next tier; the last has no limit. */
export interface PriceTier {
  readonly upTo: number | null;
  readonly usd: number;
}

export interface RegionPrices {
  readonly iotCore: {
    /** Per million connection-minutes. */
    readonly connectivity: Price;
    /** Per million messages, metered in 5 KB increments; tiers count messages (not millions). */
    readonly messaging: Price & { readonly tiers: readonly PriceTier[] };
    readonly rulesTriggered: Price;
    readonly actionsApplied: Price;
  };
  readonly kinesis: {
    readonly shardHour: Price;
    /** Per million PUT payload units of 25 KB. */
    readonly putPayloadUnits: Price;
    readonly onDemandStreamHour: Price;
    /** Per GB written, each record rounded up to 1 KB. */
    readonly onDemandDataIn: Price;
    /** Per GB read (shared-throughput consumers). */
    readonly onDemandDataOut: Price;
    /** Provisioned: per shard-hour for retention past 24 hours up to 7 days. */
    readonly extendedRetentionShardHour: Price;
    /** On-demand: per GB-month stored past 24 hours up to 7 days. */
    readonly onDemandExtendedRetentionGbMonth: Price;
    /** Per GB-month stored past 7 days (both modes). */
    readonly longTermRetentionGbMonth: Price;
  };
  readonly lambda: {
    readonly requests: Price;
    /** Per GB-second on arm64, first pricing tier. */
    readonly arm64GbSecond: Price;
  };
  readonly dynamodb: {
    readonly onDemandWrites: Price;
    readonly onDemandReads: Price;
    /** Provisioned capacity, per write capacity unit-hour. */
    readonly provisionedWcuHour: Price;
    /** Provisioned capacity, per read capacity unit-hour. */
    readonly provisionedRcuHour: Price;
    readonly storageGbMonth: Price;
    readonly pitrGbMonth: Price;
  };
  readonly timestream: {
    /** Per million writes of 1 KB. */
    readonly writes: Price;
    readonly memoryGbHour: Price;
    readonly magneticGbMonth: Price;
  };
  readonly s3: {
    /** Per 1,000 PUT requests (S3 Standard). */
    readonly putRequests: Price;
    readonly standardGbMonth: Price;
  };
  readonly sns: {
    readonly publishes: Price;
    /** Per 100,000 e-mail notifications. */
    readonly emailDeliveries: Price;
  };
  readonly cloudWatch: {
    readonly standardAlarmMonth: Price;
    readonly logsIngestedGb: Price;
    readonly logsStoredGbMonth: Price;
    readonly customMetricMonth: Price;
    readonly dashboardMonth: Price;
  };
  readonly kms: {
    readonly customerKeyMonth: Price;
  };
  readonly appConfig: {
    /** Per million configuration requests (StartConfigurationSession, GetLatestConfiguration). */
    readonly requests: Price;
    /** Per configuration received (a GetLatestConfiguration answer that carries the content). */
    readonly configurationReceived: Price;
  };
}

/** Where the figures come from. Addresses are AWS's pricing pages unless said otherwise. */
export const SOURCES = {
  iotPricing: 'https://aws.amazon.com/iot-core/pricing/ (and .../pricing/additional-details/ for metering: 5 KB message increments)',
  kinesisPricing:
    'https://aws.amazon.com/kinesis/data-streams/pricing/ (25 KB PUT payload units; on-demand records rounded up to 1 KB); shard-hour figure also quoted in kindatechnical.com "Understanding Kinesis Pricing"',
  lambdaPricing:
    'https://aws.amazon.com/lambda/pricing/; arm64 GB-second and request prices quoted in cloudchipr.com "AWS Lambda Pricing Breakdown" (2024)',
  dynamodbProvisionedPricing:
    'https://aws.amazon.com/dynamodb/pricing/provisioned/ (its definitions of read and write capacity units were re-read 2026-12-06; the hourly prices are the long-standing us-east-1 figures, not visible in the stored page)',
  dynamodbPricing:
    'https://aws.amazon.com/dynamodb/pricing/on-demand/; on-demand prices after the 2024-11-01 50% reduction quoted in airbyte.com "DynamoDB pricing" (2025-07-21)',
  timestreamPricing:
    'https://aws.amazon.com/timestream/pricing/ (archived copy of 2020-07-28 for US East (Ohio): writes $0.50 per million 1 KB, memory $0.036 per GB-hour, magnetic $0.03 per GB-month); storage sizes: docs timestream metering-and-pricing.storage',
  s3Pricing: 'https://aws.amazon.com/s3/pricing/',
  snsPricing: 'https://aws.amazon.com/sns/pricing/',
  cloudWatchPricing: 'https://aws.amazon.com/cloudwatch/pricing/',
  kmsPricing: 'https://aws.amazon.com/kms/pricing/',
  appConfigPricing:
    'https://aws.amazon.com/systems-manager/pricing/ (AWS AppConfig: $0.0000002 per configuration request via API calls, $0.0008 per configuration received, both quoted from that page in an answer on repost.aws, "I want to understand AWS AppConfig pricing model"); GetLatestConfiguration "is a priced call" (docs appconfigdata GetLatestConfiguration)',
} as const;

const p = (usd: number, per: string, check: PriceCheck, source: keyof typeof SOURCES): Price => ({
  usd,
  per,
  check,
  source,
});

/** The whole table. */
export const PRICE_TABLE = {
  /** When the table was compiled. */
  asOf: '2026-12-06',
  currency: 'USD',
  regions: {
    'us-east-1': {
      iotCore: {
        connectivity: p(0.08, 'per million connection-minutes', 'unverified', 'iotPricing'),
        messaging: {
          ...p(1.0, 'per million messages (5 KB increments)', 'unverified', 'iotPricing'),
          // $1.00 up to 1 billion a month, $0.80 for the next 4 billion, $0.70 beyond.
          tiers: [
            { upTo: 1_000_000_000, usd: 1.0 },
            { upTo: 5_000_000_000, usd: 0.8 },
            { upTo: null, usd: 0.7 },
          ],
        },
        rulesTriggered: p(0.15, 'per million rules triggered', 'unverified', 'iotPricing'),
        actionsApplied: p(0.15, 'per million actions applied', 'unverified', 'iotPricing'),
      },
      kinesis: {
        shardHour: p(0.015, 'per shard-hour', 'secondary', 'kinesisPricing'),
        putPayloadUnits: p(0.014, 'per million PUT payload units (25 KB)', 'unverified', 'kinesisPricing'),
        onDemandStreamHour: p(0.04, 'per stream-hour (on-demand)', 'unverified', 'kinesisPricing'),
        onDemandDataIn: p(0.08, 'per GB written (on-demand)', 'unverified', 'kinesisPricing'),
        onDemandDataOut: p(0.04, 'per GB read (on-demand)', 'unverified', 'kinesisPricing'),
        extendedRetentionShardHour: p(0.02, 'per shard-hour of retention past 24 h (provisioned)', 'unverified', 'kinesisPricing'),
        onDemandExtendedRetentionGbMonth: p(0.1, 'per GB-month kept past 24 h (on-demand)', 'unverified', 'kinesisPricing'),
        longTermRetentionGbMonth: p(0.023, 'per GB-month kept past 7 days', 'unverified', 'kinesisPricing'),
      },
      lambda: {
        requests: p(0.2, 'per million requests', 'secondary', 'lambdaPricing'),
        arm64GbSecond: p(0.0000133334, 'per GB-second (arm64)', 'secondary', 'lambdaPricing'),
      },
      dynamodb: {
        onDemandWrites: p(0.625, 'per million write request units', 'secondary', 'dynamodbPricing'),
        onDemandReads: p(0.125, 'per million read request units', 'secondary', 'dynamodbPricing'),
        provisionedWcuHour: p(0.00065, 'per write capacity unit-hour (provisioned)', 'unverified', 'dynamodbProvisionedPricing'),
        provisionedRcuHour: p(0.00013, 'per read capacity unit-hour (provisioned)', 'unverified', 'dynamodbProvisionedPricing'),
        storageGbMonth: p(0.25, 'per GB-month', 'unverified', 'dynamodbPricing'),
        pitrGbMonth: p(0.2, 'per GB-month (continuous backups)', 'unverified', 'dynamodbPricing'),
      },
      timestream: {
        writes: p(0.5, 'per million 1 KB writes', 'aws', 'timestreamPricing'),
        memoryGbHour: p(0.036, 'per GB-hour (memory store)', 'aws', 'timestreamPricing'),
        magneticGbMonth: p(0.03, 'per GB-month (magnetic store)', 'aws', 'timestreamPricing'),
      },
      s3: {
        putRequests: p(0.005, 'per 1,000 PUT requests (S3 Standard)', 'secondary', 's3Pricing'),
        standardGbMonth: p(0.023, 'per GB-month (S3 Standard, first 50 TB)', 'unverified', 's3Pricing'),
      },
      sns: {
        publishes: p(0.5, 'per million publishes', 'unverified', 'snsPricing'),
        emailDeliveries: p(2.0, 'per 100,000 e-mail notifications', 'unverified', 'snsPricing'),
      },
      cloudWatch: {
        standardAlarmMonth: p(0.1, 'per standard-resolution alarm-month', 'unverified', 'cloudWatchPricing'),
        logsIngestedGb: p(0.5, 'per GB ingested', 'unverified', 'cloudWatchPricing'),
        logsStoredGbMonth: p(0.03, 'per GB-month stored', 'unverified', 'cloudWatchPricing'),
        customMetricMonth: p(0.3, 'per custom metric-month (first 10,000)', 'unverified', 'cloudWatchPricing'),
        dashboardMonth: p(3.0, 'per dashboard-month (past the free three)', 'unverified', 'cloudWatchPricing'),
      },
      kms: {
        customerKeyMonth: p(1.0, 'per customer managed key-month', 'unverified', 'kmsPricing'),
      },
      appConfig: {
        requests: p(0.2, 'per million configuration requests', 'secondary', 'appConfigPricing'),
        configurationReceived: p(0.0008, 'per configuration received', 'secondary', 'appConfigPricing'),
      },
    },
  } satisfies Record<string, RegionPrices>,
} as const;

export type PriceTable = {
  readonly asOf: string;
  readonly currency: string;
  readonly regions: Readonly<Record<string, RegionPrices>>;
};
