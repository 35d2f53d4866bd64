// Bundles the driver's and the provider's require graphs (their compiled modules and the runtime's
// dependencies) into one file each, build/runtime/image/bundle/<name>.js, which cli.ts loads in their place.
// Why: Node resolves, stats and reads every module file of a graph on each start (~230 files for the
// provider), and under the chart's 50m CPU limit that work is seconds before the provider's socket
// answers. One file is read once and is one compile-cache entry. Measured on Node 24 with the image's
// compile cache: the provider's module load went from ~117 to ~77 ms of CPU (docs/operations.md, "Start-up").
// Lazy requires (node-forge, yaml for a kubeconfig) stay lazy: esbuild evaluates a module on its first
// require. The bundle sits two levels under build/runtime, as every module it replaces, so the paths the
// modules build from __dirname (the native addon) still resolve. Nothing is minified: stack traces keep
// our names and lines are still readable.
//   node build/runtime/image/build-bundles.js            (npm run build runs it after tsc)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUNDLE_DIR, bundlePath } from './image-bundle';

/** Writes both bundles from the compiled `build/runtime` this file is part of. */
export function buildBundles(dir: string = BUNDLE_DIR): void {
  // esbuild is a devDependency: this runs at build time only, never in the image.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const runtime = path.resolve(__dirname, '..');
  fs.mkdirSync(dir, { recursive: true });
  for (const name of ['driver', 'provider'] as const) {
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
      // Module names in the bundle relative to the package (build/runtime/..., node_modules/...), not this machine's.
      absWorkingDir: path.resolve(runtime, '..', '..'),
      legalComments: 'eof',
    });
  }
}

if (require.main === module) buildBundles();
