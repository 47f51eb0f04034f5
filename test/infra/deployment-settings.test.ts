import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEPLOYMENT_SETTINGS,
  DEPLOYMENT_CONTEXT_KEYS,
  DeploymentSettingsError,
  readDeploymentSettings,
} from '../../infra/aws/deployment-settings.js';
import { cdkJsonContext } from './synth.js';

const from = (context: Record<string, unknown>) => readDeploymentSettings((key) => context[key]);

describe('readDeploymentSettings', () => {
  it('gives the defaults when nothing is set', () => {
    expect(from({})).toEqual(DEFAULT_DEPLOYMENT_SETTINGS);
  });

  it('treats null and the empty string as not set', () => {
    expect(from({ alarmEmail: null, iotDataEndpoint: '', streamMode: null })).toEqual(DEFAULT_DEPLOYMENT_SETTINGS);
  });

  it('reads cdk.json, which documents every setting with its default', () => {
    const context = cdkJsonContext();
    for (const key of DEPLOYMENT_CONTEXT_KEYS) expect(context, key).toHaveProperty(key);
    expect(from(context)).toEqual(DEFAULT_DEPLOYMENT_SETTINGS);
  });

  it('accepts numbers as `-c key=value` strings or as JSON numbers', () => {
    expect(from({ timestreamMemoryRetentionHours: '48', logRetentionDays: 90 })).toMatchObject({
      timestreamMemoryRetentionHours: 48,
      logRetentionDays: 90,
    });
  });

  it('reads every setting the deployer can change', () => {
    expect(
      from({
        streamMode: 'on-demand',
        streamRetentionHours: '72',
        timeSeriesStore: 'none',
        readingsRetentionDays: '90',
        alarmStateCapacity: 'on-demand',
        alarmStateMaxCapacity: '800',
        timestreamMemoryRetentionHours: 12,
        timestreamMagneticRetentionDays: 730,
        alarmEmail: 'a@example.com',
        opsEmail: 'o@example.com',
        logRetentionDays: 7,
        logLevel: 'warn',
        iotDataEndpoint: 'x1-ats.iot.us-east-1.amazonaws.com',
        thresholdsFile: 'my/thresholds.json',
      }),
    ).toEqual({
      streamMode: 'on-demand',
      streamRetentionHours: 72,
      timeSeriesStore: 'none',
      readingsRetentionDays: 90,
      alarmStateCapacity: 'on-demand',
      alarmStateMaxCapacity: 800,
      timestreamMemoryRetentionHours: 12,
      timestreamMagneticRetentionDays: 730,
      alarmEmail: 'a@example.com',
      opsEmail: 'o@example.com',
      logRetentionDays: 7,
      logLevel: 'WARN',
      iotDataEndpoint: 'x1-ats.iot.us-east-1.amazonaws.com',
      thresholdsFile: 'my/thresholds.json',
    });
  });

  it.each([
    ['streamMode', 'ondemand', /streamMode="ondemand": expected one of provisioned, on-demand/],
    ['streamRetentionHours', '23', /streamRetentionHours="23": expected an integer from 24 to 8760/],
    ['timeSeriesStore', 'influx', /timeSeriesStore="influx": expected one of dynamodb, timestream, none/],
    ['readingsRetentionDays', '0', /readingsRetentionDays="0": expected an integer from 1 to 36500/],
    ['alarmStateCapacity', 'provisoned', /alarmStateCapacity="provisoned": expected one of provisioned, on-demand/],
    ['alarmStateMaxCapacity', '5', /alarmStateMaxCapacity="5": expected an integer from 10 to 40000/],
    ['timestreamMemoryRetentionHours', '0', /expected an integer from 1 to 8766/],
    ['timestreamMemoryRetentionHours', 1.5, /expected an integer from 1 to 8766/],
    ['timestreamMagneticRetentionDays', 'a year', /expected an integer from 1 to 73000/],
    ['logRetentionDays', 31, /logRetentionDays=31: expected one of 1, 3, 5/],
    ['logLevel', 'verbose', /expected one of DEBUG, INFO, WARN, ERROR/],
    ['alarmEmail', 'nobody', /alarmEmail="nobody": expected an e-mail address/],
    ['iotDataEndpoint', 'https://x.iot.amazonaws.com/', /expected a host name/],
    ['thresholdsFile', 42, /thresholdsFile=42: expected a string/],
  ])('refuses %s=%j, naming the key, the value and what is allowed', (key, value, message) => {
    expect(() => from({ [key]: value })).toThrow(DeploymentSettingsError);
    expect(() => from({ [key]: value })).toThrow(message);
  });
});
