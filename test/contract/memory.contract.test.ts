import {
  InMemoryAlarmHistory,
  InMemoryAlarmReader,
  InMemoryAlarmStateStore,
  InMemoryRejectSink,
  InMemoryTimeSeriesStore,
  RecordingNotifier,
} from '../../lambdas/adapters/memory/index.js';
import { HISTORY_CONTRACT_RULES, alarmHistoryContract } from './alarm-history.contract.js';
import { alarmNotifierContract } from './alarm-notifier.contract.js';
import { alarmStateStoreContract } from './alarm-state-store.contract.js';
import { rejectSinkContract } from './reject-sink.contract.js';
import { timeSeriesStoreContract } from './time-series-store.contract.js';

// The fakes the use-case tests rely on must behave like the real adapters, or those tests prove nothing.

timeSeriesStoreContract('InMemoryTimeSeriesStore', async () => {
  const store = new InMemoryTimeSeriesStore();
  return {
    store,
    stored: async () => store.readings().map(({ receivedAt: _at, ...reading }) => reading),
    dispose: async () => undefined,
  };
});

rejectSinkContract('InMemoryRejectSink', async () => {
  const sink = new InMemoryRejectSink();
  return { sink, kept: async () => [...sink.messages], dispose: async () => undefined };
});

alarmStateStoreContract('InMemoryAlarmStateStore', async () => ({
  store: new InMemoryAlarmStateStore(),
  dispose: async () => undefined,
}));

alarmNotifierContract(
  'RecordingNotifier',
  async () => {
    const notifier = new RecordingNotifier();
    return { notifier, received: async () => [...notifier.events], dispose: async () => undefined };
  },
  { recordsOnce: false },
);

alarmHistoryContract('InMemoryAlarmHistory + InMemoryAlarmReader', async () => {
  const states = new InMemoryAlarmStateStore();
  const history = new InMemoryAlarmHistory();
  return { states, history, reader: new InMemoryAlarmReader(states, history, HISTORY_CONTRACT_RULES), dispose: async () => undefined };
});
