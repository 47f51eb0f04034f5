/// <reference lib="dom" />
/** Alarms: active and past, filtered by severity and device, with acknowledge (who and when). */
import { getJson, type AlarmsResponse } from '../api.js';
import { h, replace } from '../dom.js';
import { ackName, activeTable, historyTable, setAckName } from './alarm-tables.js';
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
  const name = h('input', { type: 'text', maxlength: 64, 'aria-label': 'Acknowledge as', 'data-testid': 'ack-name' });
  name.value = ackName();
  name.addEventListener('change', () => setAckName(name.value.trim() || 'operator'));
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
      h('label', {}, 'Acknowledge as', name),
    ),
    active,
    history,
  );

  let disposed = false;
  const load = async () => {
    try {
      const data = await getJson<AlarmsResponse>('/api/alarms', { severity: severity.value, device: device.value.trim() });
      if (disposed) return;
      replace(active, h('h3', {}, `Active (${data.active.length})`), activeTable(data.active, { onAcked: () => void load(), showDevice: true }));
      replace(history, h('h3', {}, 'History'), h('div', { class: 'scroll' }, historyTable(data.transitions, { showDevice: true })));
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
