// How node tests reach the running node: the node project's globalSetup writes NodeEndpoints into the
// environment (jest workers inherit it); nodeEnvironment() reads them, or says why there is no node.
import { cannotRunHere, nodeCluster, RigEndpoints } from '../rig-env';
import type { NodeEndpoints } from './node';

export const NODE_ENV: Record<keyof NodeEndpoints | 'unavailable', string> = {
  nodeName: 'RIG_NODE_NAME',
  dir: 'RIG_NODE_DIR',
  kubeletRootDir: 'RIG_NODE_KUBELET_ROOT_DIR',
  providersDir: 'RIG_NODE_PROVIDERS_DIR',
  containerdAddress: 'RIG_NODE_CONTAINERD_ADDRESS',
  caDir: 'RIG_NODE_CA_DIR',
  dnsHostsDir: 'RIG_NODE_DNS_HOSTS_DIR',
  podSubnet: 'RIG_NODE_POD_SUBNET',
  unavailable: 'RIG_NODE_UNAVAILABLE',
};

export function exportNodeEndpoints(endpoints: NodeEndpoints): void {
  for (const [key, value] of Object.entries(endpoints)) {
    process.env[NODE_ENV[key as keyof NodeEndpoints]] = String(value);
  }
}

/** The node and its cluster. */
export interface NodeEnvironment {
  readonly cluster: RigEndpoints;
  readonly node: NodeEndpoints;
}

/**
 * The running node, or undefined when it could not start here (outside CI the test then returns early with
 * the reason; in CI cannotRunHere throws it).
 */
export function nodeEnvironment(): NodeEnvironment | undefined {
  const unavailable = process.env[NODE_ENV.unavailable];
  if (unavailable) {
    cannotRunHere(unavailable);
    return undefined;
  }
  const read = (key: keyof NodeEndpoints) => {
    const value = process.env[NODE_ENV[key]];
    if (!value) {
      throw new Error(
        `${NODE_ENV[key]} is not set: the node only runs in the jest "node" project (test/node/**/*.rig.test.ts). ` +
          'Run: npx jest test/node/<file>.rig.test.ts',
      );
    }
    return value;
  };
  return {
    cluster: nodeCluster(),
    node: {
      nodeName: read('nodeName'),
      dir: read('dir'),
      kubeletRootDir: read('kubeletRootDir'),
      providersDir: read('providersDir'),
      containerdAddress: read('containerdAddress'),
      caDir: read('caDir'),
      dnsHostsDir: read('dnsHostsDir'),
      podSubnet: read('podSubnet'),
    },
  };
}
