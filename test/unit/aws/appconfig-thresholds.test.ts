import {
  AppConfigDataClient,
  BadRequestException,
  GetLatestConfigurationCommand,
  InternalServerException,
  StartConfigurationSessionCommand,
  ThrottlingException,
} from '@aws-sdk/client-appconfigdata';
import { Uint8ArrayBlobAdapter } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AppConfigThresholds, THRESHOLDS_MAX_AGE_SECONDS } from '../../../lambdas/adapters/aws/appconfig-thresholds.js';
import { CapturingLog, CountingMetrics, FakeClock } from '../../../lambdas/adapters/memory/index.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import { METRIC } from '../../../lambdas/ports/observability.js';

const appConfig = mockClient(AppConfigDataClient);
const LOCATION = { application: 'abc1234', environment: 'env5678', profile: 'prof901' } as const;
const MAX_AGE_MS = THRESHOLDS_MAX_AGE_SECONDS * 1000;

const bundledFile = { rules: [{ id: 'bundled', metric: 'temperature', when: { above: 90 }, severity: 'major' }] };
const deployed = { rules: [{ id: 'overheat', metric: 'temperature', when: { above: 80 }, severity: 'critical' }] };
const changed = { rules: [{ id: 'overheat', metric: 'temperature', when: { above: 70 }, severity: 'critical' }] };

/** The body as the SDK hands it back (a Uint8Array with string helpers). */
function bytes(value: unknown): Uint8ArrayBlobAdapter {
  return Uint8ArrayBlobAdapter.fromString(typeof value === 'string' ? value : JSON.stringify(value));
}

/** A GetLatestConfiguration answer: the next token, and the content (absent when unchanged). */
function latest(token: string, content?: unknown) {
  return {
    NextPollConfigurationToken: token,
    NextPollIntervalInSeconds: 60,
    ContentType: 'application/json',
    ...(content === undefined ? { Configuration: Uint8ArrayBlobAdapter.fromString('') } : { Configuration: bytes(content) }),
  };
}

function source() {
  const clock = new FakeClock(1_764_028_800_000);
  const log = new CapturingLog();
  const metrics = new CountingMetrics();
  const thresholds = new AppConfigThresholds({
    ...LOCATION,
    client: new AppConfigDataClient({ region: 'eu-west-1' }),
    bundled: parseThresholds(bundledFile),
    log,
    metrics,
    clock,
  });
  return { thresholds, clock, log, metrics };
}

function ruleIds(rules: { rules: readonly { id: string }[] }): string[] {
  return rules.rules.map((rule) => rule.id);
}

function aboveBound(rules: Awaited<ReturnType<AppConfigThresholds['current']>>): unknown {
  const rule = rules.rules[0];
  return rule !== undefined && rule.kind === 'above' ? rule.when.above : undefined;
}

