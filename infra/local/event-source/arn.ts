/**
 * The fixed identity of the local runtime in ARNs. There is no AWS account locally; these are the
 * values LocalStack uses by default, so they look real to code that parses ARNs and are plainly fake.
 */
export const LOCAL_AWS = {
  region: 'us-east-1',
  accountId: '000000000000',
} as const;

export function kinesisStreamArn(streamName: string): string {
  return `arn:aws:kinesis:${LOCAL_AWS.region}:${LOCAL_AWS.accountId}:stream/${streamName}`;
}

export function lambdaFunctionArn(functionName: string): string {
  return `arn:aws:lambda:${LOCAL_AWS.region}:${LOCAL_AWS.accountId}:function:${functionName}`;
}

/** The function's execution role, which Lambda reports as the record's invokeIdentityArn. */
export function executionRoleArn(functionName: string): string {
  return `arn:aws:iam::${LOCAL_AWS.accountId}:role/${functionName}-role`;
}
