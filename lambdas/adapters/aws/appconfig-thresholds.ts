/**
 * The threshold rules in force on AWS, read from AWS AppConfig through Powertools' AppConfigProvider
 * (docs/architecture.md, "Thresholds on AWS"). Every function instance refreshes them at most once a
 * minute; between refreshes, and whenever a refresh fails, it decides with the rules it has.
 *
 * A refresh that fails (AppConfig unreachable, throttled, access denied, nothing deployed) or reads
 * content that is not valid threshold rules keeps the last good rules, logs a warning with the reason
 * and counts METRIC.thresholdsRefreshFailed. Before anything good was read (a cold start while
 * AppConfig fails), the rules in force are those of the thresholds file bundled with the function,
 * which says so too (METRIC.thresholdsFromBundledFile).
 */
import { AppConfigProvider } from '@aws-lambda-powertools/parameters/appconfig';
import { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import { resolveFromTaskRoot } from '../../common/env.js';
import { THRESHOLDS_MAX_AGE_SECONDS, type ThresholdsEnvName } from '../../common/thresholds-env.js';
import { loadThresholdsFile } from '../../config/load-thresholds.js';
import type { ThresholdRules } from '../../domain/thresholds.js';
import { safeParseThresholds } from '../../domain/thresholds.js';
import type { Clock } from '../../ports/clock.js';
import { systemClock } from '../../ports/clock.js';
import type { Log, Metrics } from '../../ports/observability.js';
import { METRIC } from '../../ports/observability.js';
import type { ThresholdsSource } from '../../ports/thresholds-source.js';
import { awsClientConfig } from './client-config.js';

export { THRESHOLDS_MAX_AGE_SECONDS };

/** Where the rules live in AppConfig: the stack's outputs and the functions' environment name them. */
export interface AppConfigLocation {
  /** Application id (or name). */
  readonly application: string;
  /** Environment id (or name). */
  readonly environment: string;
  /** Configuration profile id (or name). */
  readonly profile: string;
}

export interface AppConfigThresholdsOptions extends AppConfigLocation {
  /** The AppConfig data-plane client (built with awsClientConfig, or a mocked one in tests). */
  readonly client: AppConfigDataClient;
  /** The bundled thresholds file's rules: in force until a good version was read from AppConfig. */
  readonly bundled: ThresholdRules;
  readonly log: Log;
  readonly metrics: Metrics;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default THRESHOLDS_MAX_AGE_SECONDS */
  readonly maxAgeSeconds?: number;
}

type RulesOrigin = 'appconfig' | 'bundled-file';

/** A ThresholdsSource over AppConfig: see the module comment. */
export class AppConfigThresholds implements ThresholdsSource {
  readonly #options: AppConfigThresholdsOptions;
  readonly #clock: Clock;
  readonly #maxAgeMs: number;
  #provider: AppConfigProvider;
  #inForce: ThresholdRules;
  #origin: RulesOrigin = 'bundled-file';
  /** The content last judged (Powertools hands back the same bytes while AppConfig says "unchanged"). */
  #judged: Uint8Array | undefined;
  /** Why the content last judged was refused, while it is still the deployed one. */
  #refusal: string | undefined;
  #nextRefreshAt = 0;

  constructor(options: AppConfigThresholdsOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#maxAgeMs = (options.maxAgeSeconds ?? THRESHOLDS_MAX_AGE_SECONDS) * 1000;
    this.#inForce = options.bundled;
    this.#provider = this.#newSession();
  }

  /** The rules in force, refreshed from AppConfig when the last refresh is older than the maximum age. */
  async current(): Promise<ThresholdRules> {
    const now = this.#clock.now();
    if (now < this.#nextRefreshAt) return this.#inForce;
    this.#nextRefreshAt = now + this.#maxAgeMs;
    let content: Uint8Array | undefined;
    try {
      // Our own schedule decides when to ask (forceFetch): a failed read is not cached by Powertools,
      // and must not be retried by every invocation until the next minute.
      content = await this.#provider.get(this.#options.profile, { maxAge: this.#maxAgeMs / 1000, forceFetch: true });
    } catch (error) {
      // A token the failed call may have used up would fail every later poll: start a new session.
      this.#provider = this.#newSession();
      this.#judged = undefined;
      this.#keep(`AppConfig could not be read: ${describeError(error)}`);
      return this.#inForce;
    }
    if (content === undefined || content.length === 0) {
      this.#keep('AppConfig has no configuration deployed to this environment');
    } else if (content !== this.#judged) {
      this.#judge(content);
    } else if (this.#refusal !== undefined) {
      this.#keep(this.#refusal, { quiet: true });
    } else if (this.#origin === 'bundled-file') {
      this.#countBundled();
    }
    return this.#inForce;
  }

  #newSession(): AppConfigProvider {
    const { application, environment, client } = this.#options;
    return new AppConfigProvider({ application, environment, awsSdkV3Client: client });
  }

  /** Takes a new deployed content as the rules in force, or refuses it with the reason. */
  #judge(content: Uint8Array): void {
    this.#judged = content;
    const parsed = parseContent(content);
    if (!parsed.success) {
      this.#refusal = `the deployed thresholds were refused: ${parsed.reason}`;
      this.#keep(this.#refusal);
      return;
    }
    this.#refusal = undefined;
    this.#inForce = parsed.rules;
    this.#origin = 'appconfig';
    this.#options.log.info('thresholds: the rules deployed in AppConfig are in force', {
      rules: parsed.rules.rules.length,
      profile: this.#options.profile,
    });
  }

  /**
   * Keeps deciding with the rules in force, and says so. `quiet`: the same refused content again
   * (counted on every refresh so that the alarm holds, logged once).
   */
  #keep(reason: string, { quiet = false }: { quiet?: boolean } = {}): void {
    this.#options.metrics.count(METRIC.thresholdsRefreshFailed);
    if (!quiet) {
      const kept = this.#origin === 'appconfig' ? 'the last good rules read from AppConfig' : "the bundled thresholds file's rules";
      this.#options.log.warn(`thresholds: kept ${kept}: ${reason}`, { rulesInForce: this.#origin, reason });
    }
    if (this.#origin === 'bundled-file') this.#countBundled();
  }

  #countBundled(): void {
    this.#options.metrics.count(METRIC.thresholdsFromBundledFile);
  }
}

