// The command of a container of our runtime image that needs node flags NODE_OPTIONS refuses (V8's
// tiering flags): the image's entrypoint (runtime/Dockerfile) with those flags before the script.

/** The runtime image's entry script (runtime/Dockerfile's ENTRYPOINT). */
export const RUNTIME_CLI_PATH = '/app/build/runtime/cli.js';

/** `command` of a runtime-image container: `node <flags> <cli.js>`. */
export function runtimeNodeCommand(nodeFlags: readonly string[]): string[] {
  return ['node', ...nodeFlags, RUNTIME_CLI_PATH];
}
