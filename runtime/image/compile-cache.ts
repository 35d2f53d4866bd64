// The runtime image's V8 compile cache: the bytecode of the driver's and the provider's require graphs,
// generated when the image is built (build-compile-cache.ts), so a starting process deserializes it
// instead of compiling every module again. It matters most to the provider, whose ~0.25 s of start-up
// CPU under the chart's 50m limit is seconds before its socket answers (docs/operations.md, "Start-up").
// Only the image has the directory; the npm package (the doctor) and a development build do not, and
// then nothing is enabled. Node checks every entry against the module's source and its own V8 flags,
// so a stale or foreign entry is recompiled, never used; on a read-only root filesystem the entries
// Node would add at exit are silently not written. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
import * as fs from 'node:fs';
import * as nodeModule from 'node:module';
import * as path from 'node:path';

/** `/app/.compile-cache` in the image: next to `build/`, so the portable entries' relative paths hold. */
export const IMAGE_COMPILE_CACHE_DIR = path.resolve(__dirname, '..', '..', '..', '.compile-cache');

/** Node 22.1+ (`portable` since 24.12); absent from the Node 20 typings this repository compiles with. */
type EnableCompileCache = (options: { directory: string; portable: boolean }) => unknown;

/** Uses the image's compile cache when there is one; returns whether it was enabled. */
export function enableImageCompileCache(directory: string = IMAGE_COMPILE_CACHE_DIR): boolean {
  // Node would create a missing directory: outside the image that would be a stray folder next to build/.
  if (!fs.existsSync(directory)) return false;
  const enable = (nodeModule as unknown as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (!enable) return false;
  enable({ directory, portable: true });
  return true;
}
