/**
 * The console's browser code and styles, bundled from this repository at run time with esbuild (the
 * machines are offline: nothing comes from a CDN). Built once per process, on first use, and kept in
 * memory; every console in the process shares the build.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { ConsoleError } from './errors.js';

export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  /** Strong validator: a hash of the body. */
  readonly etag: string;
}

export interface ConsoleAssets {
  readonly script: Asset;
  readonly style: Asset;
}

/** The browser entry point: a plain TypeScript module, bundled with uPlot into one script. */
const ENTRY = fileURLToPath(new URL('./browser/main.ts', import.meta.url));
const STYLE = fileURLToPath(new URL('./static/console.css', import.meta.url));

let building: Promise<ConsoleAssets> | undefined;

/** The bundled assets; the first call builds them (a failed build is retried by the next call). */
export function consoleAssets(): Promise<ConsoleAssets> {
  building ??= build().catch((error: unknown) => {
    building = undefined;
    throw new ConsoleError('cannot bundle the console\'s browser code', { cause: error });
  });
  return building;
}

async function build(): Promise<ConsoleAssets> {
  // esbuild is loaded only here, so the rest of the stack runs without it.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    // Debian bookworm's chromium and any current browser; nothing older is supported.
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    legalComments: 'inline',
    logLevel: 'silent',
  });
  const js = result.outputFiles[0];
  if (js === undefined) throw new ConsoleError('esbuild produced no output');
  const require = createRequire(import.meta.url);
  const uplotCss = await readFile(require.resolve('uplot/dist/uPlot.min.css'));
  const ownCss = await readFile(STYLE);
  return {
    script: asset(Buffer.from(js.contents), 'text/javascript; charset=utf-8'),
    style: asset(Buffer.concat([uplotCss, Buffer.from('\n'), ownCss]), 'text/css; charset=utf-8'),
  };
}

function asset(body: Buffer, contentType: string): Asset {
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}
