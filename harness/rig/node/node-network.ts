// The node's networking, the way a real cluster provides it but with no traffic leaving the machine:
//
// - Pod networks: CNI `ptp` + `host-local` (Debian's containernetworking-plugins) on a /24 of 198.18.0.0/15,
//   the range reserved for benchmarking (RFC 2544), never routed anywhere. Each pod gets its own network
//   namespace and a veth pair to the host; nothing is masqueraded or forwarded off the machine. Why not
//   hostNetwork for everything: the seed pod and the driver DaemonSet are not hostNetwork, and both must run
//   unchanged. Why not 127.x for pods: inside a pod network namespace all of 127.0.0.0/8 is that pod's own
//   loopback, so a pod could reach nothing on the host.
// - The `kubernetes` Service: no kube-proxy runs, so its ClusterIP (the first address of the cluster's
//   service range, also in 198.18.0.0/15) sits on a link of its own on the host, where socat forwards it to the
//   apiserver on 127.0.0.1. In-cluster clients (our driver, upstream's) use it exactly as on a cluster.
// - Cluster DNS for the hostNetwork provider: dnsmasq on a loopback address answers only the names the test
//   doubles register in its hosts dir (Key Vault, Entra ID) and NXDOMAIN for everything else.
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomLoopbackAddress } from '../../fakes/loopback-hosts';
import { RigProcess, spawnLogged, waitUntil } from '../processes';

/** A /24 of the benchmarking range for one cluster's Services (the apiserver's --service-cluster-ip-range). */
export function randomServiceRange(): string {
  return `198.19.${randomInt(0, 256)}.0/24`;
}

/** A /24 of the benchmarking range for one node's pods. */
export function randomPodSubnet(): string {
  return `198.18.${randomInt(0, 256)}.0/24`;
}

/** CNI plugins of Debian's containernetworking-plugins. */
export const CNI_BIN_DIR = '/usr/lib/cni';
export const CNI_NETWORK_NAME = 'aks-secrets-store-rig';

/** Writes the CNI network list containerd reads from `confDir`; IPAM state stays in `ipamDir`. */
export function writeCniConfig(confDir: string, ipamDir: string, podSubnet: string): void {
  fs.mkdirSync(confDir, { recursive: true });
  fs.mkdirSync(ipamDir, { recursive: true });
  const config = {
    cniVersion: '0.4.0',
    name: CNI_NETWORK_NAME,
    plugins: [
      {
        type: 'ptp',
        ipMasq: false,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: podSubnet }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: ipamDir,
        },
      },
    ],
  };
  fs.writeFileSync(path.join(confDir, '10-aks-secrets-store-rig.conflist'), JSON.stringify(config, null, 2));
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Adds a port-less bridge holding `address`/32 (the kubernetes Service address): a link of its own, so
 * removing it removes the address (this kernel has no `dummy` link type).
 */
export function addServiceLink(link: string, address: string): void {
  ip('link', 'add', link, 'type', 'bridge');
  ip('addr', 'add', `${address}/32`, 'dev', link);
  ip('link', 'set', link, 'up');
}

/** Removes the link if it exists. */
export function removeServiceLink(link: string): void {
  try {
    ip('link', 'del', link);
  } catch {
    // Already gone.
  }
}

/** socat: `<serviceIp>:443` → the apiserver on loopback, one child per connection. */
export function startServiceForwarder(props: {
  serviceIp: string;
  apiserverUrl: string;
  logDir: string;
  processes: RigProcess[];
}): RigProcess {
  const target = new URL(props.apiserverUrl);
  const proc = spawnLogged({
    name: 'kubernetes-service-forwarder',
    binary: '/usr/bin/socat',
    logDir: props.logDir,
    args: [
      `TCP4-LISTEN:443,bind=${props.serviceIp},reuseaddr,fork`,
      `TCP4:${target.hostname}:${target.port}`,
    ],
  });
  props.processes.push(proc);
  return proc;
}

export interface ClusterDns {
  /** The loopback address dnsmasq answers on (port 53): the kubelet's clusterDNS. */
  readonly address: string;
  /** Hosts files dropped here are read at once (dnsmasq watches the dir). */
  readonly hostsDir: string;
  readonly process: RigProcess;
}

/** dnsmasq answering only what is in `hostsDir`; every other name is NXDOMAIN, nothing is forwarded. */
export async function startClusterDns(props: {
  dir: string;
  logDir: string;
  processes: RigProcess[];
  readyTimeoutMs: number;
}): Promise<ClusterDns> {
  const hostsDir = path.join(props.dir, 'dns-hosts');
  fs.mkdirSync(hostsDir, { recursive: true, mode: 0o755 });
  const address = randomLoopbackAddress();
  const proc = spawnLogged({
    name: 'cluster-dns',
    binary: '/usr/sbin/dnsmasq',
    logDir: props.logDir,
    args: [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--log-facility=-',
      '--no-resolv',
      '--no-hosts',
      '--no-poll',
      `--hostsdir=${hostsDir}`,
      `--listen-address=${address}`,
      '--bind-interfaces',
      '--port=53',
      // Every name not in the hosts dir: NXDOMAIN, answered here, never forwarded.
      '--address=/#/',
      '--user=root',
      '--pid-file=',
    ],
  });
  props.processes.push(proc);
  await waitUntil(async () => fs.readFileSync(proc.logFile, 'utf8').includes('started, version'), {
    what: 'dnsmasq (cluster DNS)',
    timeoutMs: props.readyTimeoutMs,
    process: proc,
  });
  return { address, hostsDir, process: proc };
}
