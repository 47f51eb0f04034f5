/// <reference lib="dom" />
/**
 * One device: a live chart per metric over the last hour (uPlot), its alarms, and CSV export of any
 * range. History comes from the API; new readings arrive on the event stream and are merged in by
 * (ts, seq), so the overlap between the two is drawn once.
 */
import uPlot from 'uplot';
import { devicePath, getJson, type DeviceResponse, type LiveReading, type ReadingsResponse } from '../api.js';
import { badge, formatAgo, formatNumber, formatTime, h, replace, toLocalInput } from '../dom.js';
import { metricValue } from '../../metric-value.js';
import { activeTable, commandInputs, historyTable } from './alarm-tables.js';
import { showError, throttle, type View, type ViewContext } from './view.js';

const WINDOW_MS = 3_600_000;
const PALETTE = ['#0b4f8a', '#a4161a', '#1e6b34', '#6b3fa0', '#b23c00', '#2f5d8a'];

interface Chart {
  readonly plot: uPlot;
  readonly latest: HTMLElement;
  readonly box: HTMLElement;
}

export function deviceView(ctx: ViewContext, deviceId: string): View {
  const head = h('div', { class: 'device-head' }, h('h2', {}, deviceId));
  const charts = h('div', { class: 'charts', 'data-testid': 'charts' });
  const chartNote = h('p', { class: 'note' });
  const alarms = h('div', {});
  // Made once: a reload of the alarms keeps what was typed.
  const commands = commandInputs();
  replace(ctx.root, head, h('h3', {}, 'Last hour'), charts, chartNote, exportPanel(deviceId), alarms);

  let disposed = false;
  const live = liveCharts(charts);

  const loadReadings = async () => {
    try {
      const data = await getJson<ReadingsResponse>(devicePath(deviceId, '/readings'), { since: Date.now() - WINDOW_MS });
      if (disposed) return;
      live.merge(data.readings);
      chartNote.textContent = data.truncated ? `Showing the newest ${data.readings.length} readings of the hour.` : '';
    } catch (error) {
      if (!disposed) showError(charts, error);
    }
  };

  const loadDevice = async () => {
    try {
      const data = await getJson<DeviceResponse>(devicePath(deviceId));
      if (disposed) return;
      showDevice(data, { head, alarms, commands, onCommand: () => void loadDevice() });
    } catch (error) {
      if (!disposed) showError(alarms, error);
    }
  };
  const reloadDevice = throttle(() => void loadDevice(), 1_000);

  // Subscribe first, then load the history: nothing falls between the two (duplicates merge by key).
  ctx.live.use(
    {
      readings: (event) => {
        if (event.deviceId !== deviceId) return;
        live.merge(event.readings);
        reloadDevice();
      },
      resync: (event) => {
        if (event.deviceId === deviceId) void loadReadings();
      },
      alarm: (event) => {
        if (event.deviceId === deviceId) reloadDevice();
      },
      overview: () => reloadDevice(),
    },
    deviceId,
  );
  void loadReadings();
  void loadDevice();

  return {
    dispose() {
      disposed = true;
      reloadDevice.cancel();
      live.dispose();
    },
  };
}

/** The device's head (status, type, last seen) and its alarms, from the API's answer. */
function showDevice(
  data: DeviceResponse,
  into: { head: HTMLElement; alarms: HTMLElement; commands: ReturnType<typeof commandInputs>; onCommand(): void },
): void {
  const d = data.device;
  const status = badge(d.status === 'never-seen' ? 'never seen' : d.status, d.status);
  status.dataset.testid = 'device-status';
  replace(
    into.head,
    h('h2', { 'data-testid': 'device-id' }, d.deviceId),
    status,
    h('span', { class: 'muted' }, `type ${d.type ?? '-'}`),
    h('span', { class: 'muted', title: formatTime(d.lastSeen) }, `last seen ${formatAgo(d.lastSeen, Date.now())}`),
  );
  replace(
    into.alarms,
    h('div', { class: 'panel' }, h('h3', {}, 'Alarms not at rest'), h('div', { class: 'toolbar' }, ...into.commands.controls), activeTable(data.active, { onCommand: into.onCommand, showDevice: false, inputs: into.commands.inputs })),
    h('div', { class: 'panel' }, h('h3', {}, 'Alarm history'), h('div', { class: 'scroll' }, historyTable(data.transitions, data.commands, { showDevice: false }))),
  );
}

