// Our driver and our Azure provider, both real processes, against the real kube-apiserver and the fake Key
// Vault and Entra ID: the provider is killed (SIGKILL, as the OOM killer ends it) while pods have live
// mounts, the secret rotates in Key Vault meanwhile, and the provider comes back on the same socket path.
// What the pods see (kubelet's NodePublish answers), what stays mounted and synced, and that the driver
// needs no restart. faults.rig.test.ts has the same fault with a scripted provider; this is the pair a node
// actually runs.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { KubeClient } from '../../../runtime/driver/cluster/kube/kube-client';
import { loadKubeConfigFile } from '../../../runtime/driver/cluster/kube/kube-config';
import { CSI_DRIVERS, NAMESPACES, SECRETS } from '../../../runtime/driver/cluster/kube/kube-resources';
import type { Secret } from '../../../runtime/driver/cluster/kube/kube-types';
import { readMountPoints } from '../../../runtime/driver/volume/mounter';
import { cannotRunHere, rig } from '../../../harness/rig/rig-env';
import {
  objectsYaml,
  ParityWorld,
  SP_CLIENT_SECRET,
  startParityWorld,
  VAULT,
} from '../../../harness/provider/parity-world';
import {
  ourProviderCommand,
  ProviderProcess,
  whyProvidersCannotRun,
} from '../../../harness/provider/provider-process';
import {
  canMount,
  grpcError,
  notRunWithoutRoot,
  publishRequest,
  removeTestRoot,
} from './support/driver-harness';
import { DriverProcess, ourDriverCommand } from './support/driver-process';
import {
  createPodWithSecretsStoreVolumes,
  createSecretProviderClass,
  createTestCsiDriver,
  eventually,
} from './support/kube-test-support';

const NS = `provider-restart-${process.pid}`;
const DRIVER_NAME = `provider-restart-${process.pid}.secrets-store.test`;
const SPC = 'azure-kv';
const SYNCED = 'restart-synced';
/** The driver's rotation poll interval: a republish after it asks the provider again. */
const POLL_MS = 1000;
const maybe = canMount('provider-restart.rig.test.ts') ? describe : notRunWithoutRoot;

maybe('our provider crashes and restarts under our driver with live mounts', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'provider-restart-'));
  const providerDir = path.join(root, 'providers');
  let world: ParityWorld;
  let kube: KubeClient;
  let provider: ProviderProcess | undefined;
  let driver: DriverProcess | undefined;
  let pods = 0;
  const values = ['rotating-v1-0f3a', 'rotating-v2-9c1e'];

  const targetFor = (uid: string) =>
    path.join(root, 'kubelet', 'pods', uid, 'volumes', 'kubernetes.io~csi', 'secrets-store', 'mount');
  const mounted = (target: string) => readMountPoints('/proc/self/mountinfo').has(target);
  const content = (target: string) => fs.readFileSync(path.join(target, 'rotating'), 'utf8');
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  async function startProvider(): Promise<ProviderProcess> {
    provider = await ProviderProcess.start({
      name: 'ours',
      ...ourProviderCommand(world.ourProviderFlags),
      hostsFile: world.azure.hostsFile,
      env: world.providerEnv,
      socketDir: providerDir,
    });
    return provider;
  }

  async function newPod(): Promise<{ name: string; namespace: string; uid: string; target: string }> {
    const pod = await createPodWithSecretsStoreVolumes(kube, NS, `p-${++pods}`, SPC, ['secrets-store'], {
      driver: DRIVER_NAME,
    });
    const ref = { name: pod.metadata.name!, namespace: NS, uid: pod.metadata.uid! };
    return { ...ref, target: targetFor(ref.uid) };
  }

  const publish = (pod: { name: string; namespace: string; uid: string; target: string }) =>
    driver!.publish(
      publishRequest({
        targetPath: pod.target,
        spc: SPC,
        pod: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
        secrets: world.spSecrets,
      }),
    );

  async function syncedValue(): Promise<string | undefined> {
    const secret = await kube.get<Secret>(SECRETS, SYNCED, NS).catch(() => undefined);
    const value = secret?.data?.value;
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  }

  const why = whyProvidersCannotRun();

  beforeAll(async () => {
    if (why && cannotRunHere(why)) return;
    fs.mkdirSync(providerDir);
    world = await startParityWorld();
    world.azure.vault.setSecret(VAULT, 'rotating', values[0]);
    kube = new KubeClient(loadKubeConfigFile(rig().kubeconfig));
    await kube.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await createTestCsiDriver(kube, DRIVER_NAME, { audiences: [] });
    await createSecretProviderClass(kube, NS, SPC, {
      provider: 'azure',
      parameters: {
        ...world.baseParameters,
        objects: objectsYaml([{ objectName: 'rotating', objectType: 'secret' }]),
      },
      secretObjects: [
        { secretName: SYNCED, type: 'Opaque', data: [{ objectName: 'rotating', key: 'value' }] },
      ],
    });
    await startProvider();
    driver = await DriverProcess.start({
      name: 'ours',
      ...ourDriverCommand(),
      providerDir,
      kubeconfig: rig().kubeconfig,
      extraArgs: [
        `--drivername=${DRIVER_NAME}`,
        '--enable-secret-rotation=true',
        `--rotation-poll-interval=${POLL_MS / 1000}s`,
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await driver?.stop();
    await provider?.stop();
    await world?.dispose();
    await kube?.delete(NAMESPACES, NS).catch(() => undefined);
    await kube?.delete(CSI_DRIVERS, DRIVER_NAME).catch(() => undefined);
    kube?.close();
    await removeTestRoot(root);
  });

  it('keeps live content and the synced Secret through the crash, refuses new pods until it is back, then rotates', async () => {
    if (why) return; // told in beforeAll (and failed there in CI)
    const live = await newPod();
    await publish(live);
    expect(content(live.target)).toBe(values[0]);
    await eventually('the Secret synced', async () => (await syncedValue()) === values[0]);

    await provider!.crash();
    world.azure.vault.setSecret(VAULT, 'rotating', values[1]);
    await sleep(POLL_MS + 100);
    await publish(live); // kubelet's republish: OK, the last good content stays
    expect(content(live.target)).toBe(values[0]);
    expect(await syncedValue()).toBe(values[0]);

    const fresh = await newPod();
    const refused = await grpcError(publish(fresh));
    expect(refused.code).toBe(grpc.status.UNKNOWN);
    expect(refused.details).toContain('failed to mount secrets store objects for pod');
    expect(mounted(fresh.target)).toBe(false);

    await startProvider(); // the same socket path; the crashed one left its socket file behind
    await sleep(POLL_MS + 100);
    await publish(live);
    expect(content(live.target)).toBe(values[1]);
    await publish(fresh);
    expect(content(fresh.target)).toBe(values[1]);
    await eventually('the Secret to follow the rotation', async () => (await syncedValue()) === values[1]);
    expect(driver!.exitCode).toBeUndefined(); // the same driver process throughout

    for (const pod of [live, fresh]) {
      await driver!.unpublish({ volume_id: `csi-${pod.uid}`, target_path: pod.target });
      expect(mounted(pod.target)).toBe(false);
    }
    // Neither process printed a secret value or the client secret.
    const logs = `${driver!.logs}\n${provider!.logs()}`;
    for (const secret of [...values, SP_CLIENT_SECRET]) expect(logs).not.toContain(secret);
    expect(refused.details).not.toContain(SP_CLIENT_SECRET);
  }, 180_000);
});
