// Secret sync driven by NodePublishVolume through the production hook (syncSecretsAfterPublish, what
// main.ts wires): the first mount creates the Secret, an unchanged rotation check makes no API request,
// a changed one updates the Secret, and a deleted Secret is still re-created (by the controller's watch).
// Real CSI socket, real tmpfs, real kube-apiserver.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadKubeConfig } from '../../../../runtime/driver/cluster/kube/kube-config';
import { SECRETS, NAMESPACES } from '../../../../runtime/driver/cluster/kube/kube-resources';
import type { Secret } from '../../../../runtime/driver/cluster/kube/kube-types';
import { SecretSyncController, syncSecretsAfterPublish } from '../../../../runtime/driver/secret-sync';
import { rig } from '../../../../harness/rig/rig-env';
import { ClusterBindings } from '../support/cluster-bindings';
import { CountingKubeClient } from '../support/counting-kube-client';
import { DriverHarness, canMount, notRunWithoutRoot, publishRequest } from '../support/driver-harness';
import {
  createPodWithSecretsStoreVolumes,
  createSecretProviderClass,
  ensureSecretsStoreCrds,
  eventually,
  freshNamespace,
} from '../support/kube-test-support';
import { ScriptedProvider } from '../support/scripted-provider';

const INTERVAL = 120_000;
const maybe = canMount('secret-sync-republish.rig.test.ts') ? describe : notRunWithoutRoot;

maybe('secret sync after NodePublishVolume (production hook)', () => {
  let cluster: ClusterBindings;
  let syncKube: CountingKubeClient;
  let controller: SecretSyncController;
  let h: DriverHarness;
  let provider: ScriptedProvider;
  let namespace: string;
  let clock = 1_000_000;
  let password = 'rotating-value-1';

  beforeAll(async () => {
    cluster = new ClusterBindings();
    await ensureSecretsStoreCrds(cluster.kube);
    namespace = await freshNamespace(cluster.kube, 'sync-republish', true);
    await cluster.start();
    syncKube = new CountingKubeClient(loadKubeConfig({ env: { KUBECONFIG: rig().kubeconfig } }));
    controller = new SecretSyncController({
      kube: syncKube,
      nodeName: 'node-under-test',
      recreateDelayMs: 100,
    });
    await controller.start();
    h = new DriverHarness({
      ...cluster,
      rotationPollIntervalMs: INTERVAL,
      now: () => clock,
      onPublished: syncSecretsAfterPublish(controller),
    });
    await h.start();
    provider = new ScriptedProvider(h.providersDir, 'scripted');
    await provider.start();
    provider.answer = () => ({
      files: [{ path: 'password', mode: 0o644, contents: password }],
      objectVersions: [{ id: 'secret/password', version: password }],
    });
  }, 60_000);

  afterAll(async () => {
    await provider?.stop();
    await h?.stop();
    await controller?.stop();
    syncKube?.close();
    await cluster?.kube.delete(NAMESPACES, namespace).catch(() => undefined);
    await cluster?.stop();
  });

  it('syncs on the first mount, makes no request on an unchanged rotation check, updates on a change, re-creates a deleted Secret', async () => {
    await createSecretProviderClass(cluster.kube, namespace, 'spc', {
      provider: 'scripted',
      parameters: { objects: 'x' },
      secretObjects: [
        { secretName: 'synced', type: 'Opaque', data: [{ objectName: 'password', key: 'pw' }] },
      ],
    });
    const pod = await createPodWithSecretsStoreVolumes(cluster.kube, namespace, 'app-0', 'spc');
    const podRef = { name: 'app-0', namespace, uid: pod.metadata.uid! };
    const target = h.targetPath(podRef.uid);
    const req = publishRequest({ targetPath: target, spc: 'spc', pod: podRef });
    const secretValue = async (): Promise<string | undefined> => {
      const secret = await cluster.kube.get<Secret>(SECRETS, 'synced', namespace).catch(() => undefined);
      return secret?.data?.pw === undefined ? undefined : Buffer.from(secret.data.pw, 'base64').toString();
    };

    await h.publish(req); // first mount: the Secret is created
    // The sync is queued once the SPCPS is written, after the NodePublishVolume answer.
    await h.idle();
    await controller.idle();
    expect(await secretValue()).toBe('rotating-value-1');
    const afterFirstMount = syncKube.requests.length;
    expect(afterFirstMount).toBeGreaterThan(0);

    clock += INTERVAL;
    await h.publish(req); // rotation check, content unchanged
    await h.idle();
    await controller.idle();
    expect(provider.requests).toHaveLength(2);
    expect(syncKube.requests.slice(afterFirstMount)).toEqual([]);

    password = 'rotating-value-2';
    clock += INTERVAL;
    await h.publish(req); // rotation check, content changed: the Secret follows
    await h.idle();
    await controller.idle();
    expect(fs.readFileSync(path.join(target, 'password'), 'utf8')).toBe('rotating-value-2');
    expect(syncKube.requests.length).toBeGreaterThan(afterFirstMount);
    expect(await secretValue()).toBe('rotating-value-2');

    // Deleted by someone while nothing changes: the watch re-creates it without a publish.
    await cluster.kube.delete(SECRETS, 'synced', { namespace });
    expect(await eventually('the synced Secret re-created', secretValue)).toBe('rotating-value-2');
    // And the next unchanged rotation check still costs nothing.
    const afterRecreate = syncKube.requests.length;
    clock += INTERVAL;
    await h.publish(req);
    await h.idle();
    await controller.idle();
    expect(provider.requests).toHaveLength(4);
    expect(syncKube.requests.slice(afterRecreate)).toEqual([]);

    await h.unpublish({ volume_id: 'v', target_path: target });
  }, 90_000);
});
