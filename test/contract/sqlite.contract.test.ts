import { join } from 'node:path';
import type { RejectedMessage } from '../../lambdas/domain/model.js';
import { SqliteReadingsReader } from '../../lambdas/adapters/local/sqlite-readings-reader.js';
import { SqliteStore } from '../../lambdas/adapters/local/sqlite-store.js';
import { tempDir } from '../unit/local-adapters/temp-dir.js';
import { HISTORY_CONTRACT_RULES, alarmHistoryContract } from './alarm-history.contract.js';
import { alarmNotifierContract } from './alarm-notifier.contract.js';
import { alarmStateStoreContract } from './alarm-state-store.contract.js';
import { readingsReaderContract } from './readings-reader.contract.js';
import { rejectSinkContract } from './reject-sink.contract.js';
import { timeSeriesStoreContract } from './time-series-store.contract.js';

/** A store on a real file in a fresh temp dir, removed on dispose. */
function openStore(): { store: SqliteStore; dispose(): Promise<void> } {
  const dir = tempDir();
  const store = SqliteStore.open(join(dir.path, 'store.db'));
  return {
    store,
    dispose: async () => {
      store.close();
      dir.remove();
    },
  };
}

timeSeriesStoreContract('SqliteStore.timeSeries', async () => {
  const { store, dispose } = openStore();
  return {
    store: store.timeSeries,
    stored: async () =>
      store.queryReadings({ order: 'asc' }).map((r) => ({
        deviceId: r.deviceId,
        ts: r.ts,
        ...(r.seq === null ? {} : { seq: r.seq }),
        ...(r.type === null ? {} : { type: r.type }),
        metrics: r.metrics,
      })),
    dispose,
  };
});

rejectSinkContract('SqliteStore.rejects', async () => {
  const { store, dispose } = openStore();
  return {
    sink: store.rejects,
    kept: async () =>
      store.queryRejects({ order: 'asc' }).map(
        (r): RejectedMessage => ({
          reason: r.reason,
          stage: r.stage,
          ...(r.deviceId === null ? {} : { deviceId: r.deviceId }),
          ...(r.topic === null ? {} : { topic: r.topic }),
          // The read side shows UTF-8 payloads as text; the port stores base64.
          payload: r.payloadEncoding === 'utf8' ? Buffer.from(r.payload, 'utf8').toString('base64') : r.payload,
          record: r.record,
          rejectedAt: r.rejectedAt,
        }),
      ),
    dispose,
  };
});

alarmStateStoreContract('SqliteStore.alarmStates', async () => {
  const { store, dispose } = openStore();
  return { store: store.alarmStates, dispose };
});

alarmNotifierContract(
  'SqliteStore.alarmLog',
  async () => {
    const { store, dispose } = openStore();
    return {
      notifier: store.alarmLog,
      received: async () => store.queryTransitions({ order: 'asc' }).map(({ recordedAt: _at, ...event }) => event),
      dispose,
    };
  },
  { recordsOnce: true },
);

readingsReaderContract('SqliteReadingsReader', async () => {
  const { store, dispose } = openStore();
  return {
    reader: new SqliteReadingsReader(store),
    write: async (readings) => {
      await store.timeSeries.write(readings);
    },
    dispose,
  };
});

alarmHistoryContract('SqliteStore.alarmHistory + alarmReader', async () => {
  const { store, dispose } = openStore();
  return { states: store.alarmStates, history: store.alarmHistory, reader: store.alarmReader(HISTORY_CONTRACT_RULES), dispose };
});
