/// <reference lib="dom" />
/** Fleet overview: totals, active alarms by severity, ingest rate, and every device's status. */
import { getJson, type FleetOverview, type OverviewResponse } from '../api.js';
import { badge, deviceHref, formatAgo, formatNumber, formatTime, h, replace, table } from '../dom.js';
import { showError, throttle, type View, type ViewContext } from './view.js';

const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;
const SHOWN = 500;

export function fleetView(ctx: ViewContext): View {
  const cards = h('div', { class: 'cards', 'data-testid': 'fleet-cards' });
  const search = h('input', { type: 'search', placeholder: 'device id or type', 'aria-label': 'Filter devices' });
  const list = h('div', { class: 'panel' });
  const count = h('span', { class: 'muted' });
  replace(
    ctx.root,
    h('h2', {}, 'Fleet'),
    cards,
    h('div', { class: 'toolbar' }, h('label', {}, 'Filter', search), count),
    list,
  );

  let disposed = false;
  const load = async () => {
    try {
      const data = await getJson<OverviewResponse>('/api/overview', { q: search.value.trim(), limit: SHOWN });
      if (disposed) return;
      renderCards(cards, data);
      count.textContent = data.matched > data.devices.length ? `showing ${data.devices.length} of ${data.matched}` : `${data.matched} device${data.matched === 1 ? '' : 's'}`;
      replace(list, devicesTable(data));
    } catch (error) {
      if (!disposed) showError(list, error);
    }
  };
  const reload = throttle(() => void load(), 1_000);
  search.addEventListener('input', reload);
  ctx.live.use({
    overview: (overview) => {
      renderCards(cards, overview);
      reload();
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

function renderCards(cards: HTMLElement, o: FleetOverview): void {
  const totalActive = SEVERITIES.reduce((sum, s) => sum + o.activeAlarms[s], 0);
  replace(
    cards,
    card('Devices', o.totals.devices, 'devices'),
    card('Online', o.totals.online, 'online'),
    card('Silent', o.totals.silent, 'silent'),
    card('Never seen', o.totals.neverSeen, 'never-seen'),
    h(
      'div',
      { class: 'card', 'data-testid': 'card-alarms' },
      h('div', { class: 'label' }, 'Active alarms'),
      h('div', { class: 'value' }, String(totalActive)),
      h('div', { class: 'chips' }, ...SEVERITIES.map((s) => badge(`${s} ${o.activeAlarms[s]}`, o.activeAlarms[s] > 0 ? s : 'zero'))),
    ),
    h(
      'div',
      { class: 'card', 'data-testid': 'card-ingest' },
      h('div', { class: 'label' }, 'Ingest rate'),
      h('div', { class: 'value' }, formatNumber(o.ingestRate, 1)),
      h('div', { class: 'sub' }, `readings/s; ${o.readingsStored} stored since start`),
    ),
  );
}

function card(label: string, value: number, testId: string): HTMLElement {
  return h('div', { class: 'card', 'data-testid': `card-${testId}` }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, String(value)));
}

function devicesTable(data: OverviewResponse): HTMLElement {
  return table(
    [
      { title: 'Device', cell: (d) => h('a', { href: deviceHref(d.deviceId) }, d.deviceId) },
      { title: 'Type', cell: (d) => d.type ?? h('span', { class: 'muted' }, d.registered ? '-' : 'not registered') },
      { title: 'Status', cell: (d) => badge(d.status === 'never-seen' ? 'never seen' : d.status, d.status) },
      { title: 'Last seen', cell: (d) => h('span', { title: formatTime(d.lastSeen) }, formatAgo(d.lastSeen, data.now)) },
      { title: 'Silent after', className: 'num', cell: (d) => `${d.silentAfterSeconds} s` },
      {
        title: 'Active alarms',
        cell: (d) => (d.worstSeverity === null ? h('span', { class: 'muted' }, 'none') : badge(`${d.activeAlarms} (${d.worstSeverity})`, d.worstSeverity)),
      },
    ],
    data.devices,
    { empty: 'No devices yet. Add one with: npm run devices -- add sensor-0001 --type env-sensor', testId: 'devices' },
  );
}