describe('AppConfigThresholds', () => {
  beforeEach(() => {
    appConfig.reset();
    appConfig.on(StartConfigurationSessionCommand).resolves({ InitialConfigurationToken: 'token-0' });
  });

  it('starts one session on the profile and reads the deployed rules with its token', async () => {
    appConfig.on(GetLatestConfigurationCommand).resolves(latest('token-1', deployed));
    const { thresholds, log, metrics } = source();

    const rules = await thresholds.current();

    expect(ruleIds(rules)).toEqual(['overheat']);
    expect(appConfig.commandCalls(StartConfigurationSessionCommand).map((c) => c.args[0].input)).toEqual([
      { ApplicationIdentifier: 'abc1234', EnvironmentIdentifier: 'env5678', ConfigurationProfileIdentifier: 'prof901' },
    ]);
    expect(appConfig.commandCalls(GetLatestConfigurationCommand).map((c) => c.args[0].input)).toEqual([{ ConfigurationToken: 'token-0' }]);
    expect(log.at('info')).toEqual([
      { level: 'info', message: 'thresholds: the rules deployed in AppConfig are in force', extra: { rules: 1, profile: 'prof901' } },
    ]);
    expect(metrics.entries).toEqual([]);
  });

  it('asks AppConfig again only once the maximum age has passed, with the token of the last answer, and takes a change', async () => {
    appConfig.on(GetLatestConfigurationCommand).resolvesOnce(latest('token-1', deployed)).resolvesOnce(latest('token-2', changed));
    const { thresholds, clock } = source();
    await thresholds.current();

    clock.advance(MAX_AGE_MS - 1);
    const withinMaxAge = await thresholds.current();
    clock.advance(1);
    const afterMaxAge = await thresholds.current();

    expect(aboveBound(withinMaxAge)).toBe(80);
    expect(aboveBound(afterMaxAge)).toBe(70);
    expect(appConfig.commandCalls(StartConfigurationSessionCommand)).toHaveLength(1);
    expect(appConfig.commandCalls(GetLatestConfigurationCommand).map((c) => c.args[0].input.ConfigurationToken)).toEqual(['token-0', 'token-1']);
  });

  it('reads an empty GetLatestConfiguration body as "unchanged": the same rules, nothing logged or counted', async () => {
    appConfig.on(GetLatestConfigurationCommand).resolvesOnce(latest('token-1', deployed)).resolves(latest('token-n'));
    const { thresholds, clock, log, metrics } = source();
    const first = await thresholds.current();

    clock.advance(MAX_AGE_MS);
    const second = await thresholds.current();
    clock.advance(MAX_AGE_MS);
    const third = await thresholds.current();

    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(appConfig.commandCalls(GetLatestConfigurationCommand)).toHaveLength(3);
    expect(log.entries).toHaveLength(1);
    expect(metrics.entries).toEqual([]);
  });

  it.each([
    ['throttled', new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }), 'ThrottlingException: Rate exceeded'],
    ['failing with a 5xx', new InternalServerException({ message: 'We encountered an internal error', $metadata: {} }), 'InternalServerException: We encountered an internal error'],
  ])('keeps the last good rules when AppConfig is %s, says why, and tries again a minute later on a new session', async (_what, error, reason) => {
    appConfig.on(GetLatestConfigurationCommand).resolvesOnce(latest('token-1', deployed)).rejectsOnce(error).resolves(latest('token-9', changed));
    const { thresholds, clock, log, metrics } = source();
    await thresholds.current();

    clock.advance(MAX_AGE_MS);
    const duringFailure = await thresholds.current();
    clock.advance(MAX_AGE_MS - 1);
    const beforeRetry = await thresholds.current();
    clock.advance(1);
    const afterRetry = await thresholds.current();

    expect(aboveBound(duringFailure)).toBe(80);
    expect(aboveBound(beforeRetry)).toBe(80);
    expect(aboveBound(afterRetry)).toBe(70);
    expect(log.at('warn')).toEqual([
      {
        level: 'warn',
        message: `thresholds: kept the last good rules read from AppConfig: AppConfig could not be read: ${reason}`,
        extra: { rulesInForce: 'appconfig', reason: `AppConfig could not be read: ${reason}` },
      },
    ]);
    expect(metrics.total(METRIC.thresholdsRefreshFailed)).toBe(1);
    expect(metrics.total(METRIC.thresholdsFromBundledFile)).toBe(0);
    // The failed call may have used its token up: the retry starts a session of its own.
    expect(appConfig.commandCalls(StartConfigurationSessionCommand)).toHaveLength(2);
    expect(appConfig.commandCalls(GetLatestConfigurationCommand).map((c) => c.args[0].input.ConfigurationToken)).toEqual([
      'token-0',
      'token-1',
      'token-0',
    ]);
  });

  it('refuses content that is not valid rules with the rule and field named, keeps the last good rules, and counts every refresh while it stays deployed', async () => {
    const clearOnWrongSide = { rules: [{ id: 'overheat', metric: 'temperature', when: { above: 80 }, clear: { below: 85 }, severity: 'critical' }] };
    appConfig
      .on(GetLatestConfigurationCommand)
      .resolvesOnce(latest('token-1', deployed))
      .resolvesOnce(latest('token-2', clearOnWrongSide))
      .resolves(latest('token-n'));
    const { thresholds, clock, log, metrics } = source();
    await thresholds.current();

    clock.advance(MAX_AGE_MS);
    const refused = await thresholds.current();
    clock.advance(MAX_AGE_MS);
    const stillRefused = await thresholds.current();

    expect(aboveBound(refused)).toBe(80);
    expect(aboveBound(stillRefused)).toBe(80);
    const warnings = log.at('warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/^thresholds: kept the last good rules read from AppConfig: the deployed thresholds were refused: rule "overheat": clear\.below/);
    expect(metrics.total(METRIC.thresholdsRefreshFailed)).toBe(2);
  });

  it('refuses content that is not JSON, naming the parse error', async () => {
    appConfig.on(GetLatestConfigurationCommand).resolves(latest('token-1', '{"rules": ['));
    const { thresholds, log } = source();

    const rules = await thresholds.current();

    expect(ruleIds(rules)).toEqual(['bundled']);
    expect(log.at('warn')[0]?.message).toMatch(/the deployed thresholds were refused: not valid JSON \(/);
  });

  it("decides with the bundled file's rules on a cold start that cannot read AppConfig, and says so in the log and both metrics", async () => {
    appConfig.on(GetLatestConfigurationCommand).rejects(
      new BadRequestException({ message: 'The configuration token is not valid', $metadata: {} }),
    );
    const { thresholds, clock, log, metrics } = source();

    const rules = await thresholds.current();
    clock.advance(MAX_AGE_MS);
    await thresholds.current();

    expect(ruleIds(rules)).toEqual(['bundled']);
    expect(log.at('warn').map((entry) => entry.message)).toEqual([
      "thresholds: kept the bundled thresholds file's rules: AppConfig could not be read: BadRequestException: The configuration token is not valid",
      "thresholds: kept the bundled thresholds file's rules: AppConfig could not be read: BadRequestException: The configuration token is not valid",
    ]);
    expect(metrics.total(METRIC.thresholdsRefreshFailed)).toBe(2);
    expect(metrics.total(METRIC.thresholdsFromBundledFile)).toBe(2);
  });

  it('keeps the bundled rules when nothing is deployed to the environment yet', async () => {
    appConfig.on(GetLatestConfigurationCommand).resolves(latest('token-1'));
    const { thresholds, log, metrics } = source();

    const rules = await thresholds.current();

    expect(ruleIds(rules)).toEqual(['bundled']);
    expect(log.at('warn')[0]?.message).toBe("thresholds: kept the bundled thresholds file's rules: AppConfig has no configuration deployed to this environment");
    expect(metrics.total(METRIC.thresholdsFromBundledFile)).toBe(1);
  });
});
