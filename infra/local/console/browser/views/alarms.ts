/// <reference lib="dom" />
/**
 * Alarms: every alarm not at rest with its lifecycle state and the commands that apply, a form for
 * a command on any alarm (by device and rule: snoozing or disabling one at rest), and the history of
 * transitions, reminders and commands, filtered by severity and device.
 */
import { ApiError, getJson, type AlarmsResponse } from '../api.js';
import { h, replace } from '../dom.js';
import { activeTable, commandInputs, historyTable, sendCommand, type CommandInputs } from './alarm-tables.js';
import { showError, throttle, type View, type ViewContext } from './view.js';

const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;

export function alarmsView(ctx: ViewContext, initial: { device?: string; severity?: string }): View {
  const severity = h(
    'select',
    { 'aria-label': 'Severity', 'data-testid': 'filter-severity' },
    h('option', { value: '' }, 'all'),
    ...SEVERITIES.map((s) => h('option', { value: s }, s)),
  );
  severity.value = initial.severity ?? '';
  const device = h('input', { type: 'search', placeholder: 'exact device id', 'aria-label': 'Device', 'data-testid': 'filter-device' });
  device.value = initial.device ?? '';
  const { inputs, controls } = commandInputs();
  const active = h('div', { class: 'panel' });
  const history = h('div', { class: 'panel' });
  replace(
    ctx.root,
    h('h2', {}, 'Alarms'),
    h(
      'div',
      { class: 'toolbar' },
      h('label', {}, 'Severity', severity),
      h('label', {}, 'Device', device),
      ...controls,
    ),
    commandForm(inputs, () => void load()),
    active,
    history,
  );

  let disposed = false;
  const load = async () => {
    try {
      const data = await getJson<AlarmsResponse>('/api/alarms', { severity: severity.value, device: device.value.trim() });
      if (disposed) return;
      replace(active, h('h3', {}, `Not at rest (${data.active.length})`), activeTable(data.active, { onCommand: () => void load(), showDevice: true, inputs }));
      replace(history, h('h3', {}, 'History'), h('div', { class: 'scroll' }, historyTable(data.transitions, data.commands, { showDevice: true })));
    } catch (error) {
      if (!disposed) showError(active, error);
    }
  };
  const reload = throttle(() => void load(), 500);
  severity.addEventListener('change', reload);
  device.addEventListener('input', reload);
  // `alarm` events cover transitions as they happen; a late one (old event time) shows in the counts.
  let counts = '';
  ctx.live.use({
    alarm: reload,
    overview: (overview) => {
      const next = JSON.stringify(overview.activeAlarms);
      if (counts !== '' && next !== counts) reload();
      counts = next;
    },
  });
  void load();
  return {
    dispose() {
      disposed = true;
      reload.cancel();
    },
  };
}

/** The form for a command on any alarm, by its id: says how the command was answered. */
function commandForm(inputs: CommandInputs, onAccepted: () => void): HTMLElement {
  const alarmId = h('input', { type: 'text', placeholder: 'deviceId/ruleId', 'aria-label': 'Alarm', 'data-testid': 'command-alarm' });
  const action = h(
    'select',
    { 'aria-label': 'Command', 'data-testid': 'command-action' },
    ...(['acknowledge', 'snooze', 'disable', 'enable', 'reset'] as const).map((a) => h('option', { value: a }, a)),
  );
  const send = h('button', { type: 'button', 'data-testid': 'command-send' }, 'Send');
  const sent = h('span', { class: 'muted', role: 'status', 'data-testid': 'command-reply' });
  send.addEventListener('click', () => {
    send.disabled = true;
    sent.textContent = ' sending…';
    sendCommand(alarmId.value.trim(), action.value as 'acknowledge', inputs).then(
      (reply) => {
        send.disabled = false;
        sent.textContent = ` accepted${reply.state === undefined ? '' : `: ${reply.state}`}`;
        onAccepted();
      },
      (error: unknown) => {
        send.disabled = false;
        sent.textContent = ` ${error instanceof ApiError && error.status === 409 ? 'rejected' : 'failed'}: ${error instanceof Error ? error.message : String(error)}`;
      },
    );
  });
  return h('div', { class: 'toolbar' }, h('label', {}, 'Alarm', alarmId), h('label', {}, 'Command', action), send, sent);
}
