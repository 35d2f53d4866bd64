// The driver's command line: upstream v1.6 flag names and defaults (reference §7.1), so a DaemonSet
// written for the upstream image runs ours unchanged, plus a few of our own (marked "ours").
import { FlagError, FlagSpecs, formatFlagUsage, parseFlags, ParsedFlags } from '../common/go-compat/flags';
import { checkMemoryReleaseInterval, MEMORY_RELEASE_FLAGS } from '../common/memory/memory-release';

export const DRIVER_FLAGS = {
  endpoint: {
    type: 'string',
    default: 'unix://tmp/csi.sock',
    usage: 'CSI endpoint (unix socket), e.g. unix:///csi/csi.sock',
  },
  drivername: {
    type: 'string',
    default: 'secrets-store.csi.k8s.io',
    usage: 'name of the driver (GetPluginInfo)',
  },
  nodeid: {
    type: 'string',
    default: '',
    usage: "this node's name (NodeGetInfo, SPCPS node label); usually $(KUBE_NODE_NAME)",
  },
  'log-format-json': {
    type: 'bool',
    default: false,
    usage: 'accepted for compatibility; logs are always JSON lines',
  },
  'provider-volume': {
    type: 'string',
    default: '/var/run/secrets-store-csi-providers',
    usage: 'directory of the provider sockets',
  },
  'additional-provider-volume-paths': {
    type: 'string',
    default: '/etc/kubernetes/secrets-store-csi-providers',
    usage: 'comma-separated extra provider socket directories, searched before --provider-volume',
  },
  'metrics-addr': {
    type: 'string',
    default: ':8095',
    usage: 'address of the /metrics and /healthz endpoint',
  },
  'metrics-backend': { type: 'string', default: 'Prometheus', usage: 'metrics backend; only Prometheus' },
  'enable-secret-rotation': {
    type: 'bool',
    default: false,
    usage: 'refresh mounted content on kubelet republish (CSIDriver requiresRepublish)',
  },
  // Every 3 s, not the provider's 10 s: between two releases the driver's burst of republishes pages its
  // binary back in while its heap grows, and that set its RSS peak (bench/driver: 71.1-74.8 MiB at 10 s,
  // 59.8-62.1 at 3 s, CPU unchanged; ~3 ms of CPU per release, 1 ms/s idle: docs/operations.md).
  'memory-release-interval': { ...MEMORY_RELEASE_FLAGS['memory-release-interval'], default: 3_000 },
  'rotation-poll-interval': {
    type: 'duration',
    default: 120_000,
    usage: 'least time between two provider calls for one volume (Go duration)',
  },
  'max-call-recv-msg-size': {
    type: 'int',
    default: 4194304,
    usage: 'largest provider Mount response accepted, in bytes',
  },
  'provider-start-wait': {
    type: 'duration',
    default: 5000,
    usage:
      "ours: how long a mount waits for a provider socket that is not there yet (a provider still starting), at most half of the call's deadline; 0 fails at once as upstream",
  },
  'provider-health-check': {
    type: 'bool',
    default: false,
    usage: 'accepted for compatibility; provider sockets are re-resolved on every call instead',
  },
  'provider-health-check-interval': {
    type: 'duration',
    default: 120_000,
    usage: 'accepted for compatibility',
  },
  'enable-pprof': {
    type: 'bool',
    default: false,
    usage: 'accepted for compatibility; no pprof in a Node.js process',
  },
  'pprof-port': { type: 'int', default: 6065, usage: 'accepted for compatibility' },
  'healthz-port': {
    type: 'int',
    default: 0,
    usage: 'ours: also serve /healthz on this port (0: only on --metrics-addr)',
  },
  'tmpfs-size': {
    type: 'string',
    default: '',
    usage: 'ours: tmpfs size limit per volume, e.g. 16m (default: kernel default, half of RAM)',
  },
  v: { type: 'int', default: 0, usage: 'log verbosity as klog: 5 and above logs debug lines' },
  version: { type: 'bool', default: false, usage: 'print the version as JSON and exit' },
} satisfies FlagSpecs;

export type DriverFlags = ParsedFlags<typeof DRIVER_FLAGS>;

/** Parses and cross-checks the flags; every error names the flag and the fix. */
export function parseDriverFlags(args: readonly string[]): { flags: DriverFlags; help: boolean } {
  const { flags, positional, help } = parseFlags(args, DRIVER_FLAGS);
  if (positional.length > 0)
    throw new FlagError(`unexpected argument ${JSON.stringify(positional[0])}; flags are --name=value`);
  if (help || flags.version) return { flags, help };
  if (!flags.nodeid)
    throw new FlagError('--nodeid is required: pass the node name, e.g. --nodeid=$(KUBE_NODE_NAME)');
  if (flags['metrics-backend'].toLowerCase() !== 'prometheus') {
    throw new FlagError(`--metrics-backend=${flags['metrics-backend']} is not supported; use Prometheus`);
  }
  if (flags['max-call-recv-msg-size'] <= 0)
    throw new FlagError('--max-call-recv-msg-size must be a positive number of bytes, e.g. 4194304');
  checkMemoryReleaseInterval(flags['memory-release-interval']);
  if (flags['rotation-poll-interval'] < 0)
    throw new FlagError('--rotation-poll-interval must not be negative, e.g. 2m');
  if (flags['provider-start-wait'] < 0 || flags['provider-start-wait'] > 60_000)
    throw new FlagError(
      '--provider-start-wait must be between 0 (fail at once, as upstream) and 1m, e.g. 5s',
    );
  if (flags['tmpfs-size'] && !/^[0-9]+[kmg%]?$/.test(flags['tmpfs-size'])) {
    throw new FlagError(
      `--tmpfs-size=${flags['tmpfs-size']} is not valid; use bytes with an optional k, m, g or % suffix, e.g. 16m`,
    );
  }
  parseListenAddress(flags['metrics-addr'], '--metrics-addr');
  return { flags, help };
}

/** `:8095`, `0.0.0.0:8095` or `[::1]:8095` → host (undefined = all interfaces) and port. */
export function parseListenAddress(address: string, flagName: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):([0-9]{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new FlagError(`${flagName}=${address} is not a listen address; use [host]:port, e.g. :8095`);
  const host = m[1] ?? m[2];
  return { host: host ? host : undefined, port };
}

/** Provider socket directories in upstream's search order: the additional paths, then --provider-volume. */
export function providerDirs(flags: DriverFlags): string[] {
  const additional = flags['additional-provider-volume-paths']
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d.length > 0);
  return [...additional, flags['provider-volume']];
}

export function driverUsage(): string {
  return formatFlagUsage('aks-secrets-store driver', DRIVER_FLAGS);
}
