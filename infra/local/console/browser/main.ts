/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The console page: a header with the four views, and the view the URL fragment names
 * (`#/fleet`, `#/device/<id>`, `#/alarms?severity=&device=`, `#/stream`).
 */
import { h, replace } from './dom.js';
import { Live } from './live.js';
import { alarmsView } from './views/alarms.js';
import { deviceView } from './views/device.js';
import { fleetView } from './views/fleet.js';
import { streamView } from './views/stream.js';
import type { View } from './views/view.js';

const NAV = [
  { href: '#/fleet', label: 'Fleet', section: 'fleet' },
  { href: '#/alarms', label: 'Alarms', section: 'alarms' },
  { href: '#/stream', label: 'Stream & rejects', section: 'stream' },
] as const;

function start(): void {
  const app = document.getElementById('app') as HTMLElement;
  const liveState = h('span', { class: 'live', 'data-testid': 'live-state' }, 'connecting');
  const links = NAV.map((n) => h('a', { href: n.href, 'data-section': n.section }, n.label));
  const root = h('main', { id: 'view' });
  replace(app, h('header', { class: 'top' }, h('h1', {}, 'Fleet console'), h('nav', { 'aria-label': 'Views' }, ...links), liveState), root);
  const live = new Live((connected) => {
    liveState.classList.toggle('on', connected);
    liveState.textContent = connected ? 'live' : 'reconnecting';
  });

  let current: View | undefined;
  const show = () => {
    current?.dispose();
    const [path = '', query = ''] = location.hash.replace(/^#/, '').split('?');
    const params = new URLSearchParams(query);
    const parts = path.split('/').filter((p) => p.length > 0);
    const ctx = { root, live };
    let section: string;
    if (parts[0] === 'device' && parts[1] !== undefined) {
      section = 'fleet';
      current = deviceView(ctx, safeDecode(parts.slice(1).join('/')));
    } else if (parts[0] === 'alarms') {
      section = 'alarms';
      current = alarmsView(ctx, { device: params.get('device') ?? undefined, severity: params.get('severity') ?? undefined });
    } else if (parts[0] === 'stream') {
      section = 'stream';
      current = streamView(ctx);
    } else {
      section = 'fleet';
      current = fleetView(ctx);
    }
    for (const link of links) {
      if (link.dataset.section === section) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    document.title = `${section === 'stream' ? 'Stream & rejects' : section[0]?.toUpperCase() + section.slice(1)} - Fleet console`;
  };
  window.addEventListener('hashchange', show);
  show();
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

start();
