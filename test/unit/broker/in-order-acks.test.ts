import { describe, expect, it } from 'vitest';
import { InOrderAcks } from '../../../infra/local/broker/in-order-acks.js';

/** Queues `count` packets whose callbacks record `label:error-message-or-ok` in `log`. */
function queue(acks: InOrderAcks, count: number, log: string[]) {
  return Array.from({ length: count }, (_, i) => acks.enqueue((error) => log.push(`${i}:${error ? error.message : 'ok'}`)));
}

describe('InOrderAcks', () => {
  it('releases callbacks in the order they were queued, whatever order their messages settle in', () => {
    const acks = new InOrderAcks();
    const log: string[] = [];
    const [a, b, c] = queue(acks, 3, log);

    acks.settle(c!);
    acks.settle(b!);
    expect(log).toEqual([]);
    acks.settle(a!);

    expect(log).toEqual(['0:ok', '1:ok', '2:ok']);
  });

  it('fails every callback released after the first failure, and reports that failure for later publishes', () => {
    const acks = new InOrderAcks();
    const log: string[] = [];
    const [a, b, c] = queue(acks, 3, log);

    acks.settle(a!);
    acks.settle(c!);
    acks.settle(b!, new Error('append failed'));

    expect(log).toEqual(['0:ok', '1:append failed', '2:append failed']);
    expect(acks.failed?.message).toBe('append failed');
  });

  it('ignores a second settle of the same ticket', () => {
    const acks = new InOrderAcks();
    const log: string[] = [];
    const [a] = queue(acks, 1, log);

    acks.settle(a!);
    acks.settle(a!, new Error('late'));

    expect(log).toEqual(['0:ok']);
    expect(acks.failed).toBeUndefined();
  });

  it('releases tickets queued and settled from inside a released callback, still in order', () => {
    // A PUBACK lets aedes parse the client's next packets at once, so a callback may queue and settle more.
    const acks = new InOrderAcks();
    const log: string[] = [];
    const first = acks.enqueue(() => {
      log.push('first');
      const inner = acks.enqueue(() => log.push('inner'));
      acks.settle(inner);
    });
    const second = acks.enqueue(() => log.push('second'));

    acks.settle(second);
    acks.settle(first);

    expect(log).toEqual(['first', 'second', 'inner']);
  });

  it('keeps releasing in order across many rounds of queueing and settling', () => {
    const acks = new InOrderAcks();
    const released: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      const tickets = Array.from({ length: 40 }, () => {
        const n = next++;
        return acks.enqueue(() => released.push(n));
      });
      // Settle all but the first in reverse, then the first: nothing may overtake it.
      for (const ticket of tickets.slice(1).reverse()) acks.settle(ticket);
      acks.settle(tickets[0]!);
    }

    expect(released).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });
});
