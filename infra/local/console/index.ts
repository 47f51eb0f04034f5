/** The local console: a live fleet dashboard served by `npm start` (see server.ts). */
export { startConsole } from './server.js';
export type { ConsoleServer } from './server.js';
export { csvLine } from './csv.js';
export { intakeStatus } from './intake.js';
export type { IntakeStatus } from './intake.js';
export type { AlarmRow } from './console-db.js';
export type { DeviceSummary, FleetOverview } from './fleet.js';
export type { LiveReading } from './live-feed.js';
