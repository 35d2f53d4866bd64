// The first memory release of an image process, before its driver or provider modules load. Node's own
// start-up reads ~40 MiB of its binary (V8's snapshot, builtins, ICU); those pages stayed resident until
// the schedule's first release after start, while the modules' heap grew on top of them, so the start
// was the driver's RSS peak (VmHWM 67.5 MiB idle, 56.8 with this release; docs/operations.md). Released
// here, the pages the modules still need are mapped again from the page cache (minor faults, same bytes).
// The process's own --memory-release-interval decides (0: off, as for the schedule); flags that do not
// parse are left for main to report, and a release that cannot run here is left for the schedule to log.
import { parseFlags } from '../common/go-compat/flags';
import { loadMemoryRelease } from '../common/memory/memory-release';

/** What the start-up release did, for tests; the process itself logs nothing here (no logger yet). */
export type StartupRelease =
  | { readonly released: true; readonly releasedKiB: number }
  | { readonly released: false; readonly reason: string };

/** Gives back the clean pages Node's start-up left resident, unless `args` turn memory release off. */
export async function releaseStartupMemory(
  command: 'driver' | 'provider',
  args: readonly string[],
): Promise<StartupRelease> {
  // Only the command's own flag table: the driver never loads the provider's modules, nor the reverse.
  const specs =
    command === 'driver'
      ? (await import('../driver/flags')).DRIVER_FLAGS
      : (await import('../provider/flags')).PROVIDER_FLAGS;
  let intervalMs: number;
  try {
    intervalMs = parseFlags(args, specs).flags['memory-release-interval'] as number;
  } catch {
    return { released: false, reason: 'the flags do not parse; main reports them' };
  }
  if (intervalMs <= 0) return { released: false, reason: '--memory-release-interval is 0 (off)' };
  const loaded = loadMemoryRelease();
  if (!loaded.ok) return { released: false, reason: loaded.reason };
  try {
    return { released: true, releasedKiB: loaded.release().releasedKiB };
  } catch (err) {
    return { released: false, reason: (err as Error).message };
  }
}
