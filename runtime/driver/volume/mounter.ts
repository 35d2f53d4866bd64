// The tmpfs under every volume: secrets live in memory and vanish with the mount. Mount state is read
// from /proc/self/mountinfo (not by comparing device numbers), so a bind or propagated mount counts too.
// The one shortcut: a tmpfs this Mounter mounted counts as mounted while the target still has the device
// number it had right after the mount and its parent another one. Reading mountinfo costs about 1 ms of
// CPU with 110 volumes (the kernel writes a line per mount), and every republish asks.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSyscalls } from '../../common/native/syscalls';
import { CommandShell } from './command-shell';

/**
 * mount(2)/umount2(2) straight from the runtime's addon (runtime/native/syscalls.c, on the thread pool):
 * microseconds where a run of /bin/mount is a fork, an exec and its libraries. Without the addon (a build
 * without a C compiler), the mount and umount binaries through one waiting shell (command-shell.ts).
 */
const addon = loadSyscalls();
const syscalls = addon.ok ? addon.syscalls : undefined;
const commands = new CommandShell();
/** How this process mounts: the addon's system calls, or the binaries (logged at start, checked by tests). */
export function mountImplementation(): {
  readonly calls: 'system calls' | 'mount binaries';
  readonly reason?: string;
} {
  return addon.ok ? { calls: 'system calls' } : { calls: 'mount binaries', reason: addon.reason };
}

/** A system call still running after this long fails (the thread it holds stays, as a hung mount would). */
const SYSCALL_TIMEOUT_MS = 60_000;

/** Options of the Mounter. */
export interface MounterProps {
  /** tmpfs `size=` option, e.g. `16m` or `10%`. @default no option: the kernel default (half of RAM) */
  readonly tmpfsSize?: string;
  /** File listing the mounts of this process. @default '/proc/self/mountinfo' */
  readonly mountInfoPath?: string;
}

/** The state ensureMountPoint found. */
export interface MountPointState {
  /** The target is a working mount point (a republish). */
  readonly mounted: boolean;
}

export class Mounter {
  private readonly tmpfsSize?: string;
  private readonly mountInfoPath: string;
  /** Resolved targets of the tmpfs this Mounter mounted, with the device number each had then. */
  private readonly mountedHere = new Map<string, number>();

  constructor(props: MounterProps = {}) {
    if (props.tmpfsSize !== undefined && !/^[0-9]+[kmg%]?$/.test(props.tmpfsSize)) {
      throw new Error(
        `tmpfs size ${JSON.stringify(props.tmpfsSize)} is not valid; use bytes with an optional k, m, g or % suffix, e.g. 16m`,
      );
    }
    this.tmpfsSize = props.tmpfsSize;
    this.mountInfoPath = props.mountInfoPath ?? '/proc/self/mountinfo';
  }

  /** True when `target` (after resolving symlinks) is listed as a mount point. */
  isMountPoint(target: string): boolean {
    const resolved = fs.realpathSync(target);
    const device = this.mountedHere.get(resolved);
    if (device !== undefined) {
      if (fs.statSync(resolved).dev === device && fs.statSync(path.dirname(resolved)).dev !== device)
        return true;
      this.mountedHere.delete(resolved); // unmounted or replaced behind our back: ask the kernel
    }
    return isListedMountPoint(fs.readFileSync(this.mountInfoPath, 'utf8'), resolved);
  }

  /**
   * Upstream's ensureMountPoint: a working mount point → mounted; a mount point that cannot be read
   * (a dead tmpfs) → unmounted so it is mounted afresh; a missing directory → created with 0750.
   */
  async ensureMountPoint(target: string): Promise<MountPointState> {
    if (!fs.existsSync(target)) {
      fs.mkdirSync(target, { recursive: true, mode: 0o750 });
      return { mounted: false };
    }
    if (!this.isMountPoint(target)) return { mounted: false };
    try {
      fs.readdirSync(target);
      return { mounted: true };
    } catch {
      await this.unmount(target);
      return { mounted: false };
    }
  }

