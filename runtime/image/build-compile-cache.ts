// Generates the runtime image's compile cache (compile-cache.ts) at image build time, with the image's own
// Node: it loads the driver's require graph and the provider's bundle (build-bundles.ts; its graph where
// there is no bundle) once each, with exactly the node flags and NODE_OPTIONS the install gives that
// container, because V8 keeps one cache per flag set and ignores the others. Then it loads each again and
// fails the build unless V8 accepted the entries, so a Node upgrade that changes the format cannot ship an
// image whose cache is dead weight.
//   node build/runtime/image/build-compile-cache.js [<cache dir>]   (default: the image's /app/.compile-cache)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DRIVER_NODE_FLAGS, DRIVER_NODE_OPTIONS } from '../../lib/core/install/driver-daemonset';
import { PROVIDER_NODE_FLAGS, PROVIDER_NODE_OPTIONS } from '../../lib/core/install/provider-daemonset';
import { IMAGE_COMPILE_CACHE_DIR } from './compile-cache';
import { currentBundle } from './image-bundle';

/** One process of the image: the module its subcommand loads and the flags the install starts it with. */
export interface CachedProcess {
  readonly name: 'driver' | 'provider';
  readonly entry: string;
  readonly nodeFlags: readonly string[];
  readonly nodeOptions: string;
}

export const IMAGE_PROCESSES: readonly CachedProcess[] = [
  {
    name: 'driver',
    entry: currentBundle('driver') ?? path.join(__dirname, '..', 'driver', 'main'),
    nodeFlags: DRIVER_NODE_FLAGS,
    nodeOptions: DRIVER_NODE_OPTIONS,
  },
  {
    name: 'provider',
    entry: currentBundle('provider') ?? path.join(__dirname, '..', 'provider', 'main'),
    nodeFlags: PROVIDER_NODE_FLAGS,
    nodeOptions: PROVIDER_NODE_OPTIONS,
  },
];

/** How many of a process's modules V8 took from the cache, and how many it compiled afresh. */
export interface CacheUse {
  readonly accepted: number;
  readonly compiled: number;
}

/** What Node's compile-cache debug log (`NODE_DEBUG_NATIVE=COMPILE_CACHE`) says about each module file. */
export function countCacheVerdicts(debugLog: string): CacheUse {
  const lines = debugLog.split('\n');
  const count = (pattern: RegExp) => lines.filter((line) => pattern.test(line)).length;
  return {
    accepted: count(/^\[compile cache\] V8 code cache for CommonJS \/.* was accepted/),
    compiled: count(/^\[compile cache\] V8 code cache for CommonJS \/.* was (not initialized|rejected)/),
  };
}

/**
 * Loads `proc`'s require graph (its entry module; nothing runs) with the cache at `directory`, as the
 * image's process would, and counts what Node's compile-cache debug log says about each module.
 */
export function loadWithCache(proc: CachedProcess, directory: string): CacheUse {
  const load = `require(${JSON.stringify(proc.entry)})`;
  const run = spawnSync(process.execPath, [...proc.nodeFlags, '-e', load], {
    env: {
      ...process.env,
      NODE_OPTIONS: proc.nodeOptions,
      NODE_COMPILE_CACHE: directory,
      NODE_COMPILE_CACHE_PORTABLE: '1',
      NODE_DEBUG_NATIVE: 'COMPILE_CACHE',
    },
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines = run.stderr.split('\n');
  if (run.status !== 0) {
    const reason = lines.filter((line) => !line.startsWith('[compile cache]')).join('\n');
    throw new Error(`loading the ${proc.name}'s modules (${proc.entry}) failed: ${reason.trim()}`);
  }
  return countCacheVerdicts(run.stderr);
}

/** Writes the cache for every process of the image, then proves each one is taken. */
export function buildCompileCache(directory: string = IMAGE_COMPILE_CACHE_DIR): Map<string, CacheUse> {
  fs.rmSync(directory, { recursive: true, force: true });
  fs.mkdirSync(directory, { recursive: true });
  const uses = new Map<string, CacheUse>();
  for (const proc of IMAGE_PROCESSES) {
    loadWithCache(proc, directory);
    const use = loadWithCache(proc, directory);
    if (use.accepted === 0 || use.compiled > 0) {
      throw new Error(
        `the ${proc.name}'s compile cache in ${directory} is not used (${use.accepted} modules from the cache, ` +
          `${use.compiled} compiled again) on Node ${process.version}: check the NODE_COMPILE_CACHE documentation ` +
          'of this Node version, or drop the build-compile-cache step from runtime/Dockerfile',
      );
    }
    uses.set(proc.name, use);
  }
  return uses;
}

if (require.main === module) {
  const directory = path.resolve(process.argv[2] ?? IMAGE_COMPILE_CACHE_DIR);
  for (const [name, use] of buildCompileCache(directory))
    process.stdout.write(`compile cache: ${name}, ${use.accepted} modules, in ${directory}\n`);
}
