// The start-up memory release the CLI runs before an image process loads its modules
// (runtime/image/startup-memory-release.ts), on the compiled runtime and its addon (`npm run build`): it
// gives back the pages Node's own start-up read in the driver, obeys --memory-release-interval=0, never
// fails a start, loads only the driver's flag table, and leaves the provider alone.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadMemoryRelease } from '../../../runtime/common/memory/memory-release';
import { releaseStartupMemory } from '../../../runtime/image/startup-memory-release';

const BUILT = path.resolve(__dirname, '../../../build/runtime/image/startup-memory-release.js');

const addon = loadMemoryRelease();
const reason = !fs.existsSync(BUILT)
  ? `${BUILT} is not built: run \`npm run build\``
  : !addon.ok
    ? `the runtime's addon does not load: ${addon.reason}`
    : undefined;
if (reason && process.env.CI === 'true') throw new Error(`the start-up release cannot be tested: ${reason}`);
if (reason) console.warn(`start-up memory release tests skipped: ${reason}`);
const itWithAddon = reason ? it.skip : it;

/** Runs `release(command, args)` of the compiled module in a fresh Node; its RssFile before and after. */
function releaseInFreshNode(command: string, args: string[]) {
  const script = `
const status = () => Number(/RssFile:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]);
const before = status();
require(${JSON.stringify(BUILT)}).releaseStartupMemory(${JSON.stringify(command)}, ${JSON.stringify(args)}).then((result) => {
  const loaded = Object.keys(require.cache).map((f) => f.replace(/\\\\/g, '/'));
  process.stdout.write(JSON.stringify({ result, before, after: status(), loaded }));
});`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as {
    result: { released: boolean; releasedKiB?: number; reason?: string };
    before: number;
    after: number;
    loaded: string[];
  };
}

describe('releaseStartupMemory', () => {
  itWithAddon(
    "gives back the clean pages of Node's start-up, before any of the driver's modules load",
    () => {
      const { result, before, after, loaded } = releaseInFreshNode('driver', ['--nodeid=n']);
      expect(result.released).toBe(true);
      // Node's start-up reads megabytes of its binary; most of it is not needed again at once.
      expect(result.releasedKiB).toBeGreaterThan(2048);
      expect(after).toBeLessThan(before - 2048);
      // The driver's flag table only: no provider module, no driver module beyond its flags.
      expect(loaded.some((f) => f.includes('/runtime/provider/'))).toBe(false);
      expect(loaded.filter((f) => f.includes('/runtime/driver/')).map((f) => path.basename(f))).toEqual([
        'flags.js',
      ]);
    },
  );

  it('leaves the provider alone (its start runs under a 50m CPU limit), loading none of its modules', () => {
    const { result, loaded } = releaseInFreshNode('provider', ['--memory-release-interval=30s']);
    expect(result).toEqual({ released: false, reason: "the provider's start runs under a 50m CPU limit" });
    expect(loaded.some((f) => f.includes('/runtime/driver/') || f.includes('/runtime/provider/'))).toBe(
      false,
    );
  });

  it.each([[['--memory-release-interval=0']], [['--memory-release-interval', '0s']]])(
    'does nothing for the driver when --memory-release-interval is 0 (%j)',
    async (args) => {
      expect(await releaseStartupMemory('driver', args)).toEqual({
        released: false,
        reason: '--memory-release-interval is 0 (off)',
      });
    },
  );

  it.each([[['--no-such-flag']], [['--memory-release-interval=soon']]])(
    'leaves flags that do not parse (%j) to main, without throwing',
    async (args) => {
      expect(await releaseStartupMemory('driver', args)).toEqual({
        released: false,
        reason: 'the flags do not parse; main reports them',
      });
    },
  );
});
