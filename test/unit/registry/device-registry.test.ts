import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DeviceExistsError,
  DeviceRegistry,
  InvalidDeviceIdError,
  InvalidDeviceOptionError,
} from '../../../infra/local/registry/index.js';

describe('DeviceRegistry', () => {
  let dir: string;
  let file: string;
  const opened: DeviceRegistry[] = [];
  const open = () => {
    const registry = DeviceRegistry.open(file);
    opened.push(registry);
    return registry;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'registry-'));
    file = join(dir, 'devices.db');
  });
  afterEach(() => {
    for (const registry of opened.splice(0)) registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('add', () => {
    it('returns a generated 256-bit base64url password with username equal to the device id', () => {
      const registry = open();

      const credentials = registry.add('sensor-0001', { type: 'env-sensor' });

      expect(credentials.deviceId).toBe('sensor-0001');
      expect(credentials.username).toBe('sensor-0001');
      expect(credentials.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(credentials.password, 'base64url')).toHaveLength(32);
    });

    it('gives every device a different password', () => {
      const registry = open();

      const a = registry.add('a');
      const b = registry.add('b');

      expect(a.password).not.toBe(b.password);
    });

    it('refuses an id that is already registered', () => {
      const registry = open();
      registry.add('sensor-0001');

      expect(() => registry.add('sensor-0001')).toThrow(DeviceExistsError);
      expect(() => registry.add('sensor-0001')).toThrow('device sensor-0001 already exists');
    });

    it.each(['', 'has space', 'slash/inside', 'plus+', 'x'.repeat(129), 'é'])('refuses the id %j', (deviceId) => {
      const registry = open();

      expect(() => registry.add(deviceId)).toThrow(InvalidDeviceIdError);
    });

    it('accepts the whole thing-name alphabet, up to 128 characters', () => {
      const registry = open();

      registry.add('Aa0_:-');
      registry.add('x'.repeat(128));

      expect(registry.list().map((d) => d.deviceId)).toEqual(['Aa0_:-', 'x'.repeat(128)]);
    });

    it('refuses an unknown role and an empty password, naming the device and the field', () => {
      const registry = open();

      expect(() => registry.add('d1', { role: 'admin' as never })).toThrow(InvalidDeviceOptionError);
      expect(() => registry.add('d1', { role: 'admin' as never })).toThrow(/device d1: role/);
      expect(() => registry.add('d1', { password: '' })).toThrow(/device d1: password/);
    });

    it('stores a scrypt hash with its parameters and a per-device salt, never the password', () => {
      const registry = open();
      const { password } = registry.add('d1');
      registry.add('d2', { password });

      const db = new Database(file, { readonly: true });
      const rows = db.prepare('SELECT device_id, password_hash FROM devices ORDER BY device_id').all() as {
        password_hash: string;
      }[];
      db.close();

      expect(rows[0]?.password_hash).toMatch(/^scrypt\$256\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
      expect(rows[0]?.password_hash).not.toContain(password);
      expect(rows[0]?.password_hash).not.toBe(rows[1]?.password_hash);
    });

    it('hashes a short, possibly human-chosen password at the strong cost', () => {
      const registry = open();
      registry.add('d1', { password: 'correct horse' });

      const db = new Database(file, { readonly: true });
      const row = db.prepare('SELECT password_hash FROM devices').get() as { password_hash: string };
      db.close();

      expect(row.password_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    });
  });

  describe('list and get', () => {
    it('lists devices by id with type, role and creation time, and no credential', () => {
      const registry = open();
      const before = Date.now();
      registry.add('b', { type: 'env-sensor' });
      registry.add('a', { role: 'operator' });

      const devices = registry.list();

      expect(devices).toEqual([
        { deviceId: 'a', role: 'operator', createdAt: expect.any(Number) },
        { deviceId: 'b', type: 'env-sensor', role: 'device', createdAt: expect.any(Number) },
      ]);
      expect(devices[0]?.createdAt).toBeGreaterThanOrEqual(before);
      expect(JSON.stringify(devices)).not.toMatch(/scrypt|password|hash/);
    });

    it('gets one device, or undefined', () => {
      const registry = open();
      registry.add('a', { type: 't' });

      expect(registry.get('a')).toMatchObject({ deviceId: 'a', type: 't', role: 'device' });
      expect(registry.get('nope')).toBeUndefined();
    });
  });

  describe('remove', () => {
    it('deletes the device and reports whether there was one', () => {
      const registry = open();
      registry.add('a');

      expect(registry.remove('a')).toBe(true);
      expect(registry.remove('a')).toBe(false);
      expect(registry.list()).toEqual([]);
    });
  });

  describe('verify', () => {
    it('accepts the right password, as a string or as the bytes MQTT carries', async () => {
      const registry = open();
      const { password } = registry.add('d1', { type: 'env-sensor' });

      await expect(registry.verify('d1', password)).resolves.toMatchObject({ deviceId: 'd1', type: 'env-sensor', role: 'device' });
      await expect(registry.verify('d1', Buffer.from(password))).resolves.toMatchObject({ deviceId: 'd1' });
    });

    it('refuses a wrong password, an unknown device and a malformed username', async () => {
      const registry = open();
      const { password } = registry.add('d1');

      await expect(registry.verify('d1', `${password}x`)).resolves.toBeUndefined();
      await expect(registry.verify('d2', password)).resolves.toBeUndefined();
      await expect(registry.verify('no such/id', password)).resolves.toBeUndefined();
    });

    it('refuses the old password once the device is removed, even after a cached success', async () => {
      const registry = open();
      const { password } = registry.add('d1');
      await registry.verify('d1', password);

      registry.remove('d1');

      await expect(registry.verify('d1', password)).resolves.toBeUndefined();
    });

    it('refuses a cached password once the device is re-added with a new one', async () => {
      const registry = open();
      const old = registry.add('d1');
      await registry.verify('d1', old.password);

      registry.remove('d1');
      const fresh = registry.add('d1');

      await expect(registry.verify('d1', old.password)).resolves.toBeUndefined();
      await expect(registry.verify('d1', fresh.password)).resolves.toMatchObject({ deviceId: 'd1' });
    });

    it('never returns the credential stamp, which authenticate does', async () => {
      const registry = open();
      const { password } = registry.add('d1');

      const info = await registry.verify('d1', password);
      const device = await registry.authenticate('d1', password);

      expect(info).not.toHaveProperty('credentialStamp');
      expect(device?.credentialStamp).toBe(registry.credentialStamp('d1'));
    });
  });

  describe('upsert', () => {
    it('registers a device that does not exist', () => {
      const registry = open();

      const credentials = registry.upsert('d1', { type: 't', password: 'p'.repeat(40) });

      expect(credentials).toEqual({ deviceId: 'd1', username: 'd1', password: 'p'.repeat(40) });
      expect(registry.get('d1')).toMatchObject({ type: 't', role: 'device' });
    });

    it('replaces the password of an existing device, keeping its creation time, type and role', async () => {
      const registry = open();
      const old = registry.add('d1', { type: 't', role: 'operator' });
      const createdAt = registry.get('d1')?.createdAt;
      await registry.verify('d1', old.password);
      const stampBefore = registry.credentialStamp('d1');

      const fresh = registry.upsert('d1', {});

      await expect(registry.verify('d1', old.password)).resolves.toBeUndefined();
      await expect(registry.verify('d1', fresh.password)).resolves.toEqual({ deviceId: 'd1', type: 't', role: 'operator', createdAt });
      expect(registry.credentialStamp('d1')).not.toBe(stampBefore);
    });
  });

  describe('addMany and upsertMany', () => {
    it('registers a thousand devices in one call, each able to verify', async () => {
      const registry = open();
      const entries = Array.from({ length: 1000 }, (_, i) => ({ deviceId: `sim-${String(i).padStart(4, '0')}`, type: 'sim' }));

      const credentials = await registry.addMany(entries);

      expect(credentials).toHaveLength(1000);
      expect(registry.list()).toHaveLength(1000);
      const last = credentials[999];
      await expect(registry.verify('sim-0999', last?.password ?? '')).resolves.toMatchObject({ type: 'sim' });
    });

    it('registers nothing when one id is already taken', async () => {
      const registry = open();
      registry.add('b');

      await expect(registry.addMany([{ deviceId: 'a' }, { deviceId: 'b' }, { deviceId: 'c' }])).rejects.toThrow(DeviceExistsError);

      expect(registry.list().map((d) => d.deviceId)).toEqual(['b']);
    });

    it('refuses the same id twice in one batch', async () => {
      const registry = open();

      await expect(registry.addMany([{ deviceId: 'a' }, { deviceId: 'a' }])).rejects.toThrow(/appears twice/);
    });

    it('upsertMany sets the given passwords on new and existing devices alike', async () => {
      const registry = open();
      registry.add('a');
      const pa = 'a'.repeat(43);
      const pb = 'b'.repeat(43);

      await registry.upsertMany([{ deviceId: 'a', password: pa }, { deviceId: 'b', password: pb }]);

      await expect(registry.verify('a', pa)).resolves.toMatchObject({ deviceId: 'a' });
      await expect(registry.verify('b', pb)).resolves.toMatchObject({ deviceId: 'b' });
    });
  });

  describe('two connections to one file (the CLI beside the running stack)', () => {
    it('sees a device another connection added, at once', async () => {
      const broker = open();
      const cli = open();
      expect(broker.get('late')).toBeUndefined();

      const { password } = cli.add('late');

      await expect(broker.verify('late', password)).resolves.toMatchObject({ deviceId: 'late' });
    });

    it('reports changes from the other connection and from its own writes, once each', () => {
      const broker = open();
      const cli = open();
      expect(broker.pollChanges()).toBe(false);

      cli.add('d1');
      expect(broker.pollChanges()).toBe(true);
      expect(broker.pollChanges()).toBe(false);

      broker.remove('d1');
      expect(broker.pollChanges()).toBe(true);
      expect(broker.pollChanges()).toBe(false);
    });

    it('stops accepting a cached password once another connection removes the device', async () => {
      const broker = open();
      const cli = open();
      const { password } = cli.add('d1');
      await broker.verify('d1', password);

      cli.remove('d1');

      await expect(broker.verify('d1', password)).resolves.toBeUndefined();
      expect(broker.credentialStamp('d1')).toBeUndefined();
    });

    it('keeps its devices across reopening the file', () => {
      const first = open();
      first.add('kept', { type: 't' });
      first.close();

      const second = open();

      expect(second.get('kept')).toMatchObject({ deviceId: 'kept', type: 't' });
    });
  });
});
