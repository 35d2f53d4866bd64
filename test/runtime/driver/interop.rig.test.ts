// Interop both ways, against the real kube-apiserver: our Azure provider behind the real upstream driver
// v1.6 and behind ours (the upstream driver replaced by ours). Both must give byte-identical files with
// the same modes and layout, and equal SecretProviderClassPodStatus status. A scripted provider behind
// both drivers shows that ours sends the same MountRequest bytes as upstream.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readMountedFiles } from '../../../runtime/driver/volume/atomic-writer';
import { KubeClient } from '../../../runtime/driver/cluster/kube/kube-client';
import { loadKubeConfigFile } from '../../../runtime/driver/cluster/kube/kube-config';
import { CSI_DRIVERS, NAMESPACES } from '../../../runtime/driver/cluster/kube/kube-resources';
import type { Pod, SecretProviderClassPodStatus } from '../../../runtime/driver/cluster/kube/kube-types';
import { cannotRunHere, rig, rigBinary } from '../../../harness/rig/rig-env';
import { objectsYaml, ParityWorld, startParityWorld } from '../../../harness/provider/parity-world';
import { ourProviderCommand, ProviderProcess } from '../../../harness/provider/provider-process';
import { canMount, notRunWithoutRoot, publishRequest } from './support/driver-harness';
import { DriverProcess, ourDriverCommand } from './support/driver-process';
import {
  createPodWithSecretsStoreVolumes,
  createSecretProviderClass,
  createTestCsiDriver,
  writtenPodStatus,
} from './support/kube-test-support';
import { ScriptedProvider } from './support/scripted-provider';

const NS = `interop-${process.pid}`;
const maybe = canMount('interop.rig.test.ts') ? describe : notRunWithoutRoot;

interface VolumeSnapshot {
  files: Record<string, { base64: string; mode: number }>;
  topLevel: string[];
}

function snapshot(target: string): VolumeSnapshot {
  const files: VolumeSnapshot['files'] = {};
  for (const [relative, absolute] of readMountedFiles(target)) {
    files[relative] = {
      base64: fs.readFileSync(absolute).toString('base64'),
      mode: fs.statSync(absolute).mode & 0o777,
    };
  }
  // Layout: user-visible names are symlinks into ..data in both drivers.
  const topLevel = fs
    .readdirSync(target)
    .map((name) =>
      name.startsWith('..') && name !== '..data'
        ? '..<generation>'
        : `${name}${fs.lstatSync(path.join(target, name)).isSymbolicLink() ? '@' : ''}`,
    )
    .sort();
  return { files, topLevel: [...new Set(topLevel)] };
}

/**
 * Our driver runs under a CSI driver name of this file's own, with a CSIDriver of that name (tokenRequests
 * set, as an install with workload identity renders it): it reads its CSIDriver to tell kubelet's
 * service-account tokens from a pod's, and the cluster-wide `secrets-store.csi.k8s.io` belongs to whichever
 * install test ran last.
 */
const OUR_DRIVER_NAME = `interop-${process.pid}.secrets-store.test`;

