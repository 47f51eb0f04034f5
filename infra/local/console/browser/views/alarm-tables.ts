/// <reference lib="dom" />
/**
 * The alarm tables shared by the Alarms view and the Device view: alarms not at rest with their
 * lifecycle state, who acted and why, and the commands that apply to each state; and the history of
 * transitions (reminders included) and commands. A command goes through the stack's command rule,
 * like an operator's on `cmd/fleet/alarms/{deviceId}`; its reply (accepted, or rejected with a
 * reason) is shown next to the button.
 */
import { postJson, type ActiveAlarmRow, type AlarmRow, type CommandRecord, type CommandResponse } from '../api.js';
import { badge, deviceHref, formatNumber, formatTime, h, table } from '../dom.js';

type Action = 'acknowledge' | 'snooze' | 'disable' | 'enable' | 'reset';

/** The commands offered in each state (issue 13's lifecycle: what applies there). */
const ACTIONS_BY_STATE: Readonly<Record<string, readonly Action[]>> = {
  ALARM: ['acknowledge', 'snooze', 'disable', 'reset'],
  LATCHED: ['acknowledge', 'snooze', 'disable', 'reset'],
  ACKNOWLEDGED: ['snooze', 'disable', 'reset'],
  SNOOZED: ['disable', 'reset'],
  DISABLED: ['enable'],
  OK: ['snooze', 'disable'],
};

const LABELS: Readonly<Record<Action, string>> = { acknowledge: 'Acknowledge', snooze: 'Snooze', disable: 'Disable', enable: 'Enable', reset: 'Reset' };

/** What the view's toolbar holds for the next command: its note and the snooze length. */
export interface CommandInputs {
  note(): string;
  snoozeSeconds(): number;
}

/** The note and snooze-length inputs of a view's toolbar. */
export function commandInputs(): { inputs: CommandInputs; controls: HTMLElement[] } {
  const note = h('input', { type: 'text', maxlength: 1000, placeholder: 'why (kept in the history)', 'aria-label': 'Note', 'data-testid': 'command-note' });
  const snooze = h(
    'select',
    { 'aria-label': 'Snooze for', 'data-testid': 'snooze-seconds' },
    ...[[300, '5 min'], [900, '15 min'], [3600, '1 h'], [28_800, '8 h']].map(([seconds, text]) => h('option', { value: seconds }, text)),
  );
  return {
    inputs: { note: () => note.value.trim(), snoozeSeconds: () => Number(snooze.value) },
    controls: [h('label', {}, 'Note', note), h('label', {}, 'Snooze for', snooze)],
  };
}

/** Sends one command and reports its reply; `done` runs after an accepted one. */
export function sendCommand(alarmId: string, action: Action, inputs: CommandInputs): Promise<CommandResponse> {
  const note = inputs.note();
  return postJson<CommandResponse>('/api/alarms/command', {
    alarmId,
    action,
    ...(note === '' ? {} : { note }),
    ...(action === 'snooze' ? { seconds: inputs.snoozeSeconds() } : {}),
  });
}

/** Alarms not at rest, each with its state, who acted and why, and the commands that apply. */
export function activeTable(rows: readonly ActiveAlarmRow[], options: { onCommand(): void; showDevice: boolean; inputs: CommandInputs }): HTMLElement {
  return table<ActiveAlarmRow>(
    [
      { title: 'Severity', cell: (a) => badge(a.severity, a.severity) },
      ...(options.showDevice ? [{ title: 'Device', cell: (a: ActiveAlarmRow) => h('a', { href: deviceHref(a.deviceId) }, a.deviceId) }] : []),
      { title: 'Rule', cell: (a) => a.ruleId },
      {
        title: 'State',
        cell: (a) => h('span', {}, stateBadge(a.state), a.snoozedUntil === null ? null : h('span', { class: 'muted', 'data-testid': 'snoozed-until' }, ` until ${formatTime(a.snoozedUntil)}`)),
      },
      { title: 'Value', className: 'num', cell: (a) => formatNumber(a.value) },
      { title: 'Threshold', className: 'num', cell: (a) => formatNumber(a.threshold) },
      { title: 'Since', cell: (a) => formatTime(a.ts) },
      { title: 'By', cell: (a) => whoAndWhy(a) },
      { title: 'Commands', cell: (a) => commandButtons(a, options) },
    ],
    rows,
    { empty: 'No alarms: every rule is at rest.', testId: 'active-alarms' },
  );
}

