// What the node needs from this machine, checked before anything starts, so a missing piece is named once:
// root (mounts, cgroups, network links, port 53/443), the Debian tools build.sh installs, and the built
// binaries and image layers.
import * as fs from 'node:fs';
import { nodeBinary } from '../rig-env';
import { missingCachedLayer } from './node-images';

const TOOLS: Readonly<Record<string, string>> = {
  '/usr/bin/containerd': 'containerd',
  '/usr/bin/ctr': 'containerd',
  '/usr/sbin/runc': 'runc',
  '/usr/lib/cni/ptp': 'containernetworking-plugins',
  '/usr/lib/cni/host-local': 'containernetworking-plugins',
  '/usr/lib/cni/loopback': 'containernetworking-plugins',
  '/usr/sbin/dnsmasq': 'dnsmasq-base',
  '/usr/bin/socat': 'socat',
  '/usr/sbin/ip': 'iproute2',
};

/** Why the node cannot run here, or undefined when it can. */
export function nodeUnavailable(): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'the node needs root (mounts, cgroups, network links); run the node tests as root';
  }
  if (!fs.existsSync('/sys/fs/cgroup')) return 'no /sys/fs/cgroup: the kubelet needs cgroups';
  const missing = [
    ...new Set(
      Object.entries(TOOLS)
        .filter(([file]) => !fs.existsSync(file))
        .map(([, pkg]) => pkg),
    ),
  ];
  if (missing.length > 0) {
    return `Debian packages missing: ${missing.join(', ')} (bash harness/rig/build.sh installs them, as root)`;
  }
  try {
    nodeBinary('kubelet');
    nodeBinary('kubeScheduler');
    nodeBinary('csiSidecars');
    return missingCachedLayer();
  } catch (error) {
    return (error as Error).message;
  }
}
