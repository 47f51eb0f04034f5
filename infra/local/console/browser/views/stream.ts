/// <reference lib="dom" />
/** The stream's shards and each consumer's lag, and the rejected messages with their reasons. */
import { getJson, type IntakeStatus, type RejectRow, type StreamDescription } from '../api.js';
import { badge, deviceHref, formatNumber, formatTime, h, replace, table } from '../dom.js';
import { showError, throttle, type View, type ViewContext } from './view.js';

/** Characters of a payload shown in the table (the API has it whole). */
const PAYLOAD_SHOWN = 300;

export function streamView(ctx: ViewContext): View {
  const stream = h('div', {});
  const intake = h('div', { class: 'panel', 'data-testid': 'intake' });
  const rejects = h('div', { class: 'panel' });
  replace(ctx.root, h('h2', {}, 'Stream & rejects'), intake, stream, rejects);

  let disposed = false;
  const loadStream = async () => {
    try {
      const [d, i] = await Promise.all([getJson<StreamDescription>('/api/stream'), getJson<IntakeStatus>('/api/intake')]);
      if (!disposed) {
        replace(stream, ...streamPanels(d));
        replace(intake, ...intakePanel(i));
      }
    } catch (error) {
      if (!disposed) showError(stream, error);
    }
  };
  const loadRejects = async () => {
    try {
      const data = await getJson<{ rejects: RejectRow[] }>('/api/rejects', { limit: 200 });
      if (!disposed) replace(rejects, h('h3', {}, 'Rejected messages (newest 200)'), h('div', { class: 'scroll' }, rejectsTable(data.rejects)));
    } catch (error) {
      if (!disposed) showError(rejects, error);
    }
  };
  const reloadRejects = throttle(() => void loadRejects(), 1_000);
  ctx.live.use({ overview: () => void loadStream(), rejects: reloadRejects });
  void loadStream();
  void loadRejects();
  return {
    dispose() {
      disposed = true;
      reloadRejects.cancel();
    },
  };
}

function streamPanels(d: StreamDescription): HTMLElement[] {
  return [
    h(
      'div',
      { class: 'panel' },
      h('h3', {}, `Stream ${d.streamName}`),
      h('p', { class: 'note' }, `${d.shardCount} shards, retention ${d.retentionHours} h, ${d.failures} record(s) in the on-failure destination`),
      table(
        [
          { title: 'Shard', cell: (s) => h('code', {}, s.shardId) },
          { title: 'Hash keys', cell: (s) => h('code', { title: `${s.hashKeyRange.startingHashKey} - ${s.hashKeyRange.endingHashKey}` }, `${short(s.hashKeyRange.startingHashKey)} - ${short(s.hashKeyRange.endingHashKey)}`) },
          { title: 'Records held', className: 'num', cell: (s) => String(s.records) },
          { title: 'First sequence number', cell: (s) => h('code', {}, s.firstSequenceNumber ?? '-') },
          { title: 'Last sequence number', cell: (s) => h('code', {}, s.lastSequenceNumber ?? '-') },
          { title: 'Newest arrival', cell: (s) => formatTime(s.newestArrival) },
        ],
        d.shards,
        { empty: 'No shards.', testId: 'shards' },
      ),
    ),
    h(
      'div',
      { class: 'panel' },
      h('h3', {}, 'Consumers'),
      table(
        [
          { title: 'Consumer', cell: (c) => h('strong', {}, c.consumer) },
          { title: 'Lag (records)', className: 'num', cell: (c) => badge(String(c.lagRecords), c.lagRecords === 0 ? 'OK' : 'warning') },
          { title: 'Lag (time)', className: 'num', cell: (c) => `${formatNumber(c.lagMs / 1000, 1)} s` },
          { title: 'Failures', className: 'num', cell: (c) => String(c.failures) },
          { title: 'Per shard (records behind)', cell: (c) => c.shards.map((s) => `${s.shardId.replace('shardId-', '')}: ${s.lagRecords}`).join(', ') },
        ],
        d.consumers,
        { empty: 'No consumer has checkpointed yet.', testId: 'consumers' },
      ),
    ),
  ];
}

const MiB = 1024 * 1024;

/** The free-space headroom (accepting or refusing telemetry) and the broker's connection counters. */
function intakePanel(i: IntakeStatus): HTMLElement[] {
  const f = i.freeSpace;
  const c = i.broker.connections;
  const disk =
    f === null
      ? h('p', { 'data-testid': 'headroom' }, 'Free-space headroom off (--min-free 0).')
      : h(
          'p',
          { 'data-testid': 'headroom' },
          f.engaged ? badge('refusing telemetry', 'critical') : badge('accepting telemetry', 'OK'),
          ` ${formatNumber(f.freeBytes / MiB, 1)} MiB free on the data directory's file system, headroom ${formatNumber(f.minFreeBytes / MiB, 1)} MiB; engaged ${f.engagements} time(s), ${f.refused} message(s) refused.`,
        );
  return [
    h('h3', {}, 'Intake'),
    disk,
    h(
      'p',
      { 'data-testid': 'connections' },
      `${i.broker.connected} connected, ${c.unauthenticated} authenticating, ${c.waiting} waiting for a slot; ` +
        `${c.refusedOverConnectionCap} refused over the connection cap, ${c.refusedPackets} closed for an oversized packet; ` +
        `CONNECTs ${i.broker.connectsAccepted} accepted, ${i.broker.connectsRefused} refused, ${i.broker.connectsDelayed} delayed after failures.`,
    ),
  ];
}

function rejectsTable(rows: readonly RejectRow[]): HTMLElement {
  return table(
    [
      { title: 'Rejected at', cell: (r) => formatTime(r.rejectedAt) },
      { title: 'Device', cell: (r) => (r.deviceId === null ? h('span', { class: 'muted' }, 'unknown') : h('a', { href: deviceHref(r.deviceId) }, r.deviceId)) },
      { title: 'Stage', cell: (r) => r.stage },
      { title: 'Reason', cell: (r) => r.reason },
      {
        title: 'Payload',
        className: 'payload',
        cell: (r) => h('code', { title: r.payloadEncoding === 'base64' ? 'binary, shown as base64' : null }, r.payload.length > PAYLOAD_SHOWN ? `${r.payload.slice(0, PAYLOAD_SHOWN)}…` : r.payload),
      },
      { title: 'Record', cell: (r) => h('code', { title: r.record.sequenceNumber }, `${r.record.shardId.replace('shardId-', '')} / …${r.record.sequenceNumber.slice(-6)}`) },
    ],
    rows,
    { empty: 'No rejected messages.', testId: 'rejects' },
  );
}

function short(hashKey: string): string {
  return hashKey.length > 12 ? `${hashKey.slice(0, 6)}…${hashKey.slice(-4)}` : hashKey;
}
