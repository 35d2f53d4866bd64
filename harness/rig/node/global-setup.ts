// globalSetup of the jest "node" project (test/node/**/*.rig.test.ts): a cluster of its own (etcd,
// kube-apiserver, kube-controller-manager with the DaemonSet controller; not the rig project's, so DaemonSets
// other rig tests apply never land on this node) and the node (containerd, kubelet, kube-scheduler). Jest runs
// a project's globalSetup only when the run selects one of its files: the node is opt-in by test selection.
// The endpoints reach the tests through NODE_CLUSTER_ENV and NODE_ENV (node-env.ts).
import * as fs from 'node:fs';
import { killRigNow } from '../cluster';
import { reapLeftovers, RigProcess } from '../processes';
import { exportRigEndpoints, NODE_CLUSTER_ENV } from '../rig-env';
import { nodeUnavailable } from './node-requirements';
import { exportNodeEndpoints, NODE_ENV } from './node-env';
import { NodeRig, startNodeRig, stopNodeRig } from './node-rig';
import { reapNodeLeftovers, sweepLeftovers } from './node';

interface NodeGlobalState extends NodeRig {
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
  await stopNodeRig(current, { keepStateDir: process.env.RIG_KEEP_STATE === '1' });
}

export default async function globalSetup(): Promise<void> {
  const reaped = reapLeftovers().length + (await reapNodeLeftovers()).length;
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
    // The node's dir stays until the next setup reaps it (its container ids are read from there).
    if (current.node) sweepLeftovers(current.node.leftovers);
    if (current.running) fs.rmSync(current.running.endpoints.stateDir, { recursive: true, force: true });
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

  const { running, node } = await startNodeRig(current, children).catch(async (error) => {
    await stopGlobalNode();
    throw error;
  });
  exportRigEndpoints(running.endpoints, NODE_CLUSTER_ENV);
  exportNodeEndpoints(node.endpoints);
  console.log(
    `\nnode: ${node.endpoints.nodeName} Ready in ${Math.round((Date.now() - started) / 1000)}s ` +
      `(cluster and node logs in ${running.endpoints.stateDir} and ${node.endpoints.dir}/logs)`,
  );
}
