import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FUNCTION_SIZING } from '../../../infra/aws/function-sizing.js';
import { REPO_ROOT } from '../../../infra/aws/paths.js';
import { AWS_CLIENT_TIMEOUTS, awsClientConfig, worstCaseCallMs } from '../../../lambdas/adapters/aws/client-config.js';
import { isTransientAwsError } from '../../../lambdas/adapters/aws/aws-errors.js';

/** A TCP server on 127.0.0.1 that accepts every connection and never answers: a hung endpoint. */
async function silentServer(): Promise<{ server: Server; port: number; connections: () => number; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('silent server has no TCP port');
  return {
    server,
    port: address.port,
    connections: () => sockets.length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function clientOf(port: number, timeouts: Parameters<typeof awsClientConfig>[0]): DynamoDBClient {
  return new DynamoDBClient({
    ...awsClientConfig(timeouts),
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

describe('awsClientConfig', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('fails a call to an endpoint that never answers after its request timeout, each attempt on a new connection, instead of hanging', async () => {
    const hung = await silentServer();
    cleanup = hung.close;
    const timeouts = { connectionTimeoutMs: 500, requestTimeoutMs: 300, maxAttempts: 2 };
    const client = clientOf(hung.port, timeouts);
    const started = performance.now();
    const error = await client
      .send(new GetItemCommand({ TableName: 'alarm-state', Key: { deviceId: { S: 'd-1' } } }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const elapsed = performance.now() - started;
    client.destroy();
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('TimeoutError');
    // What our adapters then turn into a batch item failure for the mapping to retry.
    expect(isTransientAwsError(error)).toBe(true);
    expect(hung.connections()).toBe(timeouts.maxAttempts);
    expect(elapsed).toBeGreaterThanOrEqual(timeouts.maxAttempts * timeouts.requestTimeoutMs - 50);
    expect(elapsed).toBeLessThan(worstCaseCallMs(timeouts) + 1_000);
  });

  it('uses the standard retry mode with a connection and a request timeout that raise errors', () => {
    expect(awsClientConfig()).toEqual({
      maxAttempts: AWS_CLIENT_TIMEOUTS.maxAttempts,
      retryMode: 'standard',
      requestHandler: {
        connectionTimeout: AWS_CLIENT_TIMEOUTS.connectionTimeoutMs,
        requestTimeout: AWS_CLIENT_TIMEOUTS.requestTimeoutMs,
        throwOnRequestTimeout: true,
      },
    });
  });

  it.each(Object.entries(FUNCTION_SIZING))(
    'keeps the worst case of one call, retries and backoff included, within three quarters of the %s function timeout',
    (_name, sizing) => {
      expect(worstCaseCallMs()).toBeLessThanOrEqual(sizing.timeoutSeconds * 1_000 * 0.75);
    },
  );
});

describe('the composition roots', () => {
  /** Every TypeScript file under lambdas/, except tests (there are none there) and this module. */
  function lambdaSources(dir = join(REPO_ROOT, 'lambdas')): string[] {
    return readdirSync(dir).flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return lambdaSources(path);
      return path.endsWith('.ts') ? [path] : [];
    });
  }

  it('build every AWS SDK client with awsClientConfig, so none runs with the SDK defaults (no timeout)', () => {
    const constructions = lambdaSources().flatMap((file) =>
      // The start of each constructor call's arguments: enough to see the spread come first.
      [...readFileSync(file, 'utf8').matchAll(/new\s+([A-Z][A-Za-z0-9]*Client)\(([^\n]{0,40})/g)].map((m) => ({
        where: `${relative(REPO_ROOT, file)}: new ${m[1]}(${m[2]}`,
        args: m[2] ?? '',
        client: m[1] ?? '',
      })),
    );
    const sdkClients = constructions.filter((c) => c.client !== 'DynamoDBDocumentClient');
    expect(sdkClients.length).toBeGreaterThanOrEqual(5);
    for (const construction of sdkClients) expect(construction.args, construction.where).toMatch(/^\{\s*\.\.\.awsClientConfig\(\)/);
  });
});
