/**
 * The local console: a small node:http server on 127.0.0.1 that serves the fleet dashboard (one page,
 * bundled at run time) and its JSON API, live updates as server-sent events, and CSV export.
 *
 * Every route needs the access token (see auth.ts); the server listens on loopback only.
 *
 * Routes (all GET unless said):
 * - `/`                                   the page (views: `#/fleet`, `#/device/<id>`, `#/alarms`, `#/stream`)
 * - `/assets/console.js`, `/assets/console.css`
 * - `/api/overview?q=&limit=`             fleet totals, active alarms by severity, ingest rate, devices
 * - `/api/devices/<id>`                   one device: summary, active alarms, alarm history
 * - `/api/devices/<id>/readings?since=&until=&limit=`   readings, oldest first (default: the last hour)
 * - `/api/devices/<id>/readings.csv?since=&until=`      CSV export (default: the last hour)
 * - `/api/alarms?severity=a,b&device=&limit=`           active alarms and transition history
 * - POST `/api/alarms/command` `{ alarmId, action, note?, seconds? }`   an alarm command, through the
 *                                         command rule as an operator's (200 accepted, 409 rejected, 504 no reply)
 * - `/api/rejects?device=&limit=`         rejected messages with their reasons
 * - `/api/stream`                         shards, each consumer's lag, failures
 * - `/api/intake`                         the free-space headroom and the broker's connection counters
 * - `/api/events?device=`                 server-sent events: overview, readings, alarm, rejects, resync
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../../lambdas/ports/clock.js';
import type { Clock } from '../../../lambdas/ports/clock.js';
import type { Log } from '../../../lambdas/ports/observability.js';
import { SqliteReadingsReader } from '../../../lambdas/adapters/local/sqlite-readings-reader.js';
import type { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import type { ReadingsReader } from '../../../lambdas/ports/readings-reader.js';
import { METRIC } from '../../../lambdas/ports/observability.js';
import { checkTokenShape, generateToken, TokenGate } from './auth.js';
import { consoleAssets, type Asset } from './assets.js';
import { ConsoleDb } from './console-db.js';
import { writeReadingsCsv } from './csv.js';
import { ConsoleConfigError, ConsoleRequestError } from './errors.js';
import { FleetCache, IngestRate } from './fleet.js';
import { LiveFeed } from './live-feed.js';
import { shellPage, unauthorizedPage } from './pages.js';
import { deviceParam, parseCommandRequest, timeRange } from './params.js';
import { ConsoleReadApi, HOUR_MS } from './read-api.js';
import { NoCommandReplyError } from '../cli/alarm-command-client.js';
import type { CommandReply } from '../cli/alarm-command-client.js';
import type { AlarmCommand } from '../../../lambdas/domain/alarm-command.js';
import type { ConsoleSources } from './sources.js';
import type { IntakeStatus } from './intake.js';
import type { StreamDescription } from '../stream/index.js';
import type { DeviceInfo } from '../registry/index.js';

interface ConsoleOptions {
  /** The stack's store: the console reads it, and opens its own read connection to `store.file` for what its read side does not offer. */
  readonly store: ConsoleSources['store'] & Pick<SqliteStore, 'file'>;
  /** A device's chart readings through the read port. @default the local store's SqliteReadingsReader */
  readonly readingsReader?: ReadingsReader;
  readonly stream: { describe(): StreamDescription };
  readonly registry: { list(): DeviceInfo[]; get(deviceId: string): DeviceInfo | undefined };
  readonly metrics: { get(name: string): number };
  /** The rules in force now (they change when the thresholds file does). */
  readonly thresholds: ConsoleSources['thresholds'];
  /** 0 picks a free port. The console listens on 127.0.0.1 only. */
  readonly port: number;
  /** The access token. @default a new random 32-byte token, base64url */
  readonly token?: string;
  readonly log: Log;
  /** @default systemClock */
  readonly clock?: Clock;
  /** How often the live feed polls the store, ms. @default 500 */
  readonly pollIntervalMs?: number;
  /**
   * Sends an alarm command the way an operator's MQTT client does (the stack's command rule and
   * alarm-commands handler) and resolves with its reply. Absent: the console offers no commands (503).
   */
  readonly sendAlarmCommand?: (deviceId: string, command: AlarmCommand) => Promise<CommandReply>;
  /** The free-space headroom and the broker's connection counters. Absent: `/api/intake` answers 404. */
  readonly intake?: () => IntakeStatus;
}

