// Starts the real components once for the jest "rig" project (files named *.rig.test.ts): etcd,
// kube-apiserver, kube-controller-manager and (when its jar is available) lowkey-vault; installs our CRDs from
// lib/core/install and waits until they are Established. The endpoints reach the tests through environment
// variables (rig-env.ts). global-teardown.ts stops everything; a SIGINT/SIGTERM of jest does too, and a later
// run kills what a killed run left behind (pid files, processes.ts).
import * as fs from 'node:fs';
import { installRigCrds, killRigNow, RunningRig, startRig, stopRig } from './cluster';
import { reapLeftovers, RigProcess } from './processes';
import { exportRigEndpoints } from './rig-env';

/** What teardown needs; global setup and teardown run in the same (jest parent) process. */
export interface RigGlobalState {
  running: RunningRig;
  removeSignalHandlers(): void;
}
const STATE_KEY = '__aksSecretsStoreRig__';

export function rigGlobalState(): RigGlobalState | undefined {
  return (globalThis as Record<string, unknown>)[STATE_KEY] as RigGlobalState | undefined;
}

function setRigGlobalState(state: RigGlobalState | undefined): void {
  (globalThis as Record<string, unknown>)[STATE_KEY] = state;
}

export async function stopGlobalRig(): Promise<void> {
  const state = rigGlobalState();
  if (!state) return;
  setRigGlobalState(undefined);
  state.removeSignalHandlers();
  await stopRig(state.running, { keepStateDir: process.env.RIG_KEEP_STATE === '1' });
}

export default async function globalSetup(): Promise<void> {
  const leftovers = reapLeftovers();
  if (leftovers.length > 0) console.log(`\nrig: killed ${leftovers.length} process(es) left by a killed run`);

  const started = Date.now();
  // Handlers first: a Ctrl-C or CI timeout during the start must not leave half a rig running.
  const children: RigProcess[] = [];
  const startedRig: { stateDir?: string } = {};
  const onSignal = (signal: NodeJS.Signals) => {
    killRigNow({ processes: children });
    if (startedRig.stateDir) fs.rmSync(startedRig.stateDir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  const onExit = () => killRigNow({ processes: children });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', onExit);
  const removeSignalHandlers = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  };

  let running: RunningRig;
  try {
    running = await startRig({ processes: children });
  } catch (error) {
    removeSignalHandlers();
    throw error;
  }
  startedRig.stateDir = running.endpoints.stateDir;
  setRigGlobalState({ running, removeSignalHandlers });

  try {
    await installRigCrds(running.endpoints);
  } catch (error) {
    await stopGlobalRig();
    throw error;
  }

  exportRigEndpoints(running.endpoints);
  console.log(
    `\nrig: started in ${Math.round((Date.now() - started) / 1000)}s (logs in ${running.endpoints.stateDir}):\n` +
      running.versions.map((line) => `rig:   ${line}`).join('\n'),
  );
}
