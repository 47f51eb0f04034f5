/** The aedes `authorizeForward` hook: Basic Ingest messages reach the rule only, never a subscriber. */
import type { AedesOptions } from 'aedes';
import { isBasicIngestTopic } from '../../pipeline.js';

export type AuthorizeForwardHook = NonNullable<AedesOptions['authorizeForward']>;

// As on IoT Core, where nothing may even subscribe to `$aws/rules/...`. Runs only per delivery to a subscriber.
export const authorizeForward: AuthorizeForwardHook = (_client, packet) => (isBasicIngestTopic(packet.topic) ? null : packet);
