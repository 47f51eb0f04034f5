import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { statfsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Log } from '../../../lambdas/ports/observability.js';
import { FreeSpaceGuard, FreeSpaceHeadroomError, statfsProbe } from '../../../infra/local/stream/index.js';

const MiB = 1024 * 1024;
const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** A guard over a file system whose free space the test sets; counts the probes. */
function guardWith(minFreeBytes: number, initialFree: number) {
  const disk = { free: initialFree, probes: 0, failing: false };
  const guard = new FreeSpaceGuard({
    dir: '/data',
    minFreeBytes,
    log: quiet,
    checkIntervalMs: 3_600_000,
    probe: () => {
      disk.probes += 1;
      return disk.failing ? Promise.reject(new Error('EIO')) : Promise.resolve(disk.free);
    },
  });
  return { guard, disk };
}

describe('free-space guard', () => {
  it('admits without asking the file system while the estimate stays above the headroom', async () => {
    const { guard, disk } = guardWith(10 * MiB, 1_000 * MiB);
    await guard.start();
    for (let i = 0; i < 10_000; i++) expect(guard.admit(200)).toBeUndefined();
    expect(disk.probes).toBe(1);
    guard.stop();
  });

  it('probes at once when admitted messages may have used the room left, and engages if they did', async () => {
    const { guard, disk } = guardWith(10 * MiB, 11 * MiB);
    await guard.start();
    // 1 MiB of room: a few hundred 1 KiB messages may fill it by the estimate.
    let admitted = 0;
    while (disk.probes === 1 && admitted < 10_000) {
      guard.admit(1024);
      admitted += 1;
    }
    expect(admitted).toBeLessThan(1_000);
    await guard.check();
    expect(guard.stats().engaged).toBe(false);
    disk.free = 9 * MiB;
    await guard.check();
    expect(guard.admit(1024)).toBeInstanceOf(FreeSpaceHeadroomError);
    expect(guard.stats()).toMatchObject({ engaged: true, engagements: 1, refused: 1 });
    guard.stop();
  });

  it('releases only above the headroom plus a margin, so it does not flap', async () => {
    const { guard, disk } = guardWith(100 * MiB, 50 * MiB);
    await guard.start();
    expect(guard.stats().engaged).toBe(true);
    disk.free = 105 * MiB;
    await guard.check();
    expect(guard.stats().engaged).toBe(true);
    disk.free = 110 * MiB;
    await guard.check();
    expect(guard.stats()).toMatchObject({ engaged: false, releases: 1, releaseAtBytes: 110 * MiB });
    guard.stop();
  });

  it('keeps its state when the file system cannot be asked', async () => {
    const { guard, disk } = guardWith(100 * MiB, 50 * MiB);
    await guard.start();
    disk.failing = true;
    await guard.check();
    expect(guard.stats()).toMatchObject({ engaged: true, probeFailures: 1 });
    guard.stop();
  });

  it('measures a real directory with statfs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ft-statfs-'));
    try {
      const stats = statfsSync(dir);
      const free = await statfsProbe(dir)();
      // The disk moves a little between the two calls.
      expect(Math.abs(free - stats.bavail * stats.bsize)).toBeLessThan(256 * MiB);
      expect(free).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
