// A cluster of its own plus the node on it: what the node project's globalSetup and bench/node both start.
// The cluster runs the DaemonSet and node-lifecycle controllers (the latter lifts the not-ready taint the
// kubelet registers with) and a service range in 198.19.0.0/16 (see node-network.ts).
import { installRigCrds, RunningRig, startRig, stopRig } from '../cluster';
import { RigProcess } from '../processes';
import { randomServiceRange } from './node-network';
import { RunningNode, startNode, stopNode } from './node';

export interface NodeRig {
  running?: RunningRig;
  node?: RunningNode;
}

/**
 * Starts the cluster (CRDs installed) and the node into `into` as each comes up, so a signal handler or a
 * failed start can stop what exists; on failure stops it all before rethrowing.
 */
export async function startNodeRig(into: NodeRig, processes: RigProcess[]): Promise<Required<NodeRig>> {
  try {
    into.running = await startRig({
      processes,
      lowkeyVault: false,
      extraControllers: ['daemonset-controller', 'node-lifecycle-controller'],
      serviceClusterIpRange: randomServiceRange(),
    });
    await installRigCrds(into.running.endpoints);
    into.node = await startNode({ cluster: into.running.endpoints, processes });
    return { running: into.running, node: into.node };
  } catch (error) {
    await stopNodeRig(into);
    throw error;
  }
}

/** Stops the node, then its cluster. */
export async function stopNodeRig(rig: NodeRig, options: { keepStateDir?: boolean } = {}): Promise<void> {
  const { node, running } = rig;
  rig.node = undefined;
  rig.running = undefined;
  if (node) await stopNode(node);
  if (running) await stopRig(running, options);
}
