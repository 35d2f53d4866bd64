// Bundles the provider's require graph (its compiled modules and the runtime's dependencies) into one
// file, build/runtime/image/bundle/provider.js, which cli.ts loads in its place (image-bundle.ts).
// Why: Node resolves, stats and reads every module file of a graph on each start (~230 files for the
// provider), and under the chart's 50m CPU limit that work is seconds before the provider's socket
// answers. One file is read once and is one compile-cache entry. Measured on Node 24 with the image's
// compile cache: the provider's CPU from exec to its socket went from ~150-160 to ~125 ms
// (docs/operations.md, "The provider's bundle"). The driver is not bundled: its start runs under 200m, and
// its bundle held ~4 MiB more heap in bench/driver (the source of modules it loads lazily, node-forge).
// Lazy requires (node-forge for PFX) stay lazy: esbuild evaluates a module on its first require. The
// bundle sits two levels under build/runtime, as every module it replaces, so the paths the modules build
// from __dirname (the native addon) still resolve. Nothing is minified: stack traces keep our names.
//   node build/runtime/image/build-bundles.js            (npm run build runs it after tsc)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUNDLE_DIR, BUNDLED_PROCESSES, bundlePath } from './image-bundle';

/** Writes the bundles of BUNDLED_PROCESSES from the compiled `build/runtime` this file is part of. */
export function buildBundles(dir: string = BUNDLE_DIR): void {
  // esbuild is a devDependency: this runs at build time only, never in the image.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const runtime = path.resolve(__dirname, '..');
  // A bundle left from an earlier build of a process no longer bundled would be loaded: remove it.
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const name of BUNDLED_PROCESSES) {
    esbuild.buildSync({
      entryPoints: [path.join(runtime, name, 'main.js')],
      outfile: bundlePath(name, dir),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      // The native addon is loaded by path at run time, never bundled.
      external: ['*.node'],
      logLevel: 'warning',
      // Module names relative to the package (build/runtime/..., node_modules/...), not this machine's.
      absWorkingDir: path.resolve(runtime, '..', '..'),
      legalComments: 'eof',
    });
  }
}

if (require.main === module) buildBundles();
