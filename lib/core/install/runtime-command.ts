// The command of a container of our runtime image that needs node flags NODE_OPTIONS refuses (V8's
// tiering flags): the image's entrypoint (runtime/Dockerfile) with those flags before the script.

/** The runtime image's entry script (runtime/Dockerfile's ENTRYPOINT). */
export const RUNTIME_CLI_PATH = '/app/build/runtime/cli.js';

/**
 * Node flags on the command line of both our containers. `--no-icu-timezone-data`: V8 takes the local
 * time zone from libc (TZ, /etc/localtime) instead of ICU. With ICU, the first Date formatting (Node's
 * http2 server writes a `date` header on every gRPC response; our logs write toISOString) pages in
 * ICU's zone tables and code: bench/driver 110 volumes, icudt78_dat resident 1.07 -> 0.45 MiB and
 * file-backed RSS 47.0 -> 46.0 MiB (docs/operations.md, "Memory of our image"). Our processes use UTC
 * only; the one visible change is Date.prototype.toString's zone name ("UTC" instead of
 * "Coordinated Universal Time"), which nothing of ours prints (docs/compatibility.md I7).
 */
export const RUNTIME_NODE_FLAGS: readonly string[] = ['--no-icu-timezone-data'];

/** `command` of a runtime-image container: `node <flags> <cli.js>`. */
export function runtimeNodeCommand(nodeFlags: readonly string[]): string[] {
  return ['node', ...nodeFlags, RUNTIME_CLI_PATH];
}
