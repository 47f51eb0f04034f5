/// <reference lib="dom" />
/** The alarm tables shared by the Alarms view and the Device view, with the acknowledge action. */
import { postJson, type AckResponse, type AlarmRow } from '../api.js';
import { badge, deviceHref, formatNumber, formatTime, h, table } from '../dom.js';

/** Where the name typed in the Alarms view is remembered, so the next acknowledgement reuses it. */
const NAME_KEY = 'ft-console-ack-by';

export function ackName(): string {
  return localStorage.getItem(NAME_KEY) ?? 'operator';
}

export function setAckName(name: string): void {
  localStorage.setItem(NAME_KEY, name);
}

/** Active alarms, each with its acknowledgement or a button to acknowledge it. */
export function activeTable(rows: readonly AlarmRow[], options: { onAcked(): void; showDevice: boolean }): HTMLElement {
  return table<AlarmRow>(
    [
      { title: 'Severity', cell: (a) => badge(a.severity, a.severity) },
      ...(options.showDevice ? [{ title: 'Device', cell: (a: AlarmRow) => h('a', { href: deviceHref(a.deviceId) }, a.deviceId) }] : []),
      { title: 'Rule', cell: (a) => a.ruleId },
      { title: 'Metric', cell: (a) => a.metric ?? 'silence' },
      { title: 'Value', className: 'num', cell: (a) => formatNumber(a.value) },
      { title: 'Threshold', className: 'num', cell: (a) => formatNumber(a.threshold) },
      { title: 'Since', cell: (a) => formatTime(a.ts) },
      { title: 'Acknowledged', cell: (a) => ackCell(a, options.onAcked) },
    ],
    rows,
    { empty: 'No active alarms.', testId: 'active-alarms' },
  );
}

/** Transitions, newest first; an ALARM transition shows who acknowledged it. */
export function historyTable(rows: readonly AlarmRow[], options: { showDevice: boolean }): HTMLElement {
  return table<AlarmRow>(
    [
      { title: 'Time', cell: (a) => formatTime(a.ts) },
      ...(options.showDevice ? [{ title: 'Device', cell: (a: AlarmRow) => h('a', { href: deviceHref(a.deviceId) }, a.deviceId) }] : []),
      { title: 'Rule', cell: (a) => a.ruleId },
      { title: 'Severity', cell: (a) => badge(a.severity, a.severity) },
      { title: 'Transition', cell: (a) => h('span', {}, `${a.previousState} → `, badge(a.state, a.state)) },
      { title: 'Value', className: 'num', cell: (a) => formatNumber(a.value) },
      { title: 'Threshold', className: 'num', cell: (a) => formatNumber(a.threshold) },
      { title: 'Acknowledged', cell: (a) => (a.state === 'ALARM' ? ackText(a) : '') },
    ],
    rows,
    { empty: 'No transitions recorded.', testId: 'alarm-history' },
  );
}

function ackText(a: AlarmRow): HTMLElement {
  return a.ack === null
    ? h('span', { class: 'muted' }, 'no')
    : h('span', { class: 'acked', 'data-testid': 'ack-info' }, `by ${a.ack.by} at ${formatTime(a.ack.at)}`);
}

function ackCell(a: AlarmRow, onAcked: () => void): HTMLElement {
  if (a.ack !== null) return ackText(a);
  const button = h('button', { type: 'button', class: 'secondary', 'data-testid': 'ack-button', 'aria-label': `Acknowledge ${a.alarmId}` }, 'Acknowledge');
  const status = h('span', { class: 'muted', role: 'status' });
  button.addEventListener('click', () => {
    button.disabled = true;
    postJson<AckResponse>('/api/alarms/ack', { alarmId: a.alarmId, ts: a.ts, by: ackName() }).then(
      () => onAcked(),
      (error: unknown) => {
        button.disabled = false;
        status.textContent = ` failed: ${error instanceof Error ? error.message : String(error)}`;
      },
    );
  });
  return h('span', {}, button, status);
}
