// Where cli.ts finds the bundle of a process (build-bundles.ts makes it), and whether to use it.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type BundledProcess = 'driver' | 'provider';

/**
 * The processes the image runs from a bundle: the provider only. Its start is CPU-bound under the chart's
 * 50m limit. The driver's is not (200m), and its bundle measured worse in bench/driver (docs/operations.md).
 */
export const BUNDLED_PROCESSES: readonly BundledProcess[] = ['provider'];

/** build/runtime/image/bundle: two levels under build/runtime, as the modules a bundle replaces. */
export const BUNDLE_DIR = path.join(__dirname, 'bundle');

/** The bundle file of `name` in `dir`. */
export function bundlePath(name: BundledProcess, dir: string = BUNDLE_DIR): string {
  return path.join(dir, `${name}.js`);
}

/**
 * The bundle to load for `name`, or undefined to load its modules one by one: `name` is not bundled,
 * there is none (a development build, the npm package), or it is older than the compiled main it was made from, which
 * happens when tsc ran again without the bundle step; then the fresh modules win.
 */
export function currentBundle(name: BundledProcess, dir: string = BUNDLE_DIR): string | undefined {
  if (!BUNDLED_PROCESSES.includes(name)) return undefined; // the build makes none: no file to look for
  const bundle = bundlePath(name, dir);
  const main = path.join(dir, '..', '..', name, 'main.js');
  try {
    return fs.statSync(bundle).mtimeMs >= fs.statSync(main).mtimeMs ? bundle : undefined;
  } catch {
    return undefined;
  }
}
