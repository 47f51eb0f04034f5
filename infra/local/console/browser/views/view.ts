/// <reference lib="dom" />
import type { Live } from '../live.js';
import { h, replace } from '../dom.js';
import { ApiError } from '../api.js';

/** What a view gets from the shell. */
export interface ViewContext {
  readonly root: HTMLElement;
  readonly live: Live;
}

/** A mounted view; the shell disposes it before mounting the next. */
export interface View {
  dispose(): void;
}

/** Shows a failed load in place of the view's content. */
export function showError(target: HTMLElement, error: unknown): void {
  const message = error instanceof ApiError ? `${error.message} (HTTP ${error.status})` : String(error);
  replace(target, h('div', { class: 'error', role: 'alert' }, `Could not load: ${message}`));
}

/** Runs `task` at most once per `ms`, and once more after the last call in a burst. */
export function throttle(task: () => void, ms: number): { (): void; cancel(): void } {
  let timer: number | undefined;
  let last = 0;
  const run = () => {
    timer = undefined;
    last = Date.now();
    task();
  };
  const call = () => {
    if (timer !== undefined) return;
    timer = window.setTimeout(run, Math.max(0, last + ms - Date.now()));
  };
  call.cancel = () => window.clearTimeout(timer);
  return call;
}
