import type { DeviceReadingsQuery, LatestReadingsQuery, NewestReadingsQuery, ReadingRow, ReadingsReader } from '../../ports/readings-reader.js';
import { byDevice } from '../../ports/readings-reader.js';
import type { DeviceLastSeen, ReadingQuery } from './sqlite-queries.js';

/** What this reader needs of the local store: its read side (SqliteStore or StoreQueries). */
export interface ReadingQueries {
  queryReadings(q: ReadingQuery): ReadingRow[];
  lastSeen(): DeviceLastSeen[];
}

/**
 * The readings read port on the local SQLite store: the store's own queries (sqlite-queries.ts),
 * behind the port the AWS readers share, so a caller written against the port reads either runtime.
 */
export class SqliteReadingsReader implements ReadingsReader {
  constructor(private readonly queries: ReadingQueries) {}

  async deviceReadings(q: DeviceReadingsQuery): Promise<ReadingRow[]> {
    return this.queries.queryReadings({
      deviceId: q.deviceId,
      ...range(q),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
      order: q.order ?? 'desc',
    });
  }

  async newestReadings(q: NewestReadingsQuery): Promise<ReadingRow[]> {
    return this.queries.queryReadings({ ...range(q), limit: q.limit, order: 'desc' });
  }

  async latestReadings(q: LatestReadingsQuery = {}): Promise<ReadingRow[]> {
    const deviceIds = q.deviceIds ?? this.queries.lastSeen().map((d) => d.deviceId);
    return deviceIds
      .flatMap((deviceId) => this.queries.queryReadings({ deviceId, ...range(q), limit: 1, order: 'desc' }))
      .sort(byDevice);
  }
}

function range(q: { since?: number; until?: number }): { since?: number; until?: number } {
  return { ...(q.since === undefined ? {} : { since: q.since }), ...(q.until === undefined ? {} : { until: q.until }) };
}
