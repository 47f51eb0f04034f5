/** The local console: a live fleet dashboard served by `npm start` (see server.ts). */
export { startConsole } from './server.js';
export type { ConsoleOptions, ConsoleServer } from './server.js';
export { ConsoleConfigError, ConsoleError, ConsoleRequestError } from './errors.js';
export type { AlarmFilter, AlarmRow } from './console-db.js';
export type { DeviceStatus, DeviceSummary, FleetOverview, FleetTotals } from './fleet.js';
export type { LiveReading } from './live-feed.js';
