/**
 * Thresholds without a restart, locally: the watched file's valid changes are applied to the rules in
 * force and logged with the rules added, changed and removed; a file that does not validate is refused
 * with its reason (file, rule and field) and the rules in force stay.
 */
import type { Log } from '../../../lambdas/ports/observability.js';
import type { ThresholdRules } from '../../../lambdas/domain/thresholds.js';
import type { ThresholdsDiff } from '../../../lambdas/domain/thresholds-diff.js';
import type { FileChangesOptions } from './file-changes.js';
import { ThresholdsWatcher } from './thresholds-watcher.js';
import type { ThresholdsFileOutcome } from './thresholds-watcher.js';

export interface ThresholdsReloadOptions extends FileChangesOptions {
  readonly file: string;
  /** The rules in force at start (read from `file`). */
  readonly rules: ThresholdRules;
  /** Puts new rules in force everywhere they are read; resolves once they are. */
  readonly apply: (rules: ThresholdRules, diff: ThresholdsDiff) => Promise<void>;
  readonly log: Log;
}

export interface ThresholdsReload {
  /** Stops watching (a reload under way still finishes). */
  close(): Promise<void>;
}

/** Watches `file` and applies each valid change (see the module comment). */
export function startThresholdsReload(options: ThresholdsReloadOptions): ThresholdsReload {
  const { file, log } = options;
  const onOutcome = async (outcome: ThresholdsFileOutcome): Promise<void> => {
    if (outcome.kind === 'refused') {
      log.warn('thresholds file refused; the rules in force stay', { file, reason: outcome.reason });
      return;
    }
    if (outcome.kind === 'unchanged') {
      log.info('thresholds file changed, but no rule did', { file });
      return;
    }
    const { added, changed, removed, kindChanged } = outcome.diff;
    try {
      await options.apply(outcome.rules, outcome.diff);
    } catch (error) {
      log.error('thresholds reload failed', { file, error: String(error) });
      return;
    }
    // A rule whose kind changed starts from OK: say so, since its alarm does not carry over.
    log.info('thresholds reloaded', { file, added, changed, removed, ...(kindChanged.length === 0 ? {} : { startedAfresh: kindChanged }) });
  };
  const watcher = new ThresholdsWatcher({ ...options, onOutcome });
  watcher.start();
  return { close: () => watcher.close() };
}
