// globalSetup of the jest "node" project (test/node/**/*.rig.test.ts): a cluster of its own (etcd,
// kube-apiserver, kube-controller-manager with the DaemonSet controller; not the rig project's, so DaemonSets
// other rig tests apply never land on this node) and the node (containerd, kubelet, kube-scheduler). Jest runs
// a project's globalSetup only when the run selects one of its files: the node is opt-in by test selection.
// The endpoints reach the tests through NODE_CLUSTER_ENV and NODE_ENV (node-env.ts).
import { secretProviderClassCrd, secretProviderClassPodStatusCrd } from '../../../lib/core/install';
import { killRigNow, RunningRig, startRig, stopRig } from '../cluster';
import { KubeApi } from '../kube-api';
import { reapLeftovers, RigProcess } from '../processes';
import { exportRigEndpoints, NODE_CLUSTER_ENV } from '../rig-env';
import { nodeUnavailable } from './node-requirements';
import { exportNodeEndpoints, NODE_ENV } from './node-env';
import { randomServiceRange } from './node-network';
import { reapNodeLeftovers, RunningNode, startNode, stopNode, sweepLeftovers } from './node';

interface NodeGlobalState {
  running?: RunningRig;
  node?: RunningNode;
  removeSignalHandlers(): void;
}
const STATE_KEY = '__aksSecretsStoreNode__';

function state(): NodeGlobalState | undefined {
  return (globalThis as Record<string, unknown>)[STATE_KEY] as NodeGlobalState | undefined;
}

export async function stopGlobalNode(): Promise<void> {
  const current = state();
  if (!current) return;
  (globalThis as Record<string, unknown>)[STATE_KEY] = undefined;
  current.removeSignalHandlers();
  if (current.node) await stopNode(current.node);
  if (current.running) await stopRig(current.running, { keepStateDir: process.env.RIG_KEEP_STATE === '1' });
}

export default async function globalSetup(): Promise<void> {
  const reaped = reapLeftovers().length + reapNodeLeftovers().length;
  if (reaped > 0) console.log(`\nnode: removed ${reaped} leftover(s) of a killed run`);

  const unavailable = nodeUnavailable();
  if (unavailable) {
    // The tests call cannotRunHere with this reason (they fail in CI, skip with the message elsewhere).
    process.env[NODE_ENV.unavailable] = unavailable;
    console.log(`\nnode: not started: ${unavailable}`);
    return;
  }

  const started = Date.now();
  const children: RigProcess[] = [];
  const current: NodeGlobalState = { removeSignalHandlers: () => undefined };
  const onSignal = (signal: NodeJS.Signals) => {
    killRigNow({ processes: children });
    if (current.node) sweepLeftovers(current.node.leftovers);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  const onExit = () => killRigNow({ processes: children });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', onExit);
  current.removeSignalHandlers = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  };
  (globalThis as Record<string, unknown>)[STATE_KEY] = current;

  try {
    current.running = await startRig({
      processes: children,
      lowkeyVault: false,
      // DaemonSets, and the node lifecycle (it lifts the not-ready taint the kubelet registers with).
      extraControllers: ['daemonset-controller', 'node-lifecycle-controller'],
      serviceClusterIpRange: randomServiceRange(),
    });
    const api = KubeApi.forEndpoints(current.running.endpoints);
    try {
      for (const crd of [secretProviderClassCrd(), secretProviderClassPodStatusCrd()]) {
        await api.apply(crd);
        await api.waitForCrdEstablished(crd.metadata.name);
      }
    } finally {
      api.close();
    }
    current.node = await startNode({ cluster: current.running.endpoints, processes: children });
  } catch (error) {
    await stopGlobalNode();
    throw error;
  }
  exportRigEndpoints(current.running.endpoints, NODE_CLUSTER_ENV);
  exportNodeEndpoints(current.node.endpoints);
  console.log(
    `\nnode: ${current.node.endpoints.nodeName} Ready in ${Math.round((Date.now() - started) / 1000)}s ` +
      `(cluster and node logs in ${current.running.endpoints.stateDir} and ${current.node.endpoints.dir}/logs)`,
  );
}
