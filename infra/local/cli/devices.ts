/**
 * `npm run devices -- add|list|remove ...`: manages the local broker's devices and operators in
 * `<data>/devices.db`. Works while the stack runs: the broker reads the file at every CONNECT, so a new
 * device can connect at once, and it disconnects a removed device within a second.
 *
 * Data on stdout (with --json, one JSON document), notes on stderr, errors as one line on stderr with a
 * non-zero exit code (cli-support.ts: 2 for a wrong invocation, 1 for anything else).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { pipeline, telemetryTopic } from '../../pipeline.js';
import {
  DEVICE_ROLES,
  DeviceRegistry,
  InvalidDeviceIdError,
  InvalidDeviceOptionError,
  RegistryError,
} from '../registry/index.js';
import type { DeviceInfo, DeviceRole } from '../registry/index.js';
import { UsageError, runCli, writeJson, writeText } from '../../cli/cli-support.js';
import { saveCredential } from './operator-credential.js';

/** The registry's file name inside the data directory (DATA_FILES.devices in infra/local/stack.ts). */
const DEVICES_FILE = 'devices.db';
const DEFAULT_DATA_DIR = './data';

interface CommonOptions {
  data: string;
  json: boolean;
}

/** Opens `<data>/devices.db`, creating the directory if needed, runs `action`, closes the file. */
function withRegistry<T>(dataDir: string, action: (registry: DeviceRegistry) => T): T {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const registry = DeviceRegistry.open(join(dir, DEVICES_FILE));
  try {
    return action(registry);
  } catch (error) {
    // A bad id or option is the command line's fault: exit code 2, like a bad flag.
    if (error instanceof InvalidDeviceIdError || error instanceof InvalidDeviceOptionError) {
      throw new UsageError(error.message, { cause: error });
    }
    throw error;
  } finally {
    registry.close();
  }
}

const dataOption = () => new Option('--data <dir>', 'data directory holding devices.db (created if missing)').default(DEFAULT_DATA_DIR);
const jsonOption = () => new Option('--json', 'machine-readable output on stdout').default(false);

function formatTable(devices: readonly DeviceInfo[]): string {
  const rows = [
    ['DEVICE ID', 'ROLE', 'TYPE', 'CREATED'],
    ...devices.map((d) => [d.deviceId, d.role, d.type ?? '-', new Date(d.createdAt).toISOString()]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

const program = new Command('devices')
  .description('Manage the devices and operators allowed to connect to the local MQTT broker (data/devices.db).')
  .showSuggestionAfterError(false);

program
  .command('add')
  .description('Register a device (or an operator) and print its password, once. The MQTT client id and username are the device id.')
  .argument('<deviceId>', 'device id = MQTT client id = username: 1 to 128 of A-Z a-z 0-9 _ : -')
  .option('--type <type>', 'device type, used to scope threshold rules (e.g. env-sensor)')
  .addOption(
    new Option('--role <role>', 'device: publishes its own telemetry, reads its own alarms; operator: reads every alarm, sends alarm commands')
      .choices(DEVICE_ROLES)
      .default('device'),
  )
  .option('--save-credential', 'operators only: also keep the password in <data>/credentials/<id>.json (mode 0600) for npm run alarms', false)
  .addOption(jsonOption())
  .addOption(dataOption())
  .action((deviceId: string, opts: CommonOptions & { type?: string; role: DeviceRole; saveCredential: boolean }) => {
    if (opts.saveCredential && opts.role !== 'operator') throw new UsageError('--save-credential is for operators (--role operator)');
    const credentials = withRegistry(opts.data, (registry) =>
      registry.add(deviceId, { role: opts.role, ...(opts.type === undefined ? {} : { type: opts.type }) }),
    );
    if (opts.saveCredential) process.stderr.write(`Saved the credential in ${saveCredential(opts.data, credentials)} (mode 0600).\n`);
    if (opts.json) {
      writeJson(credentials);
    } else {
      writeText(`deviceId  ${credentials.deviceId}\nusername  ${credentials.username}\npassword  ${credentials.password}`);
    }
    process.stderr.write(
      `Registered ${opts.role} ${deviceId}. Save the password now: only its hash is stored, it cannot be shown again.\n` +
        `Connect with client id = username = ${deviceId}` +
        (opts.role === 'device'
          ? `; publish on ${telemetryTopic(deviceId)}.\n`
          : `; subscribe to ${pipeline.topics.alarmsFilter}, send alarm commands on ${pipeline.topics.commands}.\n`),
    );
  });

program
  .command('list')
  .description('List the registered devices and operators (never their passwords).')
  .addOption(jsonOption())
  .addOption(dataOption())
  .action((opts: CommonOptions) => {
    const devices = withRegistry(opts.data, (registry) => registry.list());
    if (opts.json) {
      writeJson(devices);
    } else if (devices.length === 0) {
      process.stderr.write('No devices yet: npm run devices -- add <deviceId>\n');
    } else {
      writeText(formatTable(devices));
    }
  });

program
  .command('remove')
  .description('Remove a device or operator; the running broker disconnects it within a second.')
  .argument('<deviceId>', 'the device id to remove')
  .addOption(jsonOption())
  .addOption(dataOption())
  .action((deviceId: string, opts: CommonOptions) => {
    const removed = withRegistry(opts.data, (registry) => registry.remove(deviceId));
    if (!removed) throw new RegistryError(`no device ${deviceId} in ${resolve(opts.data, DEVICES_FILE)}`);
    if (opts.json) writeJson({ deviceId, removed: true });
    else writeText(`removed ${deviceId}`);
  });

await runCli(program);