type ParsedContent = { readonly success: true; readonly rules: ThresholdRules } | { readonly success: false; readonly reason: string };

function parseContent(content: Uint8Array): ParsedContent {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(content));
  } catch (error) {
    return { success: false, reason: `not valid JSON (${(error as Error).message})` };
  }
  const result = safeParseThresholds(json);
  return result.success ? { success: true, rules: result.data } : { success: false, reason: result.error.message };
}

/** The SDK error's name and message (Powertools wraps it in a GetParameterError whose cause is the SDK's). */
function describeError(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (!(cause instanceof Error)) return String(cause);
  return cause.name === 'Error' ? cause.message : `${cause.name}: ${cause.message}`;
}

/**
 * The rules source a composition root builds at cold start from its environment: AppConfig, with the
 * bundled file read (and validated, failing the cold start naming the rule and field) as the fallback.
 * One AppConfig attempt plus one retry per refresh: a refresh that fails keeps the rules in force and
 * is tried again a minute later, so more attempts would only hold the invocation longer.
 */
export function appConfigThresholdsFromEnv(
  env: Readonly<Record<ThresholdsEnvName, string>>,
  observability: { readonly log: Log; readonly metrics: Metrics },
): AppConfigThresholds {
  return new AppConfigThresholds({
    application: env.THRESHOLDS_APPCONFIG_APPLICATION,
    environment: env.THRESHOLDS_APPCONFIG_ENVIRONMENT,
    profile: env.THRESHOLDS_APPCONFIG_PROFILE,
    client: new AppConfigDataClient({ ...awsClientConfig(), maxAttempts: 2 }),
    bundled: loadThresholdsFile(resolveFromTaskRoot(env.THRESHOLDS_FILE)),
    ...observability,
  });
}
