/** The use cases: a batch (or a tick) in, the records a retry can fix out. */
export type { StoreReadingsDeps } from './store-readings.js';
export { storeReadings } from './store-readings.js';
export type { EvaluateAlarmsDeps } from './evaluate-alarms.js';
export { evaluateAlarms } from './evaluate-alarms.js';
export type { CheckSilenceDeps, SilenceCheckOutcome } from './check-silence.js';
export { checkSilence } from './check-silence.js';
