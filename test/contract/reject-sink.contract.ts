import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { RejectedMessage } from '../../lambdas/domain/model.js';
import type { RejectSink } from '../../lambdas/ports/reject-sink.js';
import { aRecordRef, aRejectedMessage, sortedBy } from './fixtures.js';

export interface RejectSinkHarness {
  readonly sink: RejectSink;
  /** Every message kept, in any order, as the RejectedMessage it was given. */
  kept(): Promise<readonly RejectedMessage[]>;
  dispose(): Promise<void>;
}

const bySequence = (m: RejectedMessage): string => `${m.record.shardId}|${m.record.sequenceNumber.padStart(60, '0')}`;

/** The RejectSink port's contract (lambdas/ports/reject-sink.ts), run against every adapter. */
export function rejectSinkContract(name: string, make: () => Promise<RejectSinkHarness>): void {
  describe(`RejectSink contract: ${name}`, () => {
    let h: RejectSinkHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.dispose();
    });

    it('keeps every field of a rejected message', async () => {
      const message = aRejectedMessage();

      await h.sink.reject([message]);

      expect(await h.kept()).toEqual([message]);
    });

    it('keeps a message without device or topic, and one whose payload is not text', async () => {
      const messages = [
        aRejectedMessage({ deviceId: undefined, topic: undefined, record: aRecordRef({ sequenceNumber: '1' }) }),
        aRejectedMessage({
          stage: 'store',
          reason: 'ts: 1.5 is not an integer epoch ms',
          payload: Buffer.from([0xff, 0x00, 0xfe, 0x80]).toString('base64'),
          record: aRecordRef({ sequenceNumber: '2', shardId: 'shardId-000000000001' }),
        }),
      ];

      await h.sink.reject(messages);

      // toEqual: an absent deviceId equals one that is undefined.
      expect(sortedBy(await h.kept(), bySequence)).toEqual(sortedBy(messages, bySequence));
    });

    it('keeps the messages of successive calls', async () => {
      const first = aRejectedMessage({ record: aRecordRef({ sequenceNumber: '10' }) });
      const second = aRejectedMessage({ record: aRecordRef({ sequenceNumber: '11' }), rejectedAt: first.rejectedAt + 1 });

      await h.sink.reject([first]);
      await h.sink.reject([]);
      await h.sink.reject([second]);

      expect(sortedBy(await h.kept(), bySequence)).toEqual([first, second]);
    });
  });
}
