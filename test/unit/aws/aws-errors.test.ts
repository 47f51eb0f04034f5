import { describe, expect, it } from 'vitest';
import { isTransientAwsError, retryableOr } from '../../../lambdas/adapters/aws/aws-errors.js';
import { RetryableError } from '../../../lambdas/domain/errors.js';

const sdkError = (name: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(name), { name, ...extra });

describe('isTransientAwsError', () => {
  it.each([
    ['ThrottlingException', sdkError('ThrottlingException')],
    ['ProvisionedThroughputExceededException', sdkError('ProvisionedThroughputExceededException')],
    ['RequestLimitExceeded', sdkError('RequestLimitExceeded')],
    ['an HTTP 429', sdkError('Unknown', { $metadata: { httpStatusCode: 429 } })],
    ['an HTTP 502', sdkError('Unknown', { $metadata: { httpStatusCode: 502 } })],
    ['a TimeoutError', sdkError('TimeoutError')],
    ['ECONNRESET', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['an error with the retryable trait', sdkError('Whatever', { $retryable: { throttling: false } })],
    ['a RetryableError', new RetryableError('already classified')],
  ])('retries %s', (_label, error) => {
    expect(isTransientAwsError(error)).toBe(true);
  });

  it.each([
    ['ValidationException', sdkError('ValidationException', { $metadata: { httpStatusCode: 400 } })],
    ['AccessDeniedException', sdkError('AccessDeniedException', { $metadata: { httpStatusCode: 403 } })],
    ['ResourceNotFoundException', sdkError('ResourceNotFoundException', { $metadata: { httpStatusCode: 404 } })],
    ['a string', 'boom'],
    ['null', null],
  ])('does not retry %s', (_label, error) => {
    expect(isTransientAwsError(error)).toBe(false);
  });
});

describe('retryableOr', () => {
  it('wraps a transient error with where it happened, keeping the cause', () => {
    const cause = sdkError('ThrottlingException');

    const wrapped = retryableOr(cause, 'DynamoDB GetItem t device d');

    expect(wrapped).toBeInstanceOf(RetryableError);
    expect((wrapped as Error).message).toBe('DynamoDB GetItem t device d: ThrottlingException: ThrottlingException');
    expect((wrapped as Error).cause).toBe(cause);
  });

  it('returns a RetryableError and any permanent error unchanged', () => {
    const retryable = new RetryableError('x');
    const permanent = sdkError('ValidationException');

    expect(retryableOr(retryable, 'here')).toBe(retryable);
    expect(retryableOr(permanent, 'here')).toBe(permanent);
  });
});
