import { afterEach, describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import { InvariantError } from '../../../lambdas/domain/errors.js';
import { ChannelCallError, unhandled } from '../../../infra/local/consumers/channel.js';
import { hostEnd, workerEnd } from '../../../infra/local/consumers/protocol.js';
import type { WorkerInbox, HostInbox } from '../../../infra/local/consumers/protocol.js';

const ports: MessageChannel[] = [];
afterEach(() => {
  for (const { port1, port2 } of ports.splice(0)) {
    port1.close();
    port2.close();
  }
});

/** Both ends of the consumers' channel over a real MessageChannel (structured clone, as between threads). */
function connected(onWorker: (message: WorkerInbox, end: ReturnType<typeof workerEnd>) => void, onHost: (message: HostInbox) => void = () => undefined) {
  const channel = new MessageChannel();
  ports.push(channel);
  const worker = workerEnd(channel.port1, (message) => onWorker(message, worker));
  const host = hostEnd(channel.port2, onHost);
  return { host, worker };
}

describe('the consumers channel', () => {
  it('answers a call with what the other side returned, and carries its request across', async () => {
    const rules = parseThresholds({ rules: [{ id: 'overheat', metric: 'temperature', when: { above: 80 }, severity: 'critical' }] });
    const received: unknown[] = [];
    const { host } = connected((message, worker) => {
      if (message.kind === 'checkSilence') worker.answer(message, () => ({ checked: 3, raised: 1 }));
      if (message.kind === 'rulesChanged') {
        received.push(message.rules);
        worker.answer(message, () => null);
      }
    });

    await expect(host.call('checkSilence', {})).resolves.toEqual({ checked: 3, raised: 1 });
    await expect(host.call('rulesChanged', { rules })).resolves.toBeNull();
    expect(received).toEqual([rules]);
  });

  it("rejects a call with the other side's error message", async () => {
    const { host } = connected((message, worker) => {
      if (message.kind === 'stop') worker.answer(message, async () => Promise.reject(new Error(`cannot drain in ${message.drainTimeoutMs} ms`)));
    });

    const call = host.call('stop', { drainTimeoutMs: 5 });
    await expect(call).rejects.toThrow(ChannelCallError);
    await expect(call).rejects.toThrow('cannot drain in 5 ms');
  });

  it('matches answers to their calls by id, whatever order they come back in', async () => {
    const releases: (() => void)[] = [];
    const { host } = connected((message, worker) => {
      if (message.kind !== 'checkSilence') return;
      const n = releases.length;
      const gate = new Promise<void>((resolve) => releases.push(resolve));
      worker.answer(message, async () => {
        await gate;
        return { checked: n, raised: 0 };
      });
      // The second call is answered first.
      if (releases.length === 2) [releases[1], releases[0]].forEach((release) => release?.());
    });

    const [first, second] = await Promise.all([host.call('checkSilence', {}), host.call('checkSilence', {})]);
    expect([first.checked, second.checked]).toEqual([0, 1]);
  });

  it('delivers events in the order they were sent, and calls the other way too', async () => {
    const channel = new MessageChannel();
    ports.push(channel);
    const seen: string[] = [];
    const host = hostEnd(channel.port2, (message) => {
      seen.push(message.kind === 'checkpoint' ? `checkpoint ${message.sequenceNumber}` : message.kind);
      if (message.kind === 'notify') host.answer(message, () => null);
    });
    const worker = workerEnd(channel.port1, () => undefined);

    worker.emit({ kind: 'log', level: 'info', message: 'started' });
    worker.emit({ kind: 'checkpoint', consumer: 'ingest', shardId: 'shardId-000000000000', sequenceNumber: '00000000000000000001' });
    worker.emit({ kind: 'ready' });
    await expect(worker.call('notify', { events: [] })).resolves.toBeNull();

    expect(seen).toEqual(['log', 'checkpoint 00000000000000000001', 'ready', 'notify']);
  });

  it('fails every call still waiting when the other side is gone', async () => {
    const { host } = connected(() => undefined);
    const pending = host.call('checkSilence', {});
    host.failPending('consumers worker exited with code 1');

    await expect(pending).rejects.toThrow(new ChannelCallError('consumers worker exited with code 1'));
  });

  it('refuses, at run time too, a message kind a side does not handle', () => {
    expect(() => unhandled({ kind: 'ping' } as never)).toThrow(new InvariantError('consumers channel: no handler for "ping"'));
  });
});
