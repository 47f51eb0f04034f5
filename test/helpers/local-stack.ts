/** Starts the real local stack in a temp dir, and real MQTT.js clients against it, for integration tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { parseThresholds } from '../../lambdas/domain/thresholds.js';
import { silentLog } from '../../lambdas/ports/observability.js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../infra/local/stack.js';

export interface TestStack {
  readonly stack: LocalStack;
  readonly url: string;
  /** Registers a device (or operator) and connects it over MQTT 3.1.1 with username = client id. */
  connect(deviceId: string, options?: { type?: string; role?: 'device' | 'operator' }): Promise<MqttClient>;
  close(): Promise<void>;
}

export async function startTestStack(
  thresholds: unknown,
  options: Partial<Omit<LocalStackOptions, 'thresholds' | 'dataDir'>> & { dataDir?: string } = {},
): Promise<TestStack> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'ft-stack-'));
  const stack = await startLocalStack({ mqttPort: 0, wsPort: null, log: silentLog, ...options, dataDir, thresholds: parseThresholds(thresholds) });
  const url = `mqtt://127.0.0.1:${stack.mqttPort}`;
  const clients: MqttClient[] = [];
  return {
    stack,
    url,
    async connect(deviceId, deviceOptions = {}) {
      const { password } = stack.registry.upsert(deviceId, deviceOptions);
      const client = await mqtt.connectAsync(url, {
        clientId: deviceId,
        username: deviceId,
        password,
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
      await stack.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Collects the JSON messages a client receives, and waits until a predicate holds. */
export function collect<T = unknown>(client: MqttClient): { readonly messages: T[]; until(count: number, timeoutMs?: number): Promise<T[]> } {
  const messages: T[] = [];
  const waiters: (() => void)[] = [];
  client.on('message', (_topic, payload) => {
    messages.push(JSON.parse(payload.toString('utf8')) as T);
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    messages,
    until(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`expected ${count} messages, got ${messages.length}: ${JSON.stringify(messages)}`)), timeoutMs);
        const check = () => {
          if (messages.length >= count) {
            clearTimeout(deadline);
            resolve(messages.slice());
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

// The integration tests' one way to wait, re-exported where most of them already import from.
export { eventually, until } from './wait.js';
