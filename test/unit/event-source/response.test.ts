import { describe, it, expect } from 'vitest';
import { interpretResponse } from '../../../infra/local/event-source/index.js';

const S = ['00000000000000000001', '00000000000000000002', '00000000000000000003', '00000000000000000004', '00000000000000000005'];
const [s1, s2, s3] = S as [string, string, string];
const RBIF = { reportBatchItemFailures: true };

describe('interpretResponse with ReportBatchItemFailures', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an empty object', {}],
    ['a null list', { batchItemFailures: null }],
    ['an empty list', { batchItemFailures: [] }],
  ])('treats %s as success', (_name, response) => {
    expect(interpretResponse(response, S, RBIF)).toEqual({ kind: 'success' });
  });

  it('retries from the lowest reported sequence number, whatever the order of the list', () => {
    expect(interpretResponse({ batchItemFailures: [{ itemIdentifier: s3 }, { itemIdentifier: s2 }] }, S, RBIF)).toEqual({
      kind: 'partial',
      firstFailedIndex: 1,
    });
    expect(interpretResponse({ batchItemFailures: [{ itemIdentifier: s1 }] }, S, RBIF)).toEqual({ kind: 'partial', firstFailedIndex: 0 });
  });

  it.each([
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }, /empty, null or missing/],
    ['a null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }, /empty, null or missing/],
    ['the identifier under a wrong key', { batchItemFailures: [{ id: s3 }] }, /empty, null or missing/],
    ['a null item', { batchItemFailures: [null] }, /empty, null or missing/],
    ['an identifier that is not in the batch (our choice, as LocalStack)', { batchItemFailures: [{ itemIdentifier: '999' }] }, /not a sequence number of this batch/],
    ['a valid identifier beside an invalid one', { batchItemFailures: [{ itemIdentifier: s2 }, { itemIdentifier: '' }] }, /\[1\]/],
    ['a list that is not a list (our choice)', { batchItemFailures: 's2' }, /not a list/],
    ['a response that is not an object (our choice)', 'ok', /not an object \(string\)/],
  ])('treats %s as a full failure', (_name, response, reason) => {
    const outcome = interpretResponse(response, S, RBIF);
    expect(outcome.kind).toBe('failure');
    expect(outcome.kind === 'failure' && outcome.reason).toMatch(reason);
  });
});

describe('interpretResponse without ReportBatchItemFailures', () => {
  it('ignores the response: returning is success', () => {
    expect(interpretResponse({ batchItemFailures: [{ itemIdentifier: s2 }] }, S, { reportBatchItemFailures: false })).toEqual({
      kind: 'success',
    });
    expect(interpretResponse({ batchItemFailures: [{ itemIdentifier: '' }] }, S, { reportBatchItemFailures: false })).toEqual({
      kind: 'success',
    });
  });
});
