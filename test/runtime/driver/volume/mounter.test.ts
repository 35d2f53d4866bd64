import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Mounter, readMountPoints } from '../../../../runtime/driver/volume/mounter';
import { canMount, notRunWithoutRoot } from '../support/driver-harness';

const maybe = canMount('mounter.test.ts') ? describe : notRunWithoutRoot;

maybe('tmpfs mounter', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mounter-'));
  afterAll(async () => {
    for (const m of [...readMountPoints('/proc/self/mountinfo')].filter((p) => p.startsWith(root))) {
      await new Mounter().unmount(m).catch(() => undefined);
    }
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('creates a missing target with 0750, mounts tmpfs with the size limit, and cleans up idempotently', async () => {
    const mounter = new Mounter({ tmpfsSize: '1m' });
    const target = path.join(root, 'pods', 'uid', 'volumes', 'kubernetes.io~csi', 'v', 'mount');
    expect(await mounter.ensureMountPoint(target)).toEqual({ mounted: false });
    expect(fs.statSync(target).mode & 0o777).toBe(0o750);
    await mounter.mountTmpfs(target);
    expect(mounter.isMountPoint(target)).toBe(true);
    expect(await mounter.ensureMountPoint(target)).toEqual({ mounted: true });
    const line = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === target);
    expect(line).toMatch(/ - tmpfs tmpfs .*size=1024k/);
    // A 2 MiB file does not fit a 1 MiB tmpfs.
    expect(() => fs.writeFileSync(path.join(target, 'big'), Buffer.alloc(2 * 1024 * 1024))).toThrow(/ENOSPC/);
    await mounter.cleanupMountPoint(target);
    expect(fs.existsSync(target)).toBe(false);
    await mounter.cleanupMountPoint(target);
  });

  it('reads mount points with spaces (octal escapes in mountinfo)', async () => {
    const mounter = new Mounter();
    const target = path.join(root, 'with space');
    fs.mkdirSync(target);
    await mounter.mountTmpfs(target);
    expect(mounter.isMountPoint(target)).toBe(true);
    await mounter.unmount(target);
    expect(mounter.isMountPoint(target)).toBe(false);
  });

  it('rejects a malformed size limit naming the value', () => {
    expect(() => new Mounter({ tmpfsSize: '1 GB' })).toThrow('tmpfs size "1 GB" is not valid');
  });
});
