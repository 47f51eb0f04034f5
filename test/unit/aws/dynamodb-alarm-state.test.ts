import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CorruptAlarmStateError,
  DynamoDbAlarmStateStore,
  alarmStateDocumentClient,
} from '../../../lambdas/adapters/aws/dynamodb-alarm-state.js';
import { RetryableError } from '../../../lambdas/domain/errors.js';
import type { DeviceAlarmRecord } from '../../../lambdas/ports/alarm-state-store.js';
import { installAlarmTable } from '../../fixtures/aws/dynamodb-table.js';
import { alarmEvent } from '../../fixtures/aws/readings.js';

const TABLE = 'fleet-telemetry-alarm-state';
let documentClient: DynamoDBDocumentClient;
let dynamo: AwsClientStub<DynamoDBDocumentClient>;

function store(): DynamoDbAlarmStateStore {
  return new DynamoDbAlarmStateStore({ client: documentClient, tableName: TABLE });
}

function record(overrides: Partial<DeviceAlarmRecord> = {}): DeviceAlarmRecord {
  return {
    deviceId: 'sensor-0001',
    version: 1,
    lastSeen: 1_764_028_800_123,
    state: { rules: { overheat: { status: 'ALARM', since: 1_764_028_800_123 } } },
    outbox: [alarmEvent()],
    ...overrides,
  };
}

