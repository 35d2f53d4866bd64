// The shell mount/umount run through (issue 14): the same commands and arguments a spawn would run, the
// command's own output in the error, hostile arguments passed literally, and a hung or dead shell replaced.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommandShell } from '../../../../runtime/driver/volume/command-shell';
import { isListedMountPoint, readMountPoints } from '../../../../runtime/driver/volume/mounter';

describe('CommandShell', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'command-shell-'));
  const shells: CommandShell[] = [];
  const shell = (props?: ConstructorParameters<typeof CommandShell>[0]) => {
    const s = new CommandShell(props);
    shells.push(s);
    return s;
  };
  afterAll(() => {
    for (const s of shells) s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs a command with its arguments passed literally, quotes, $(), ; and newlines included', async () => {
    const names = [`it's`, 'a "b"', '$(touch pwned)', '`touch pwned`; touch pwned', 'line\nbreak', '-n', '*'];
    const s = shell();
    for (const name of names) await s.run('touch', [path.join(dir, name)]);
    expect(fs.readdirSync(dir).sort()).toEqual([...names].sort());
    expect(fs.existsSync(path.join(process.cwd(), 'pwned'))).toBe(false);
  });

  it("rejects with the command line and the command's own output", async () => {
    await expect(shell().run('ls', [path.join(dir, 'missing file')])).rejects.toThrow(
      new RegExp(`^ls ${dir}/missing file failed: ls: .*missing file.*No such file or directory`),
    );
    // xargs reports a command's exit status 1-125 as 123.
    await expect(shell().run('false', [])).rejects.toThrow('false failed: exit status 123');
  });

  it('answers commands asked at once, each with its own result, in order', async () => {
    const s = shell();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => s.run(i % 3 === 0 ? 'false' : 'true', [String(i)])),
    );
    expect(results.map((r) => r.status)).toEqual(
      Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? 'rejected' : 'fulfilled')),
    );
  });

  it('refuses an argument with a NUL byte before the shell sees it', async () => {
    await expect(shell().run('touch', [`${dir}/a\0b`])).rejects.toThrow('an argument holds a NUL byte');
    expect(fs.existsSync(`${dir}/a`)).toBe(false);
  });

  it('kills a command that hangs, while the commands after it run', async () => {
    const s = shell({ timeoutMs: 1500 });
    const started = Date.now();
    const hung = s.run('sleep', ['30']);
    await expect(s.run('true', [])).resolves.toBeUndefined();
    await expect(s.run('touch', [path.join(dir, 'after-the-hung-one')])).resolves.toBeUndefined();
    expect(fs.existsSync(path.join(dir, 'after-the-hung-one'))).toBe(true);
    await expect(hung).rejects.toThrow('sleep 30 failed: no answer within 1500 ms (killed)');
    expect(Date.now() - started).toBeLessThan(25_000);
  });

  it('leaves no argument or output files and no zombie processes behind', async () => {
    const s = shell({ tmpDir: dir });
    await Promise.all(Array.from({ length: 50 }, (_, i) => s.run('true', [String(i)])));
    const [commandDir] = fs.readdirSync(dir).filter((n) => n.startsWith('aks-secrets-store-commands-'));
    expect(fs.readdirSync(path.join(dir, commandDir))).toEqual([]);
    const zombies = fs
      .readdirSync('/proc')
      .filter((pid) => /^\d+$/.test(pid))
      .map((pid) => {
        try {
          return fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        } catch {
          return '';
        }
      })
      .filter(
        (stat) =>
          (/ Z \d+ /.test(stat) && stat.includes(' (xargs) ')) ||
          (/ Z \d+ /.test(stat) && stat.includes(' (timeout) ')),
      );
    expect(zombies.length).toBeLessThan(5);
  });

  it('replaces a shell that died, failing the commands it was running', async () => {
    const s = shell();
    await s.run('true', []);
    const running = s.run('sleep', ['5']);
    const shellPid = (s as unknown as { child: { pid: number } }).child.pid;
    process.kill(shellPid, 'SIGKILL');
    await expect(running).rejects.toThrow('sleep 5 failed: the command shell exited (SIGKILL)');
    await expect(s.run('true', [])).resolves.toBeUndefined();
  });

  it('names a shell that cannot start', async () => {
    await expect(shell({ shell: path.join(dir, 'no-such-shell') }).run('true', [])).rejects.toThrow(
      /true failed: the command shell .*no-such-shell failed: spawn .* ENOENT/,
    );
  });
});

describe('isListedMountPoint', () => {
  const mountInfo = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '40 22 0:35 / /var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/v/mount rw shared:2 - tmpfs tmpfs rw',
    '41 22 0:36 / /tmp/with\\040space rw shared:3 - tmpfs tmpfs rw',
    '42 22 0:37 / /tmp/back\\134slash rw - tmpfs tmpfs rw',
    '43 22 0:38 /var/lib/kubelet/pods/u2/volumes/kubernetes.io~csi/v/mount /bind rw - ext4 /dev/sda1 rw',
  ].join('\n');

  it('agrees with a full parse of every line', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mountinfo-')), 'mountinfo');
    fs.writeFileSync(file, mountInfo);
    const all = readMountPoints(file);
    const candidates = [
      ...all,
      '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/v',
      // Field 4 (the root inside the filesystem) is not a mount point.
      '/var/lib/kubelet/pods/u2/volumes/kubernetes.io~csi/v/mount',
      '/tmp/with',
      '/tmp/with space/x',
      '/var',
    ];
    for (const target of candidates)
      expect([target, isListedMountPoint(mountInfo, target)]).toEqual([target, all.has(target)]);
    expect(all.has('/tmp/with space')).toBe(true);
    expect(all.has('/tmp/back\\slash')).toBe(true);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });
});