/** One line of the history: a transition (a reminder included) or a command. */
type HistoryItem = { readonly at: number; readonly transition: AlarmRow } | { readonly at: number; readonly command: CommandRecord };

/** Transitions and commands, newest first. */
export function historyTable(transitions: readonly AlarmRow[], commands: readonly CommandRecord[], options: { showDevice: boolean }): HTMLElement {
  const items: HistoryItem[] = [...transitions.map((t) => ({ at: t.ts, transition: t })), ...commands.map((c) => ({ at: c.at, command: c }))];
  items.sort((a, b) => b.at - a.at);
  const deviceOf = (i: HistoryItem) => ('transition' in i ? i.transition.deviceId : i.command.deviceId);
  return table<HistoryItem>(
    [
      { title: 'Time', cell: (i) => formatTime(i.at) },
      ...(options.showDevice ? [{ title: 'Device', cell: (i: HistoryItem) => h('a', { href: deviceHref(deviceOf(i)) }, deviceOf(i)) }] : []),
      { title: 'Rule', cell: (i) => ('transition' in i ? i.transition.ruleId : (i.command.ruleId ?? '-')) },
      { title: 'What', cell: (i) => ('transition' in i ? transitionText(i.transition) : commandText(i.command)) },
      { title: 'Value', className: 'num', cell: (i) => ('transition' in i ? formatNumber(i.transition.value) : '') },
      { title: 'By', cell: (i) => ('transition' in i ? whoAndWhy(i.transition) : byText(i.command.by, i.command.note)) },
    ],
    items,
    { empty: 'No transitions or commands recorded.', testId: 'alarm-history' },
  );
}

function stateBadge(state: string): HTMLElement {
  const b = badge(state, state);
  b.dataset.testid = 'alarm-state';
  return b;
}

function transitionText(t: AlarmRow): HTMLElement {
  const kind = t.reminder === true ? 'reminder' : t.action === null ? '' : t.action;
  return h(
    'span',
    { 'data-testid': t.reminder === true ? 'history-reminder' : 'history-transition' },
    `${t.previousState} → `,
    badge(t.state, t.state),
    kind === '' ? null : h('span', { class: 'muted' }, ` (${kind})`),
  );
}

function commandText(c: CommandRecord): HTMLElement {
  return h(
    'span',
    { 'data-testid': 'history-command' },
    `command ${c.action ?? '(unreadable)'}: `,
    badge(c.outcome, c.outcome === 'accepted' ? 'OK' : 'ALARM'),
    c.reason === null ? null : h('span', { class: 'muted' }, ` ${c.reason}`),
  );
}

function whoAndWhy(a: AlarmRow): HTMLElement | string {
  return a.by === null ? '' : byText(a.by, a.note);
}

function byText(by: string, note: string | null): HTMLElement {
  return h('span', { 'data-testid': 'alarm-by' }, by, note === null ? null : h('span', { class: 'muted' }, ` “${note}”`));
}

function commandButtons(a: AlarmRow, options: { onCommand(): void; inputs: CommandInputs }): HTMLElement {
  const status = h('span', { class: 'muted', role: 'status', 'data-testid': 'command-status' });
  const buttons = (ACTIONS_BY_STATE[a.state] ?? []).map((action) => {
    const button = h('button', { type: 'button', class: 'secondary', 'data-testid': `command-${action}`, 'aria-label': `${LABELS[action]} ${a.alarmId}` }, LABELS[action]);
    button.addEventListener('click', () => {
      for (const b of buttons) b.disabled = true;
      status.textContent = ' sending…';
      sendCommand(a.alarmId, action, options.inputs).then(
        (reply) => {
          status.textContent = ` ${reply.outcome}${reply.state === undefined ? '' : `: ${reply.state}`}`;
          options.onCommand();
        },
        (error: unknown) => {
          for (const b of buttons) b.disabled = false;
          status.textContent = ` refused: ${error instanceof Error ? error.message : String(error)}`;
        },
      );
    });
    return button;
  });
  return h('span', { class: 'commands' }, ...buttons, status);
}
