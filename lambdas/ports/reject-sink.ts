import type { RejectedMessage } from '../domain/model.js';

/** Keeps messages that can never be stored, with their reasons (SQS on AWS, a SQLite table locally). */
export interface RejectSink {
  reject(messages: readonly RejectedMessage[]): Promise<void>;
}
