// The runtime's native addon (runtime/native/syscalls.c, built by runtime/native/build.sh into
// build/runtime/native/syscalls.node): loaded once per process, or the reason it is not here. Every user has
// a fallback or does without, so a missing addon costs memory or speed, never a feature.
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** The addon's exports. */
export interface Syscalls {
  /** madvise(MADV_DONTNEED) of a page range; 0 or the errno. Throws on a range that is not page-aligned. */
  dropCleanPages(start: bigint, length: bigint): number;
  /** malloc_trim(0); true when glibc gave memory back. */
  trimMalloc(): boolean;
  /** mount("tmpfs", target, "tmpfs", 0, options or NULL) on the thread pool: "" or the error text. */
  mountTmpfs(target: string, options: string): Promise<string>;
  /** umount2(target, 0) on the thread pool: "" or the error text. */
  unmount(target: string): Promise<string>;
}

/**
 * Where the build puts the addon, seen from build/runtime/common/native; from the sources (ts-node, jest)
 * the repository's build/ instead, so tests of the sources run the same calls.
 */
export const SYSCALLS_ADDON =
  [
    path.join(__dirname, '..', '..', 'native', 'syscalls.node'),
    path.join(__dirname, '..', '..', '..', 'build', 'runtime', 'native', 'syscalls.node'),
  ].find((file) => existsSync(file)) ?? path.join(__dirname, '..', '..', 'native', 'syscalls.node');

export type SyscallsLoad =
  { readonly ok: true; readonly syscalls: Syscalls } | { readonly ok: false; readonly reason: string };

const loaded = new Map<string, SyscallsLoad>();

/** The addon at `addonPath` (once per path and process), or why it cannot run here. */
export function loadSyscalls(addonPath: string = SYSCALLS_ADDON): SyscallsLoad {
  let result = loaded.get(addonPath);
  if (result) return result;
  if (process.platform !== 'linux') {
    result = { ok: false, reason: `the syscalls addon is Linux only (this is ${process.platform})` };
  } else {
    try {
      // A native addon cannot be imported; require is how Node loads one.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      result = { ok: true, syscalls: require(addonPath) as Syscalls };
    } catch (err) {
      result = {
        ok: false,
        reason: `addon ${addonPath} not loaded (${(err as Error).message.split('\n')[0]}); build it with \`bash runtime/native/build.sh\``,
      };
    }
  }
  loaded.set(addonPath, result);
  return result;
}
