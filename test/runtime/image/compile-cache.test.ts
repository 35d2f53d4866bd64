// The runtime image's compile cache, on the image's Node 24 (the rig's cached layer) and the compiled
// runtime (`npm run build`): the build step writes a cache each process takes whole, the entry the CLI
// calls makes the process take it, and a damaged cache costs a compile, never a wrong or failed start.
// Outside the image there is no cache directory, and then nothing is enabled or created.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { node24Binary } from '../../../harness/rig/node/node-images';
import { countCacheVerdicts } from '../../../runtime/image/build-compile-cache';
import { enableImageCompileCache } from '../../../runtime/image/compile-cache';
import { DRIVER_NODE_FLAGS, DRIVER_NODE_OPTIONS } from '../../../lib/core/install/driver-daemonset';

const BUILD = path.resolve(__dirname, '../../../build/runtime');
const BUILD_STEP = path.join(BUILD, 'image', 'build-compile-cache.js');
const ENABLE = path.join(BUILD, 'image', 'compile-cache.js');
const DRIVER_MAIN = path.join(BUILD, 'driver', 'main.js');

function node24OrReason(): { node?: string; reason?: string } {
  if (!fs.existsSync(BUILD_STEP)) return { reason: `${BUILD_STEP} is not built: run \`npm run build\`` };
  try {
    return { node: node24Binary() };
  } catch (error) {
    return {
      reason: `the rig's Node 24 layer is missing (bash harness/rig/build.sh node): ${(error as Error).message}`,
    };
  }
}

const { node, reason } = node24OrReason();
if (reason && process.env.CI === 'true') throw new Error(`the compile cache cannot be tested: ${reason}`);
if (reason) console.warn(`compile-cache tests on Node 24 skipped: ${reason}`);
const itOnNode24 = reason ? it.skip : it;

/** A `node -e` script that loads the driver's graph as cli.js does: the cache enabled first (exit 3 if not). */
function cliEntryScript(cacheDir: string): string {
  return `require(${JSON.stringify(ENABLE)}).enableImageCompileCache(${JSON.stringify(cacheDir)}) || process.exit(3);
require(${JSON.stringify(DRIVER_MAIN)});`;
}

/** Starts the driver's require graph as cli.js does (enable first), and counts the cache's verdicts. */
function loadDriverThroughTheCliEntry(cacheDir: string): {
  status: number | null;
  accepted: number;
  compiled: number;
  cacheSet?: string;
} {
  const run = spawnSync(node!, [...DRIVER_NODE_FLAGS, '-e', cliEntryScript(cacheDir)], {
    env: { ...process.env, NODE_OPTIONS: DRIVER_NODE_OPTIONS, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
    encoding: 'utf8',
  });
  return {
    // The cache of this flag set: `resolved path <dir> + v24...-x64-<flags hash>-0 -> ...`.
    cacheSet: /^\[compile cache\] resolved path .* \+ (\S+) ->/m.exec(run.stderr)?.[1],
    status: run.status,
    ...countCacheVerdicts(run.stderr),
  };
}

const asRoot = process.getuid?.() === 0;
if (!asRoot && process.env.CI === 'true')
  throw new Error('the read-only compile cache test needs root (mount --bind -o ro)');
const itOnNode24AsRoot = reason || !asRoot ? it.skip : it;
if (!reason && !asRoot) console.warn('compile-cache read-only test skipped: needs root (mount --bind -o ro)');

describe('the image compile cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compile-cache-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is not enabled, and no directory is made, where there is no cache (the npm package, a dev build)', () => {
    const missing = path.join(dir, '.compile-cache');
    expect(enableImageCompileCache(missing)).toBe(false);
    expect(fs.existsSync(missing)).toBe(false);
  });

  itOnNode24(
    'the build step writes a cache the driver and the provider each take for every module they load',
    () => {
      const cache = path.join(dir, '.compile-cache');
      const run = spawnSync(node!, [BUILD_STEP, cache], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const counts = Object.fromEntries(
        [...run.stdout.matchAll(/^compile cache: (driver|provider), (\d+) modules/gm)].map((m) => [
          m[1],
          Number(m[2]),
        ]),
      );
      // The driver's graph is a hundred modules and more (grpc-js alone is dozens); the provider is one file,
      // its bundle (runtime/image/build-bundles.ts). The step itself fails on any miss.
      expect(counts.driver).toBeGreaterThan(100);
      expect(counts.provider).toBe(1);
      // One cache per flag set: the driver's `--max-opt=2` makes its own.
      expect(fs.readdirSync(cache)).toHaveLength(2);

      const started = loadDriverThroughTheCliEntry(cache);
      expect(started).toMatchObject({ status: 0, accepted: counts.driver, compiled: 0 });
    },
  );

  itOnNode24(
    'a damaged cache is compiled past: the process starts with the same modules, none from the cache',
    () => {
      const cache = path.join(dir, '.compile-cache');
      expect(spawnSync(node!, [BUILD_STEP, cache], { encoding: 'utf8' }).status).toBe(0);
      const intact = loadDriverThroughTheCliEntry(cache);
      for (const sub of fs.readdirSync(cache))
        for (const entry of fs.readdirSync(path.join(cache, sub)))
          fs.writeFileSync(path.join(cache, sub, entry), Buffer.alloc(64, 0xa5));
      const damaged = loadDriverThroughTheCliEntry(cache);
      expect(damaged.status).toBe(0);
      expect(damaged.accepted).toBe(0);
      expect(damaged.compiled).toBe(intact.accepted);
    },
  );

  itOnNode24AsRoot(
    'on a read-only root filesystem a process with entries to add starts and exits cleanly, writing nothing',
    () => {
      const cache = path.join(dir, '.compile-cache');
      expect(spawnSync(node!, [BUILD_STEP, cache], { encoding: 'utf8' }).status).toBe(0);
      // Half the driver's entries gone: Node compiles those and would write them at exit.
      const driverSet = loadDriverThroughTheCliEntry(cache).cacheSet!;
      expect(fs.readdirSync(cache)).toContain(driverSet);
      const entries = fs.readdirSync(path.join(cache, driverSet));
      for (const entry of entries.slice(0, Math.floor(entries.length / 2)))
        fs.rmSync(path.join(cache, driverSet, entry));
      const before = fs.readdirSync(path.join(cache, driverSet)).sort();
      execFileSync('mount', ['--bind', '-o', 'ro', cache, cache]);
      try {
        const script = cliEntryScript(cache);
        for (const flags of [[], DRIVER_NODE_FLAGS]) {
          const run = spawnSync(node!, [...flags, '-e', script], {
            env: { ...process.env, NODE_OPTIONS: DRIVER_NODE_OPTIONS },
            encoding: 'utf8',
          });
          expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
        }
      } finally {
        execFileSync('umount', [cache]);
      }
      expect(fs.readdirSync(cache).filter((sub) => sub !== driverSet).length).toBe(1);
      expect(fs.readdirSync(path.join(cache, driverSet)).sort()).toEqual(before);
    },
  );
});
