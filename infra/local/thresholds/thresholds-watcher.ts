/**
 * The local stack's thresholds file, watched: each time its content changes it is read and validated
 * with the same loader as at start, and the outcome is handed on: the new rules with what they add,
 * change and remove, or the reason the file was refused (the rules in force then stay). Checks run one
 * at a time, so outcomes arrive in the order the file went through its contents.
 */
import { readFile } from 'node:fs/promises';
import { parseThresholdsText, unreadableThresholdsFile } from '../../../lambdas/config/load-thresholds.js';
import type { ThresholdRules } from '../../../lambdas/domain/thresholds.js';
import type { ThresholdsDiff } from '../../../lambdas/domain/thresholds-diff.js';
import { diffThresholds, isEmptyDiff } from '../../../lambdas/domain/thresholds-diff.js';
import { watchFileChanges } from './file-changes.js';
import type { FileChanges, FileChangesOptions } from './file-changes.js';

export type ThresholdsFileOutcome =
  /** A valid file whose rules differ from those in force. */
  | { readonly kind: 'changed'; readonly rules: ThresholdRules; readonly diff: ThresholdsDiff }
  /** A valid file with other content but the same rules (reformatted, reordered, or back after a refusal). */
  | { readonly kind: 'unchanged'; readonly diff: ThresholdsDiff }
  /** Missing, unreadable, not JSON, or rules that do not validate: `reason` names the file, rule and field. */
  | { readonly kind: 'refused'; readonly reason: string };

export interface ThresholdsWatcherOptions extends FileChangesOptions {
  readonly file: string;
  /** The rules in force when the watch starts (read from `file` at start). */
  readonly rules: ThresholdRules;
  /** Called once per new content of the file; the next check waits for it to settle. */
  readonly onOutcome: (outcome: ThresholdsFileOutcome) => void | Promise<void>;
}

export class ThresholdsWatcher {
  private inForce: ThresholdRules;
  /** The content last checked; undefined before the first check and after a failed read. */
  private lastText: string | undefined;
  private firstCheck = true;
  private queue: Promise<void> = Promise.resolve();
  private queued = false;
  private changes: FileChanges | undefined;

  constructor(private readonly options: ThresholdsWatcherOptions) {
    this.inForce = options.rules;
  }

  /** Starts watching; the first check compares the file as it is now with the rules given. */
  start(): void {
    this.changes = watchFileChanges(this.options.file, () => void this.check(), this.options);
    void this.check();
  }

  /** Reads the file once more (after whatever check is running); resolves when that check has settled. */
  check(): Promise<void> {
    if (this.queued) return this.queue;
    this.queued = true;
    this.queue = this.queue.then(async () => {
      this.queued = false;
      await this.checkNow();
    });
    return this.queue;
  }

  /** Stops watching; a check under way still settles. */
  close(): Promise<void> {
    this.changes?.close();
    return this.queue;
  }

  private async checkNow(): Promise<void> {
    const { file } = this.options;
    const first = this.firstCheck;
    this.firstCheck = false;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      // Read again when it comes back, even with the same content: the refusal was logged.
      this.lastText = undefined;
      return this.hand({ kind: 'refused', reason: unreadableThresholdsFile(file, error).message });
    }
    if (text === this.lastText) return;
    this.lastText = text;
    let rules: ThresholdRules;
    try {
      rules = parseThresholdsText(text, file);
    } catch (error) {
      return this.hand({ kind: 'refused', reason: (error as Error).message });
    }
    const diff = diffThresholds(this.inForce, rules);
    if (isEmptyDiff(diff)) {
      // At start the file is expected to hold the rules in force: nothing to say.
      if (!first) await this.hand({ kind: 'unchanged', diff });
      return;
    }
    this.inForce = rules;
    await this.hand({ kind: 'changed', rules, diff });
  }

  private async hand(outcome: ThresholdsFileOutcome): Promise<void> {
    try {
      await this.options.onOutcome(outcome);
    } catch {
      // The receiver reports its own failures; the watch goes on.
    }
  }
}
