import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mountImplementation, Mounter } from '../../../../runtime/driver/volume/mounter';
import { canMount, notRunWithoutRoot, removeTestRoot } from '../support/driver-harness';

const maybe = canMount('mounter.test.ts') ? describe : notRunWithoutRoot;

maybe('tmpfs mounter', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mounter-'));
  afterAll(async () => {
    await removeTestRoot(root);
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

  it('removes the target only when it is empty: never deletes what is not its own', async () => {
    const mounter = new Mounter();
    // A directory kubelet gave us that holds a file the driver did not write (not a mount point).
    const foreign = path.join(root, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'someone-elses'), 'kept');
    await expect(mounter.cleanupMountPoint(foreign)).rejects.toThrow(
      `${foreign} is not empty after unmounting: something other than this driver wrote into it`,
    );
    expect(fs.readFileSync(path.join(foreign, 'someone-elses'), 'utf8')).toBe('kept');

    // A volume with another filesystem mounted inside it: the unmount is refused (busy), and nothing
    // in either filesystem is deleted (upstream empties the target before unmounting it).
    const target = path.join(root, 'nested');
    fs.mkdirSync(target);
    await mounter.mountTmpfs(target);
    fs.writeFileSync(path.join(target, 'secret'), 'ours');
    const inner = path.join(target, 'inner');
    fs.mkdirSync(inner);
    await mounter.mountTmpfs(inner);
    fs.writeFileSync(path.join(inner, 'data'), 'not ours');
    await expect(mounter.cleanupMountPoint(target)).rejects.toThrow();
    expect(fs.readFileSync(path.join(inner, 'data'), 'utf8')).toBe('not ours');
    expect(fs.readFileSync(path.join(target, 'secret'), 'utf8')).toBe('ours');
    await mounter.unmount(inner);
    await mounter.cleanupMountPoint(target);
    expect(fs.existsSync(target)).toBe(false);

    // A file where the directory should be is left alone.
    const file = path.join(root, 'a-file');
    fs.writeFileSync(file, 'kept');
    await expect(mounter.cleanupMountPoint(file)).rejects.toThrow(`${file} is not a directory`);
    expect(fs.readFileSync(file, 'utf8')).toBe('kept');
  });

  it('reads mount points with spaces (octal escapes in mountinfo)', async () => {
    const mounter = new Mounter();
    const target = path.join(root, 'with space');
    fs.mkdirSync(target);
    await mounter.mountTmpfs(target);
    expect(new Mounter().isMountPoint(target)).toBe(true); // another Mounter: read from mountinfo
    await mounter.unmount(target);
    expect(mounter.isMountPoint(target)).toBe(false);
  });

  it('knows a tmpfs it mounted by its device number (no mountinfo read), and asks mountinfo again once someone else unmounted it', async () => {
    const mountInfo = path.join(root, 'empty-mountinfo');
    fs.writeFileSync(mountInfo, ''); // lists nothing
    const mounter = new Mounter({ mountInfoPath: mountInfo });
    const target = path.join(root, 'shortcut');
    fs.mkdirSync(target);
    await mounter.mountTmpfs(target);
    expect(mounter.isMountPoint(target)).toBe(true); // from the device number alone
    execFileSync('umount', [target]); // behind its back
    expect(mounter.isMountPoint(target)).toBe(false);
    // Mounted again by someone else: only mountinfo can tell, the shortcut is gone.
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', target]);
    expect(mounter.isMountPoint(target)).toBe(false); // the empty mountinfo was asked
    fs.writeFileSync(mountInfo, fs.readFileSync('/proc/self/mountinfo')); // (a /proc file has no size to copy)
    expect(mounter.isMountPoint(target)).toBe(true);
    execFileSync('umount', [target]);
  });

  it('mounts with the addon system calls (the mount binaries only without a build of it)', () => {
    const how = mountImplementation();
    if (process.env.CI !== 'true' && how.calls !== 'system calls') {
      console.warn(`mounter: not checked outside CI: ${how.reason}`);
      return;
    }
    expect(how).toEqual({ calls: 'system calls' }); // in CI the build has it
  });

  it('names the call and the kernel error when a mount or an unmount fails, and leaves nothing mounted', async () => {
    const mounter = new Mounter({ tmpfsSize: '1m' });
    const missing = path.join(root, 'missing', 'mount');
    const how = mountImplementation().calls;
    await expect(mounter.mountTmpfs(missing)).rejects.toThrow(
      how === 'system calls'
        ? `mount -t tmpfs -o size=1m tmpfs ${missing} failed: No such file or directory (errno 2)`
        : `mount -t tmpfs -o size=1m tmpfs ${missing} failed:`,
    );
    const plain = path.join(root, 'plain');
    fs.mkdirSync(plain);
    await expect(mounter.unmount(plain)).rejects.toThrow(
      how === 'system calls'
        ? `umount ${plain} failed: Invalid argument (errno 22)`
        : `umount ${plain} failed:`,
    );
    expect(mounter.isMountPoint(plain)).toBe(false);
  });

  it('rejects a malformed size limit naming the value', () => {
    expect(() => new Mounter({ tmpfsSize: '1 GB' })).toThrow('tmpfs size "1 GB" is not valid');
  });
});
