// Host names for the test doubles without touching the machine's /etc/hosts.
//
// Why this choice: Key Vault URLs are `https://<vault>.<keyVaultDNSSuffix>/` and the upstream (Go)
// provider builds them itself, so the names must really resolve. Each double listens on port 443 of
// its own random 127.x.y.z address (two runs on one machine do not collide, and URLs need no port,
// exactly like Azure), and each provider process runs under `unshare --mount` with a private
// bind-mounted hosts file mapping the vault and login names to those addresses. Go's resolver and
// Node's getaddrinfo both read /etc/hosts, so both providers see the same names. In-process Node
// clients use an https.Agent with a `lookup` instead. Root is needed for port 443 and unshare (CI
// and this rig run as root).
import { LookupAddress, LookupOptions } from 'node:dns';
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A random loopback address 127.a.b.c outside 127.0.0.0/16 (which the machine itself uses). */
export function randomLoopbackAddress(): string {
  return `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
}

/** Whether this process may bind port 443 and create mount namespaces. */
export function canUsePrivilegedLoopback(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `dns.lookup`-compatible function resolving the given names (exact, or `*.suffix` patterns) to
 * loopback addresses; any other name fails with ENOTFOUND, so nothing leaves the machine.
 */
export function staticLookup(hosts: Readonly<Record<string, string>>) {
  const resolve = (hostname: string): string | undefined => {
    const name = hostname.toLowerCase();
    if (hosts[name]) return hosts[name];
    for (const [pattern, address] of Object.entries(hosts)) {
      if (pattern.startsWith('*.') && name.endsWith(pattern.slice(1))) return address;
    }
    return undefined;
  };
  return (hostname: string, options: LookupOptions | LookupCallback, callback?: LookupCallback): void => {
    const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
    const opts = typeof options === 'object' ? options : {};
    const address = resolve(hostname);
    if (!address) {
      const err: NodeJS.ErrnoException = new Error(
        `getaddrinfo ENOTFOUND ${hostname} (not a test double host)`,
      );
      err.code = 'ENOTFOUND';
      process.nextTick(() => cb(err, ''));
      return;
    }
    if (opts.all) process.nextTick(() => cb(null, [{ address, family: 4 }]));
    else process.nextTick(() => cb(null, address, 4));
  };
}

/** Writes a hosts file (exact names only; hosts files have no wildcards) and returns its path. */
export function writeHostsFile(dir: string, hosts: Readonly<Record<string, string>>): string {
  const lines = [
    '127.0.0.1 localhost',
    '::1 localhost',
    ...Object.entries(hosts).map(([n, a]) => `${a} ${n}`),
  ];
  const path = join(dir, 'hosts');
  writeFileSync(path, lines.join('\n') + '\n', { mode: 0o644 });
  return path;
}

/** Where pods (and so upstream's identity binding) find the cluster CA. */
export const SERVICE_ACCOUNT_CA_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';

/**
 * The command line that runs `command args...` in a private mount namespace where /etc/hosts is
 * `hostsFile` and, with `serviceAccountCaFile`, {@link SERVICE_ACCOUNT_CA_PATH} holds a copy of that file
 * (on a tmpfs over /run, as a pod's projected volume). The machine's /etc/hosts and /run are never modified.
 */
export function withPrivateHosts(
  hostsFile: string,
  command: string,
  args: readonly string[],
  serviceAccountCaFile?: string,
): [string, string[]] {
  const caDir = SERVICE_ACCOUNT_CA_PATH.replace(/\/[^/]*$/, '');
  const script =
    serviceAccountCaFile === undefined
      ? 'mount --bind "$0" /etc/hosts && exec "$@"'
      : `mount --bind "$0" /etc/hosts && mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -p ${caDir} && cp "$1" ${SERVICE_ACCOUNT_CA_PATH} && shift && exec "$@"`;
  return [
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      hostsFile,
      ...(serviceAccountCaFile === undefined ? [] : [serviceAccountCaFile]),
      command,
      ...args,
    ],
  ];
}