/** CSV export of any range, the last hour by default. */
function exportPanel(deviceId: string): HTMLElement {
  const since = h('input', { type: 'datetime-local', 'aria-label': 'Export from' });
  const until = h('input', { type: 'datetime-local', 'aria-label': 'Export until' });
  const exportLink = h('a', { class: 'button', 'data-testid': 'csv-link', download: '' }, 'Download CSV');
  const now0 = Date.now();
  since.value = toLocalInput(now0 - WINDOW_MS);
  until.value = toLocalInput(now0 + 60_000);
  const updateExport = () => {
    const from = new Date(since.value).getTime();
    const to = new Date(until.value).getTime();
    const params = new URLSearchParams();
    if (Number.isFinite(from)) params.set('since', String(from));
    if (Number.isFinite(to)) params.set('until', String(to));
    exportLink.setAttribute('href', `${devicePath(deviceId, '/readings.csv')}?${params.toString()}`);
  };
  since.addEventListener('change', updateExport);
  until.addEventListener('change', updateExport);
  updateExport();
  return h('div', { class: 'panel' }, h('h3', {}, 'Export readings (CSV)'), h('div', { class: 'toolbar' }, h('label', {}, 'From', since), h('label', {}, 'Until', until), exportLink));
}

interface LiveCharts {
  /** Adds readings (from the API or the event stream; the same (ts, seq) is kept once) and redraws. */
  merge(readings: readonly LiveReading[]): void;
  dispose(): void;
}

/** A chart per metric over the last hour in `charts`, redrawn at most every 250 ms. */
function liveCharts(charts: HTMLElement): LiveCharts {
  let disposed = false;
  const byKey = new Map<string, LiveReading>();
  const chartsByMetric = new Map<string, Chart>();

  const render = throttle(() => {
    if (disposed) return;
    const cutoff = Date.now() - WINDOW_MS;
    for (const [key, r] of byKey) if (r.ts < cutoff) byKey.delete(key);
    const rows = [...byKey.values()].sort((a, b) => a.ts - b.ts || (a.seq ?? -1) - (b.seq ?? -1));
    const metrics = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))].sort();
    if (metrics.length === 0) {
      replace(charts, h('p', { class: 'muted', 'data-testid': 'no-readings' }, 'No readings in the last hour.'));
      chartsByMetric.clear();
      return;
    }
    if (chartsByMetric.size === 0) charts.replaceChildren();
    const xs = rows.map((r) => r.ts / 1000);
    metrics.forEach((metric, i) => {
      const ys = rows.map((r) => metricValue(r.metrics, metric) ?? null);
      const chart = chartsByMetric.get(metric) ?? addChart(charts, metric, PALETTE[i % PALETTE.length] as string);
      chartsByMetric.set(metric, chart);
      chart.plot.setData([xs, ys] as uPlot.AlignedData);
      let last = ys.length - 1;
      while (last >= 0 && ys[last] === null) last--;
      if (last >= 0) {
        // The legend shows the newest value until the pointer hovers a point.
        chart.plot.setLegend({ idx: last });
        chart.latest.textContent = `latest ${formatNumber(ys[last])} at ${formatTime(rows[last]?.ts)}`;
      }
      chart.box.dataset.points = String(ys.filter((y) => y !== null).length);
      chart.box.dataset.last = last >= 0 ? String(ys[last]) : '';
    });
  }, 250);

  const onResize = throttle(() => {
    for (const chart of chartsByMetric.values()) chart.plot.setSize(sizeOf(chart.box));
  }, 200);
  window.addEventListener('resize', onResize);

  return {
    merge(readings) {
      for (const r of readings) byKey.set(`${r.ts}/${r.seq ?? ''}`, r);
      render();
    },
    dispose() {
      disposed = true;
      render.cancel();
      onResize.cancel();
      window.removeEventListener('resize', onResize);
      for (const chart of chartsByMetric.values()) chart.plot.destroy();
    },
  };
}

function addChart(parent: HTMLElement, metric: string, stroke: string): Chart {
  const latest = h('span', { class: 'latest', 'data-testid': `latest-${metric}` });
  const plotBox = h('div', { class: 'plot' });
  const box = h('section', { class: 'chart', 'data-testid': `chart-${metric}`, 'data-metric': metric, 'aria-label': `${metric}, last hour` }, h('h3', {}, metric, latest), plotBox);
  parent.appendChild(box);
  const plot = new uPlot(
    {
      ...sizeOf(box),
      series: [
        { label: 'time', value: (_u, v) => (v === null ? '-' : formatTime(v * 1000)) },
        { label: metric, stroke, width: 2, spanGaps: true, points: { size: 5 }, value: (_u, v) => formatNumber(v) },
      ],
      axes: [{ stroke: '#4d5561', grid: { stroke: '#e6e8eb' } }, { stroke: '#4d5561', grid: { stroke: '#e6e8eb' }, size: 60 }],
      scales: { x: { time: true } },
      cursor: { drag: { x: true, y: false } },
    },
    [[], []],
    plotBox,
  );
  return { plot, latest, box };
}

function sizeOf(box: HTMLElement): { width: number; height: number } {
  return { width: Math.max(300, box.clientWidth - 24), height: 180 };
}