  async mountTmpfs(target: string): Promise<void> {
    const options = this.tmpfsSize ? `size=${this.tmpfsSize}` : '';
    const args = ['-t', 'tmpfs', ...(options ? ['-o', options] : []), 'tmpfs', target];
    if (syscalls) await withTimeout(`mount ${args.join(' ')}`, syscalls.mountTmpfs(target, options));
    else await commands.run('mount', args);
    const resolved = fs.realpathSync(target);
    const device = fs.statSync(resolved).dev;
    if (device !== fs.statSync(path.dirname(resolved)).dev) this.mountedHere.set(resolved, device);
  }

  async unmount(target: string): Promise<void> {
    this.forget(target);
    if (syscalls) await withTimeout(`umount ${target}`, syscalls.unmount(target));
    else await commands.run('umount', [target]);
  }

  /** Drops the shortcut for `target` (it is being unmounted, or is gone). */
  private forget(target: string): void {
    try {
      this.mountedHere.delete(fs.realpathSync(target));
    } catch {
      // no longer resolves: an entry under its old path stays (one per volume removed behind our back)
    }
  }

  /**
   * Unmounts every mount stacked on `target` and removes the then empty directory; a missing target is
   * fine (NodeUnpublishVolume is idempotent). Never recursive: a target still mounted after the unmounts,
   * or holding files of its own, is left as it is and reported.
   */
  async cleanupMountPoint(target: string): Promise<void> {
    if (!fs.existsSync(target)) return;
    for (let i = 0; i < 8 && this.isMountPoint(target); i++) await this.unmount(target);
    if (this.isMountPoint(target))
      throw new Error(`${target} is still a mount point after unmounting it 8 times`);
    try {
      fs.rmdirSync(target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code === 'ENOTEMPTY' || code === 'EEXIST')
        throw new Error(
          `${target} is not empty after unmounting: something other than this driver wrote into it; its content is left for an administrator to look at`,
        );
      if (code === 'ENOTDIR') throw new Error(`${target} is not a directory; it is left as it is`);
      throw err;
    }
  }
}

/** Rejects with `<what> failed: <the kernel's error>`, the form of command-shell's errors. */
async function withTimeout(what: string, call: Promise<string>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`did not finish in ${SYSCALL_TIMEOUT_MS / 1000}s`), SYSCALL_TIMEOUT_MS);
  });
  try {
    const error = await Promise.race([call, timeout]);
    if (error) throw new Error(`${what} failed: ${error}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Mount points from a mountinfo file (field 5, with the kernel's octal escapes undone). */
export function readMountPoints(mountInfoPath: string): Set<string> {
  const points = new Set<string>();
  for (const line of fs.readFileSync(mountInfoPath, 'utf8').split('\n')) {
    const point = mountPointOf(line);
    if (point !== undefined) points.add(point);
  }
  return points;
}

/**
 * True when mountinfo text lists `target` (an absolute, resolved path) as a mount point. Only lines that
 * hold the target as written by the kernel are parsed: a node with hundreds of mounts reads this on every
 * republish.
 */
export function isListedMountPoint(mountInfo: string, target: string): boolean {
  const wanted = path.normalize(target);
  const needle = ` ${escapeMountInfo(wanted)} `;
  for (let at = mountInfo.indexOf(needle); at >= 0; at = mountInfo.indexOf(needle, at + 1)) {
    const start = mountInfo.lastIndexOf('\n', at) + 1;
    const end = mountInfo.indexOf('\n', at);
    if (mountPointOf(mountInfo.slice(start, end < 0 ? undefined : end)) === wanted) return true;
  }
  return false;
}

/** Field 5 of a mountinfo line, unescaped; undefined for a short line. */
function mountPointOf(line: string): string | undefined {
  const fields = line.split(' ');
  if (fields.length < 5) return undefined;
  return path.normalize(
    fields[4].replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))),
  );
}

/** The kernel's escaping of a path in mountinfo: space, tab, newline and backslash as octal. */
function escapeMountInfo(p: string): string {
  return p.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}
