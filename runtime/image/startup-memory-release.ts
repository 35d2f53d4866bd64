// The first memory release of the driver, before its modules load. Node's own start-up reads ~40 MiB of
// its binary (V8's snapshot, builtins, ICU); those pages stayed resident until the schedule's first release
// after start, while the modules' heap grew on top of them, so the start was the driver's RSS peak (VmHWM
// 67.5 MiB idle, 56.8 with this release; docs/operations.md). Released here, the pages the modules still
// need are mapped again from the page cache (minor faults, same bytes). Not for the provider: it costs
// ~7 ms of start-up CPU, ~0.14 s before the socket answers under the provider's 50m limit, and the
// provider's memory targets are met without it. The driver's own --memory-release-interval decides (0:
// off, as for the schedule); flags that do not parse are left for main to report, and a release that
// cannot run here is left for the schedule to log.
/** What the start-up release did, for tests; the process itself logs nothing here (no logger yet). */
export type StartupRelease =
  | { readonly released: true; readonly releasedKiB: number }
  | { readonly released: false; readonly reason: string };

/** The driver: gives back the clean pages Node's start-up left resident, unless `args` turn release off. */
export async function releaseStartupMemory(
  command: 'driver' | 'provider',
  args: readonly string[],
): Promise<StartupRelease> {
  if (command === 'provider')
    return { released: false, reason: "the provider's start runs under a 50m CPU limit" };
  // Loaded only here, so the provider's start (under 50m) loads none of them twice beside its bundle.
  const { parseFlags } = await import('../common/go-compat/flags');
  const { loadMemoryRelease } = await import('../common/memory/memory-release');
  const { DRIVER_FLAGS } = await import('../driver/flags'); // the driver's table only, loaded as main loads it
  let intervalMs: number;
  try {
    intervalMs = parseFlags(args, DRIVER_FLAGS).flags['memory-release-interval'] as number;
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