export interface ConsoleServer {
  readonly port: number;
  readonly token: string;
  /** The console's address without the token. */
  readonly origin: string;
  /** The address to open: the console with `?token=` (sets the cookie, then drops it from the URL). */
  readonly url: string;
  /** Ends live streams and open connections, stops listening, closes the console's connection. */
  close(): Promise<void>;
}

/** Loopback only: the console is for the machine it runs on (the token guards it from local pages and processes). */
const HOST = '127.0.0.1';
/** Request bodies are tiny (an alarm command). */
const MAX_BODY_BYTES = 4 * 1024;
/** How stale the fleet list and overview may be (see FleetCache). */
const FLEET_MAX_AGE_MS = 1_000;

/**
 * Some defence in depth beside the token: scripts and styles only from this origin (no CDN, no inline
 * script), no framing, no referrer (a URL with the token never leaks), nothing cached.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
} as const;

/**
 * Starts the console.
 * @example
 * const console = await startConsole({ store, stream, registry, metrics, thresholds, port: 8080, log });
 * log.info('console', { url: console.url });
 * await console.close();
 */
export async function startConsole(options: ConsoleOptions): Promise<ConsoleServer> {
  const token = options.token === undefined ? generateToken() : checkTokenShape(options.token);
  const clock = options.clock ?? systemClock;
  const sources: ConsoleSources = { ...options, clock };
  const db = new ConsoleDb(options.store.file);
  const ingestRate = new IngestRate();
  const sampleRate = () => ingestRate.sample(clock.now(), options.metrics.get(METRIC.readingsStored));
  sampleRate();
  const sampler = setInterval(sampleRate, 1_000);
  sampler.unref();
  const fleet = new FleetCache(sources, FLEET_MAX_AGE_MS);
  const feed = new LiveFeed({ sources, db, ingestRate, fleet, ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}) });
  const api = new ConsoleReadApi({
    ...options,
    clock,
    db,
    fleet,
    feed,
    // A console over a deployed stack passes a DynamoDbReadingsReader (infra/aws/deployed-readings.ts).
    readingsReader: options.readingsReader ?? new SqliteReadingsReader(options.store),
  });
  // Start bundling now so the first page load does not wait for it; a failure is reported when served.
  consoleAssets().catch(() => undefined);

  // The request handler is attached once listening: the cookie's name needs the port.
  const server = createServer();
  const port = await listen(server, options.port).catch((error: unknown) => {
    clearInterval(sampler);
    db.close();
    throw new ConsoleConfigError(`console: cannot listen on ${HOST}:${options.port}`, { cause: error });
  });
  const gate = new TokenGate(token, port);
  const routes: Routes = { api, feed, db, clock, options };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res, gate, routes).catch((error: unknown) => fail(res, error, options.log));
  });
  const origin = `http://${HOST}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    port,
    token,
    origin,
    url: `${origin}/?token=${token}`,
    close: () =>
      (closing ??= (async () => {
        clearInterval(sampler);
        feed.close();
        await closeServer(server);
        db.close();
      })()),
  };
}

/** What the routes answer from. */
interface Routes {
  readonly api: ConsoleReadApi;
  readonly feed: LiveFeed;
  readonly db: ConsoleDb;
  readonly clock: Clock;
  readonly options: ConsoleOptions;
}

async function handle(req: IncomingMessage, res: ServerResponse, gate: TokenGate, routes: Routes): Promise<void> {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  const url = new URL(req.url ?? '/', 'http://console.invalid');
  const source = gate.check(req, url);
  if (source === undefined) return refuse(req, res, url);
  if (url.searchParams.has('token') && req.method === 'GET' && !url.pathname.startsWith('/api/')) {
    // A page load with the token in the URL (the cookie may already be there): keep it in a cookie,
    // and drop it from the address bar and history.
    url.searchParams.delete('token');
    res.writeHead(303, { location: `${url.pathname}${url.search}`, 'set-cookie': gate.setCookie() });
    res.end();
    return;
  }
  await route(req, res, url, routes);
}

async function route(req: IncomingMessage, res: ServerResponse, url: URL, { api, feed, db, clock, options }: Routes): Promise<void> {
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (path === '/api/alarms/command') {
    if (method !== 'POST') throw new ConsoleRequestError(405, 'use POST');
    return alarmCommand(req, res, options.sendAlarmCommand);
  }
  if (method !== 'GET' && method !== 'HEAD') throw new ConsoleRequestError(405, 'use GET');
  // Streams have no HEAD: there is no length to announce.
  if (method === 'HEAD' && (path === '/api/events' || path.endsWith('.csv'))) throw new ConsoleRequestError(405, 'use GET');
  const p = url.searchParams;
  if (path === '/' || path === '/index.html') return send(res, 200, 'text/html; charset=utf-8', shellPage({ title: 'Fleet console' }));
  if (path === '/assets/console.js') return sendAsset(req, res, (await consoleAssets()).script);
  if (path === '/assets/console.css') return sendAsset(req, res, (await consoleAssets()).style);
  if (path === '/api/overview') return json(res, api.overview(p));
  if (path === '/api/alarms') return json(res, await api.alarms(p));
  if (path === '/api/rejects') return json(res, api.rejects(p));
  if (path === '/api/stream') return json(res, options.stream.describe());
  if (path === '/api/intake' && options.intake !== undefined) return json(res, options.intake());
  if (path === '/api/events') {
    feed.attach(res, deviceParam(p.get('device')));
    return;
  }
  const device = /^\/api\/devices\/([^/]+)(\/readings(?:\.csv)?)?$/.exec(path);
  if (device) {
    const deviceId = deviceParam(decodeSegment(device[1] as string), 'device id') as string;
    const now = clock.now();
    if (device[2] === '/readings.csv') {
      return writeReadingsCsv(db, { deviceId, ...timeRange(p, { since: now - HOUR_MS, until: now + 1 }) }, res);
    }
    if (device[2] === '/readings') return json(res, await api.readings(deviceId, p, now));
    return json(res, await api.deviceDetail(deviceId, p));
  }
  throw new ConsoleRequestError(404, 'no such route');
}

async function alarmCommand(req: IncomingMessage, res: ServerResponse, sendAlarmCommand: ConsoleOptions['sendAlarmCommand']): Promise<void> {
  // A form on another site cannot send application/json without a CORS preflight, which this server
  // never grants; SameSite=Strict already keeps the cookie off such requests.
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new ConsoleRequestError(415, 'send application/json');
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) throw new ConsoleRequestError(403, 'cross-origin request refused');
  const { deviceId, command } = parseCommandRequest(await readJsonBody(req));
  if (sendAlarmCommand === undefined) throw new ConsoleRequestError(503, 'alarm commands are not available in this console');
  let reply: CommandReply;
  try {
    reply = await sendAlarmCommand(deviceId, command);
  } catch (error) {
    if (error instanceof NoCommandReplyError) throw new ConsoleRequestError(504, error.message, { cause: error });
    throw error;
  }
  if (reply.outcome === 'accepted') return json(res, { outcome: reply.outcome, ...reply.body });
  json(res, { outcome: reply.outcome, ...reply.body, error: reply.body.reason ?? 'refused' }, 409);
}

function refuse(req: IncomingMessage, res: ServerResponse, url: URL): void {
  res.setHeader('www-authenticate', 'Bearer realm="fleet-telemetry console"');
  // Drain any body so the connection stays usable.
  req.resume();
  if (url.pathname.startsWith('/api/')) json(res, { error: 'token required' }, 401);
  else send(res, 401, 'text/html; charset=utf-8', unauthorizedPage());
}

/** Listens on loopback; resolves with the port (`port` 0 picks a free one). */
function listen(server: Server, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (cause) {
    throw new ConsoleRequestError(400, 'device id: bad percent-encoding', { cause });
  }
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ConsoleRequestError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (cause) {
    throw new ConsoleRequestError(400, 'body: not JSON', { cause });
  }
}

function json(res: ServerResponse, value: unknown, status = 200): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function send(res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset): void {
  // Revalidated on every load (no-store is set for the token's sake), answered 304 when unchanged.
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, { etag: asset.etag });
    res.end();
    return;
  }
  res.setHeader('etag', asset.etag);
  send(res, 200, asset.contentType, asset.body);
}

function fail(res: ServerResponse, error: unknown, log: Log): void {
  const known = error instanceof ConsoleRequestError;
  if (!known) log.error('console request failed', { error });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  json(res, { error: known ? error.message : 'internal error (see the stack\'s log)' }, known ? error.status : 500);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive sockets would hold close() open; streams were ended by the feed already.
    server.closeAllConnections();
  });
}
