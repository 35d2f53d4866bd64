// Gives back memory that a Node process keeps for nothing: the pages of the Node binary and its libraries
// that ran or were read once (V8's start-up snapshot, the dynamic symbol tables, builtin JS sources, code
// of a past burst), and glibc's free pages inside its arenas. Node has no call for either, so the runtime's
// addon (runtime/native/syscalls.c) makes the two system calls; this file decides what to release
// (releasable-mappings.ts: only never-written read-only file mappings) and when (at start, then on an
// interval). Whatever is used again is mapped again from the page cache, with the same bytes.
// Measured effect: docs/operations.md, "Memory of our image".
import { readFileSync } from 'node:fs';
import { FlagError, FlagSpecs } from '../go-compat/flags';
import { Logger } from '../logging/logger';
import { loadSyscalls, Syscalls, SYSCALLS_ADDON } from '../native/syscalls';
import { parseSmaps, releasableMappings } from './releasable-mappings';

/** What one release did. */
export interface MemoryReleaseResult {
  /** Resident kB of the mappings released (what left this process's RSS at that moment). */
  readonly releasedKiB: number;
  readonly mappings: number;
  /** Mappings madvise refused, with the errno (nothing is lost when it does). */
  readonly refused: number;
  /** glibc returned free arena pages. */
  readonly mallocTrimmed: boolean;
}

/** Loaded addon, or why not. */
export type MemoryReleaseLoad =
  | { readonly ok: true; readonly release: () => MemoryReleaseResult }
  | { readonly ok: false; readonly reason: string };

/** Loads the addon at `addonPath` and returns the release function, or the reason it cannot run here. */
export function loadMemoryRelease(addonPath: string = SYSCALLS_ADDON): MemoryReleaseLoad {
  const loaded = loadSyscalls(addonPath);
  if (!loaded.ok) return loaded;
  return { ok: true, release: () => releaseWith(loaded.syscalls) };
}

function releaseWith(addon: Syscalls): MemoryReleaseResult {
  // Read just before the calls, so the check (never written, not writable) is of the mapping as it is now.
  const candidates = releasableMappings(parseSmaps(readFileSync('/proc/self/smaps', 'utf8')));
  let releasedKiB = 0;
  let refused = 0;
  for (const mapping of candidates) {
    if (addon.dropCleanPages(mapping.start, mapping.end - mapping.start) === 0) releasedKiB += mapping.rssKiB;
    else refused++;
  }
  return { releasedKiB, mappings: candidates.length, refused, mallocTrimmed: addon.trimMalloc() };
}

/** The flag both processes take (spread into their flag tables), checked by checkMemoryReleaseInterval. */
export const MEMORY_RELEASE_FLAGS = {
  'memory-release-interval': {
    type: 'duration',
    default: 10_000,
    usage:
      "how often the process gives back the clean pages of its binary and glibc's free pages (runtime/common/memory; 0: never)",
  },
} as const satisfies FlagSpecs;

/** --memory-release-interval of both processes: 0 (off) or from 1s (each release reads smaps) to 24h. */
export function checkMemoryReleaseInterval(intervalMs: number): void {
  if (intervalMs !== 0 && (intervalMs < 1000 || intervalMs > 86_400_000))
    throw new FlagError(
      `invalid value "${intervalMs}ms" for flag --memory-release-interval: must be 0s (off) or from 1s to 24h, e.g. 10s`,
    );
}

/** A running release schedule. */
export interface MemoryReleaseSchedule {
  stop(): void;
}

/**
 * Loads the addon and releases once at the next turn of the event loop, then every `intervalMs` (0: never).
 * Nothing of it runs inside the caller's start: the CLI installs its SIGTERM handler right after the start
 * returns, and a signal while the addon loads would kill it uncleanly. The timers never hold the process
 * open. A failure to load or to release is logged, once, and only costs the memory.
 */
export function startMemoryRelease(props: {
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly addonPath?: string;
}): MemoryReleaseSchedule {
  const { intervalMs, logger } = props;
  if (intervalMs <= 0) return { stop() {} };
  let timer: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    const loaded = loadMemoryRelease(props.addonPath);
    if (!loaded.ok) {
      logger.warn('memory release is off; RSS stays higher', { reason: loaded.reason });
      return;
    }
    let failed = false;
    const releaseOnce = (isFirst: boolean) => {
      try {
        const fields = { ...loaded.release(), intervalMs };
        if (isFirst) logger.info('memory release on', fields);
        else logger.debug('memory released', fields);
      } catch (err) {
        if (!failed)
          logger.warn('memory release failed; RSS stays higher', { error: (err as Error).message });
        failed = true;
      }
    };
    releaseOnce(true);
    timer = setInterval(() => releaseOnce(false), intervalMs);
    timer.unref();
  }, 0);
  first.unref();
  return {
    stop: () => {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