describe('DynamoDbAlarmStateStore', () => {
  beforeEach(() => {
    documentClient = alarmStateDocumentClient(new DynamoDBClient({ region: 'eu-west-1' }));
    dynamo = mockClient(documentClient);
  });
  afterEach(() => dynamo.restore());

  it('creates an item only if none exists for the device', async () => {
    dynamo.on(PutCommand).resolves({});

    await expect(store().save(record(), undefined)).resolves.toBe(true);

    expect(dynamo.commandCalls(PutCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: TABLE,
        Item: {
          deviceId: 'sensor-0001',
          version: 1,
          lastSeen: 1_764_028_800_123,
          state: { rules: { overheat: { status: 'ALARM', since: 1_764_028_800_123 } } },
          outbox: [alarmEvent()],
        },
        ConditionExpression: 'attribute_not_exists(deviceId)',
      },
    ]);
  });

  it('updates an item only if its version is still the expected one', async () => {
    dynamo.on(PutCommand).resolves({});

    await expect(store().save(record({ version: 4, outbox: [] }), 3)).resolves.toBe(true);

    expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Item: { ...record({ version: 4, outbox: [] }) },
      ConditionExpression: '#version = :expected',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':expected': 3 },
    });
  });

  it('reports a lost race as false when the condition fails', async () => {
    dynamo
      .on(PutCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));

    await expect(store().save(record({ version: 2 }), 1)).resolves.toBe(false);
  });

  it('loads with a strongly consistent read and returns undefined for an unknown device', async () => {
    dynamo.on(GetCommand).resolves({});

    await expect(store().load('sensor-0404')).resolves.toBeUndefined();

    expect(dynamo.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { deviceId: 'sensor-0404' },
      ConsistentRead: true,
    });
  });

  it('reads back what it saved, and a stale version loses against a newer save', async () => {
    installAlarmTable(dynamo);
    const states = store();

    await states.save(record({ version: 1 }), undefined);
    const first = await states.load('sensor-0001');
    const won = await states.save(record({ version: 2, outbox: [] }), first?.version);
    const lost = await states.save(record({ version: 2, lastSeen: 1 }), first?.version);

    expect(first).toEqual(record({ version: 1 }));
    expect([won, lost]).toEqual([true, false]);
    expect(await states.load('sensor-0001')).toEqual(record({ version: 2, outbox: [] }));
  });

  it('creates the item once: a second create for the same device is refused', async () => {
    installAlarmTable(dynamo);
    const states = store();

    const results = [await states.save(record(), undefined), await states.save(record(), undefined)];

    expect(results).toEqual([true, false]);
  });

  it('scans every page of every segment at once for devices seen before a time, asking only for the record', async () => {
    const table = installAlarmTable(dynamo);
    for (const [deviceId, lastSeen] of [['a', 100], ['b', 500], ['c', 50], ['d', 999], ['e', 1]] as const) {
      table.set(deviceId, { ...record({ deviceId, lastSeen }), extra: 'not asked for' });
    }

    const silent = await new DynamoDbAlarmStateStore({ client: documentClient, tableName: TABLE, scanSegments: 2 }).listSeenBefore(500);

    expect(silent.map((r) => r.deviceId).sort()).toEqual(['a', 'c', 'e']);
    const inputs = dynamo.commandCalls(ScanCommand).map((call) => call.args[0].input);
    const first = (segment: number) => inputs.find((input) => input.Segment === segment && input.ExclusiveStartKey === undefined);
    for (const segment of [0, 1]) {
      expect(first(segment)).toEqual({
        TableName: TABLE,
        FilterExpression: '#lastSeen < :before',
        ProjectionExpression: '#deviceId, #version, #lastSeen, #state, #outbox, #wakeAt',
        ExpressionAttributeNames: {
          '#deviceId': 'deviceId',
          '#version': 'version',
          '#lastSeen': 'lastSeen',
          '#state': 'state',
          '#outbox': 'outbox',
          '#wakeAt': 'wakeAt',
        },
        ExpressionAttributeValues: { ':before': 500 },
        Segment: segment,
        TotalSegments: 2,
      });
    }
    // Segment 0 holds a, c, e (three pages), segment 1 holds b, d (two pages).
    expect(inputs.filter((input) => input.Segment === 0).map((input) => input.ExclusiveStartKey)).toEqual([undefined, { deviceId: 'a' }, { deviceId: 'c' }]);
    expect(inputs.filter((input) => input.Segment === 1).map((input) => input.ExclusiveStartKey)).toEqual([undefined, { deviceId: 'b' }]);
  });

  it('starts every segment before any has finished', async () => {
    let inFlight = 0;
    let most = 0;
    dynamo.on(ScanCommand).callsFake(async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      return { Items: [] };
    });

    await new DynamoDbAlarmStateStore({ client: documentClient, tableName: TABLE, scanSegments: 4 }).listSeenBefore(1);

    expect(most).toBe(4);
  });

  it('refuses a segment count DynamoDB would refuse', () => {
    expect(() => new DynamoDbAlarmStateStore({ client: documentClient, tableName: TABLE, scanSegments: 0 })).toThrow(/scanSegments: expected an integer from 1/);
  });

  it('fills a missing outbox with an empty list and refuses an item without a version', async () => {
    dynamo
      .on(GetCommand)
      .resolvesOnce({ Item: { deviceId: 'sensor-0001', version: 3, lastSeen: 7, state: {} } })
      .resolvesOnce({ Item: { deviceId: 'sensor-0001', lastSeen: 7 } });

    await expect(store().load('sensor-0001')).resolves.toEqual({
      deviceId: 'sensor-0001',
      version: 3,
      lastSeen: 7,
      state: {},
      outbox: [],
    });
    await expect(store().load('sensor-0001')).rejects.toThrow(CorruptAlarmStateError);
  });

  const throttledWrite = new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });
  const throttledRead = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
  const requestLimit = Object.assign(new Error('limit'), { name: 'RequestLimitExceeded' });
  const serverError = Object.assign(new Error('oops'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
  type Case = [string, () => void, (states: DynamoDbAlarmStateStore) => Promise<unknown>, Error];
  const cases: Case[] = [
    ['a throttled write', () => dynamo.on(PutCommand).rejects(throttledWrite), (s) => s.save(record(), undefined), throttledWrite],
    ['a throttled read', () => dynamo.on(GetCommand).rejects(throttledRead), (s) => s.load('d'), throttledRead],
    ['a request limit', () => dynamo.on(ScanCommand).rejects(requestLimit), (s) => s.listSeenBefore(1), requestLimit],
    ['a 500', () => dynamo.on(GetCommand).rejects(serverError), (s) => s.load('d'), serverError],
  ];

  it.each(cases)('turns %s into a RetryableError', async (_label, arrange, act, cause) => {
    arrange();

    const error = await act(store()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).cause).toBe(cause);
  });

  it('lets a missing table through unchanged', async () => {
    const cause = new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} });
    dynamo.on(GetCommand).rejects(cause);

    await expect(store().load('sensor-0001')).rejects.toBe(cause);
  });

  it('sends an item whose state holds undefined fields, without them, on the wire', async () => {
    // Below the mock: a real DocumentClient over a DynamoDBClient whose HTTP handler records the body.
    const bodies: string[] = [];
    const client = new DynamoDBClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' },
      requestHandler: {
        handle: async (request: { body?: Uint8Array | string }) => {
          bodies.push(typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body));
          const body = Readable.from([Buffer.from('{}')]);
          return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body } };
        },
      } as never,
    });
    const states = new DynamoDbAlarmStateStore({ client: alarmStateDocumentClient(client), tableName: TABLE });

    await states.save(record({ state: { overheat: { status: 'OK', since: undefined } }, outbox: [] }), undefined);

    expect(bodies.map((body) => JSON.parse(body) as unknown)).toEqual([
      {
        TableName: TABLE,
        Item: {
          deviceId: { S: 'sensor-0001' },
          version: { N: '1' },
          lastSeen: { N: '1764028800123' },
          state: { M: { overheat: { M: { status: { S: 'OK' } } } } },
          outbox: { L: [] },
        },
        ConditionExpression: 'attribute_not_exists(deviceId)',
      },
    ]);
  });
});