maybe('interop with the upstream driver v1.6', () => {
  let upstreamDriver: string | undefined;
  let kube: KubeClient;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'interop-'));
  const targetFor = (pod: Pod): string =>
    path.join(
      root,
      'kubelet',
      'pods',
      pod.metadata.uid!,
      'volumes',
      'kubernetes.io~csi',
      'secrets-store',
      'mount',
    );

  /**
   * The real upstream driver and ours on one provider directory; each is pushed onto `started` as soon as
   * it runs, so the caller's cleanup stops it even when the other fails to start.
   */
  async function startBothDrivers(
    providerDir: string,
    started: DriverProcess[],
    upstreamExtraArgs: string[] = [],
  ): Promise<[DriverProcess, DriverProcess]> {
    const upstream = await DriverProcess.start({
      name: 'upstream',
      command: upstreamDriver!,
      providerDir,
      kubeconfig: rig().kubeconfig,
      extraArgs: upstreamExtraArgs,
    });
    started.push(upstream);
    const ours = await DriverProcess.start({
      name: 'ours',
      ...ourDriverCommand(),
      providerDir,
      kubeconfig: rig().kubeconfig,
      extraArgs: [`--drivername=${OUR_DRIVER_NAME}`],
    });
    started.push(ours);
    return [upstream, ours];
  }

  /** A pod with the volume of `driver` (ours checks that the pod's volume names it). */
  async function createPod(name: string, spc: string, driver: DriverProcess): Promise<Pod> {
    const driverName = driver.name === 'ours' ? OUR_DRIVER_NAME : 'secrets-store.csi.k8s.io';
    return createPodWithSecretsStoreVolumes(kube, NS, name, spc, ['secrets-store'], { driver: driverName });
  }

  const podRef = (pod: Pod) => ({ name: pod.metadata.name!, namespace: NS, uid: pod.metadata.uid! });

  beforeAll(async () => {
    try {
      upstreamDriver = rigBinary('upstreamDriver');
    } catch (err) {
      if (cannotRunHere((err as Error).message)) return;
    }
    kube = new KubeClient(loadKubeConfigFile(rig().kubeconfig));
    await kube.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await createTestCsiDriver(kube, OUR_DRIVER_NAME);
  });

  afterAll(async () => {
    await kube?.delete(NAMESPACES, NS).catch(() => undefined);
    await kube?.delete(CSI_DRIVERS, OUR_DRIVER_NAME).catch(() => undefined);
    kube?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('our Azure provider behind the upstream driver and behind ours: identical files, modes, layout and SPCPS status', async () => {
    if (!upstreamDriver) return;
    const world: ParityWorld = await startParityWorld();
    const provider = await ProviderProcess.start({
      name: 'ours',
      ...ourProviderCommand(world.ourProviderFlags),
      hostsFile: world.azure.hostsFile,
      env: world.providerEnv,
    });
    const providerDir = path.dirname(provider.ports.socketPath);
    const drivers: DriverProcess[] = [];
    try {
      await createSecretProviderClass(kube, NS, 'azure-kv', {
        provider: 'azure',
        parameters: {
          ...world.baseParameters,
          objects: objectsYaml([
            { objectName: 'plain', objectType: 'secret' },
            {
              objectName: 'b64val',
              objectType: 'secret',
              objectEncoding: 'base64',
              objectAlias: 'binary',
            },
            { objectName: 'pem-chain', objectType: 'cert', objectAlias: 'tls/leaf.crt' },
            { objectName: 'spaced', objectType: 'secret', filePermission: '0600' },
          ]),
        },
      });
      const [upstream, ours] = await startBothDrivers(providerDir, drivers, ['-v=2']);

      const results: { snapshot: VolumeSnapshot; status: SecretProviderClassPodStatus['status'] }[] = [];
      for (const driver of [upstream, ours]) {
        const pod = await createPod(`via-${driver.name}`, 'azure-kv', driver);
        const target = targetFor(pod);
        await driver
          .publish(
            publishRequest({
              targetPath: target,
              spc: 'azure-kv',
              pod: podRef(pod),
              secrets: world.spSecrets,
            }),
          )
          .catch((err: Error) => {
            throw new Error(
              `${driver.name} NodePublish failed: ${err.message}\n${driver.logs.slice(-4000)}\nprovider:\n${provider.logs().slice(-4000)}`,
            );
          });
        // Ours writes it after answering (docs/compatibility.md); upstream before.
        const status = await writtenPodStatus(kube, NS, `via-${driver.name}-${NS}-azure-kv`);
        expect(status.metadata.labels).toEqual({
          'internal.secrets-store.csi.k8s.io/node-name': 'node-under-test',
        });
        expect(status.metadata.ownerReferences).toEqual([
          { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
        ]);
        expect(status.status?.targetPath).toBe(target);
        results.push({
          snapshot: snapshot(target),
          status: { ...status.status, podName: '<pod>', targetPath: '<target>' },
        });
        await driver.unpublish({ volume_id: 'v', target_path: target });
        expect(fs.existsSync(target)).toBe(false);
      }
      const [viaUpstream, viaOurs] = results;
      expect(Object.keys(viaUpstream.snapshot.files).sort()).toEqual([
        'binary',
        'plain',
        'spaced',
        'tls/leaf.crt',
      ]);
      expect(viaOurs.snapshot).toEqual(viaUpstream.snapshot);
      expect(viaOurs.status).toEqual(viaUpstream.status);
    } finally {
      for (const d of drivers) await d.stop();
      await provider.stop();
      await world.dispose();
    }
  }, 180_000);

  it('ours sends the MountRequest bytes upstream sends (attributes, secrets, permission)', async () => {
    if (!upstreamDriver) return;
    const providerDir = fs.mkdtempSync(path.join(root, 'scripted-'));
    const scripted = new ScriptedProvider(providerDir, 'scripted');
    await scripted.start();
    scripted.answer = () => ({
      files: [{ path: 'f', mode: 0o640, contents: 'x' }],
      objectVersions: [{ id: 'secret/f', version: '1' }],
    });
    const drivers: DriverProcess[] = [];
    try {
      await createSecretProviderClass(kube, NS, 'scripted-spc', {
        provider: 'scripted',
        parameters: {
          objects: 'array:\n  - |\n    objectName: f\n',
          html: '<a&b>',
          secretProviderClass: 'overridden',
        },
      });
      const [upstream, ours] = await startBothDrivers(providerDir, drivers);
      const tokens = JSON.stringify({
        aud: { token: 'not-a-real-token', expirationTimestamp: '2030-01-01T00:00:00Z' },
      });
      // Real pods: our driver checks the target path against the pod before writing its SPCPS.
      const pods: { name: string; uid: string }[] = [];
      for (const [driver, secrets] of [
        [upstream, {}],
        [ours, {}],
        [upstream, { clientid: 'id', clientsecret: 's<>' }],
        [ours, { clientid: 'id', clientsecret: 's<>' }],
      ] as const) {
        const created = await createPod(
          `scripted-${driver.name}-${Object.keys(secrets).length}`,
          'scripted-spc',
          driver,
        );
        const pod = { name: created.metadata.name!, namespace: NS, uid: created.metadata.uid! };
        pods.push(pod);
        const target = targetFor(created);
        await driver.publish(
          publishRequest({
            targetPath: target,
            spc: 'scripted-spc',
            pod,
            secrets,
            extraContext: { 'csi.storage.k8s.io/serviceAccount.tokens': tokens },
          }),
        );
        await driver.unpublish({ volume_id: 'v', target_path: target });
      }
      const normalized = scripted.requests.map((r, i) => ({
        attributes: r.attributes.split(pods[i].uid).join('<uid>').split(pods[i].name).join('<pod>'),
        secrets: r.secrets,
        permission: r.permission,
        current_object_version: r.current_object_version,
      }));
      expect(normalized).toHaveLength(4);
      expect(normalized[1]).toEqual(normalized[0]);
      expect(normalized[3]).toEqual(normalized[2]);
      expect(normalized[0].secrets).toBe('null');
      expect(scripted.authorities.every((a) => a === 'localhost')).toBe(true);
    } finally {
      for (const d of drivers) await d.stop();
      await scripted.stop();
    }
  }, 180_000);
});
