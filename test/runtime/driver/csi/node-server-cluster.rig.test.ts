// NodePublishVolume / NodeUnpublishVolume through the real CSI socket, with real tmpfs, a real provider
// socket and the driver's production Kubernetes bindings against the real kube-apiserver (+ controller-
// manager for garbage collection).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  PODS,
  SECRET_PROVIDER_CLASS_POD_STATUSES,
  EVENTS,
  NAMESPACES,
} from '../../../../runtime/driver/cluster/kube/kube-resources';
import type {
  KubeEvent,
  Pod,
  SecretProviderClassPodStatus,
} from '../../../../runtime/driver/cluster/kube/kube-types';
import { CLUSTER_NODE_NAME, ClusterBindings } from '../support/cluster-bindings';
import {
  DriverHarness,
  canMount,
  grpcError,
  notRunWithoutRoot,
  publishRequest,
} from '../support/driver-harness';
import {
  createPodWithSecretsStoreVolumes,
  createSecretProviderClass,
  eventually,
  writtenPodStatus,
} from '../support/kube-test-support';
import { ScriptedProvider } from '../support/scripted-provider';

const NS = `driver-${process.pid}`;
const OTHER_NS = `driver-other-${process.pid}`;
const SECRET_VALUE = 'rig-secret-DO-NOT-LOG';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.cmlnLXRva2Vu.rig-sig-DO-NOT-LOG';
const maybe = canMount('node-server-cluster.rig.test.ts') ? describe : notRunWithoutRoot;

maybe('NodePublish/NodeUnpublish against the real kube-apiserver', () => {
  let cluster: ClusterBindings;
  let h: DriverHarness;
  let provider: ScriptedProvider;
  let clock = 1_000_000;

  async function createPod(name: string, volumeName = 'secrets-store', spc = 'spc'): Promise<Pod> {
    return createPodWithSecretsStoreVolumes(cluster.kube, NS, name, spc, [volumeName]);
  }

  async function createSpc(
    namespace: string,
    name: string,
    providerName: string,
    parameters: Record<string, string>,
  ): Promise<void> {
    await createSecretProviderClass(cluster.kube, namespace, name, { provider: providerName, parameters });
  }

  const podRef = (pod: Pod) => ({ name: pod.metadata.name!, namespace: NS, uid: pod.metadata.uid! });

  beforeAll(async () => {
    cluster = new ClusterBindings();
    for (const ns of [NS, OTHER_NS])
      await cluster.kube.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await cluster.start();
    h = new DriverHarness({ ...cluster, rotationPollIntervalMs: 120_000, now: () => clock });
    await h.start();
    provider = new ScriptedProvider(h.providersDir, 'scripted');
    await provider.start();
    provider.answer = () => ({
      files: [{ path: 'db-password', mode: 0o600, contents: SECRET_VALUE }],
      objectVersions: [{ id: 'secret/db-password', version: 'v1' }],
    });
    await createSpc(NS, 'spc', 'scripted', { objects: 'array:\n  - |\n    objectName: db-password\n' });
    await createSpc(OTHER_NS, 'elsewhere', 'scripted', { objects: 'x' });
    await createSpc(NS, 'nosocket', 'not-installed', { objects: 'x' });
  }, 60_000);

  afterAll(async () => {
    await provider?.stop();
    await h?.stop();
    for (const ns of [NS, OTHER_NS]) await cluster?.kube.delete(NAMESPACES, ns).catch(() => undefined);
    await cluster?.stop();
  });

  it('mounts, writes the files, creates the SPCPS with upstream name, node label and pod owner, and deletes it at unpublish', async () => {
    const pod = await createPod('web-0');
    const target = h.targetPath(pod.metadata.uid!);
    await h.publish(publishRequest({ targetPath: target, spc: 'spc', pod: podRef(pod) }));
    expect(h.isMounted(target)).toBe(true);
    expect(fs.readFileSync(path.join(target, 'db-password'), 'utf8')).toBe(SECRET_VALUE);
    expect(fs.statSync(path.join(target, 'db-password')).mode & 0o777).toBe(0o600);

    // Written after the answer (docs/compatibility.md).
    const status = await writtenPodStatus(cluster.kube, NS, `web-0-${NS}-spc`);
    expect(status.metadata.labels).toEqual({ 'internal.secrets-store.csi.k8s.io/node-name': h.nodeId });
    expect(status.metadata.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Pod', name: 'web-0', uid: pod.metadata.uid },
    ]);
    expect(status.status).toEqual({
      podName: 'web-0',
      secretProviderClassName: 'spc',
      mounted: true,
      targetPath: target,
      objects: [{ id: 'secret/db-password', version: 'v1' }],
    });

    await h.unpublish({ volume_id: 'v', target_path: target });
    expect(fs.existsSync(target)).toBe(false);
    // Deleted after unpublish, in the background (upstream waits for the garbage collector to follow the
    // pod owner reference; the pod still exists here, so only the driver can have deleted it).
    await h.idle();
    await expect(
      cluster.kube.get(SECRET_PROVIDER_CLASS_POD_STATUSES, `web-0-${NS}-spc`, NS),
    ).rejects.toMatchObject({ reason: 'NotFound' });
    await h.unpublish({ volume_id: 'v', target_path: target }); // idempotent
  }, 60_000);

  it('takes over an SPCPS that already exists (a StatefulSet pod re-created with the same name) and leaves it to the new pod', async () => {
    const old = await createPod('db-0');
    const oldTarget = h.targetPath(old.metadata.uid!);
    await h.publish(publishRequest({ targetPath: oldTarget, spc: 'spc', pod: podRef(old) }));
    await cluster.kube.delete(PODS, 'db-0', { namespace: NS });
    await eventually('the old pod to be gone', () =>
      cluster.kube.get(PODS, 'db-0', NS).then(
        () => undefined,
        (err: { reason?: string }) => (err.reason === 'NotFound' ? true : undefined),
      ),
    );
    const pod = await createPod('db-0');
    const target = h.targetPath(pod.metadata.uid!);
    // The new pod mounts before the old volume is torn down: the SPCPS exists and must be taken over.
    await h.publish(publishRequest({ targetPath: target, spc: 'spc', pod: podRef(pod) }));
    const name = `db-0-${NS}-spc`;
    let status = await writtenPodStatus(
      cluster.kube,
      NS,
      name,
      (s) => s.metadata.ownerReferences?.[0]?.uid === pod.metadata.uid,
    );
    expect(status.metadata.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Pod', name: 'db-0', uid: pod.metadata.uid },
    ]);
    expect(status.status?.targetPath).toBe(target);
    // Tearing down the old pod's volume must not delete the SPCPS that now belongs to the new pod.
    await h.unpublish({ volume_id: 'v', target_path: oldTarget });
    await h.idle(); // the SPCPS delete runs after the answer
    status = await cluster.kube.get<SecretProviderClassPodStatus>(
      SECRET_PROVIDER_CLASS_POD_STATUSES,
      name,
      NS,
    );
    expect(status.status?.targetPath).toBe(target);
    // After a driver restart the object is found by node label and target path.
    await cluster.podStatuses.deleteForTargetPath(target, h.nodeId);
    await expect(cluster.kube.get(SECRET_PROVIDER_CLASS_POD_STATUSES, name, NS)).rejects.toMatchObject({
      reason: 'NotFound',
    });
    await h.unpublish({ volume_id: 'v', target_path: target });
  }, 60_000);

  it('rewrites its own SPCPS in one PUT at a rotation, and still writes it after another writer changed it or it was deleted', async () => {
    const pod = await createPod('rewrite-0');
    const target = h.targetPath(pod.metadata.uid!);
    const req = publishRequest({ targetPath: target, spc: 'spc', pod: podRef(pod) });
    const name = `rewrite-0-${NS}-spc`;
    const saved = provider.answer;
    const rotateTo = async (version: string): Promise<string[]> => {
      provider.answer = () => ({
        files: [{ path: 'db-password', mode: 0o600, contents: version }],
        objectVersions: [{ id: 'secret/db-password', version }],
      });
      clock += 120_000;
      const from = cluster.kube.requests.length;
      await h.publish(req);
      await h.idle(); // the SPCPS write runs after the answer
      // Each SPCPS request of this rotation, as "<verb> <object name or ''>".
      return cluster.kube.requests
        .slice(from)
        .filter((r) => r.includes(`/namespaces/${NS}/secretproviderclasspodstatuses`))
        .map((r) => `${r.split(' ')[0]} ${r.split('/secretproviderclasspodstatuses')[1].replace(/^\//, '')}`);
    };
    const status = () =>
      cluster.kube.get<SecretProviderClassPodStatus>(SECRET_PROVIDER_CLASS_POD_STATUSES, name, NS);
    try {
      await h.publish(req);
      await h.idle();
      expect(await rotateTo('v2')).toEqual([`PUT ${name}`]);
      expect((await status()).status?.objects).toEqual([{ id: 'secret/db-password', version: 'v2' }]);

      // Another writer changed the object since: the PUT of the stale copy is refused (409), the object
      // is read again and written with the other writer's label kept.
      await cluster.kube.patch(
        SECRET_PROVIDER_CLASS_POD_STATUSES,
        name,
        { metadata: { labels: { 'example.com/other-writer': 'kept' } } },
        { namespace: NS },
      );
      expect(await rotateTo('v3')).toEqual([`PUT ${name}`, `GET ${name}`, `PUT ${name}`]);
      let written = await status();
      expect(written.status?.objects).toEqual([{ id: 'secret/db-password', version: 'v3' }]);
      expect(written.metadata.labels).toEqual({
        'example.com/other-writer': 'kept',
        'internal.secrets-store.csi.k8s.io/node-name': h.nodeId,
      });

      // Deleted meanwhile (404 to the PUT): created again, owned by the pod.
      await cluster.kube.delete(SECRET_PROVIDER_CLASS_POD_STATUSES, name, { namespace: NS });
      expect(await rotateTo('v4')).toEqual([`PUT ${name}`, 'POST ']);
      written = await status();
      expect(written.status?.objects).toEqual([{ id: 'secret/db-password', version: 'v4' }]);
      expect(written.metadata.ownerReferences).toEqual([
        { apiVersion: 'v1', kind: 'Pod', name: 'rewrite-0', uid: pod.metadata.uid },
      ]);
      expect(await rotateTo('v5')).toEqual([`PUT ${name}`]);
    } finally {
      provider.answer = saved;
      await h.unpublish({ volume_id: 'v', target_path: target });
    }
  }, 60_000);

  it.each([
    [
      'an SPC in another namespace',
      'elsewhere',
      true,
      `failed to get secretproviderclass ${NS}/elsewhere, error: secretproviderclasses.secrets-store.csi.x-k8s.io "elsewhere" not found`,
    ],
    [
      'a missing SPC',
      'missing',
      true,
      `failed to get secretproviderclass ${NS}/missing, error: secretproviderclasses.secrets-store.csi.x-k8s.io "missing" not found`,
    ],
    [
      'a missing provider socket',
      'nosocket',
      true,
      `failed to mount secrets store objects for pod ${NS}/err-pod, err: error connecting to provider "not-installed": provider not found: provider "not-installed"`,
    ],
    ['a volume that is not read-only', 'spc', false, 'Readonly is not true in request'],
  ])(
    'fails %s with the upstream error text and leaves nothing mounted',
    async (_what, spc, readonly, text) => {
      // A real pod on that SPC where the failure comes after the target-path check against the pod.
      const pod =
        spc === 'nosocket'
          ? podRef(await createPod('err-pod', 'secrets-store', spc))
          : { name: 'err-pod', namespace: NS, uid: `uid-${spc}-${String(readonly)}` };
      const target = h.targetPath(pod.uid);
      const err = await grpcError(h.publish(publishRequest({ targetPath: target, spc, pod, readonly })));
      expect(err.code).toBe(readonly ? grpc.status.UNKNOWN : grpc.status.INVALID_ARGUMENT);
      expect(err.details.startsWith(text)).toBe(true);
      expect(h.isMounted(target)).toBe(false);
    },
  );

  // Each check twice: the pod read with a GET (not bound to this node: the watch never sees it), and the
  // pod bound to this node, served by the node pod cache; the verdicts must be the same.
  describe.each([
    ['read with a GET', undefined, 'get'],
    ["from this node's pod cache", CLUSTER_NODE_NAME, 'cached'],
  ])(
    "the target path checked against the pod (upstream's CVE-2020-8568 guard), %s",
    (_how, nodeName, tag) => {
      // Checked before any provider call (upstream checks it only when it writes the SPCPS).
      const prefix = (pod: string) => `failed to check the target path of pod ${NS}/${pod}, err: `;
      const bound: string[] = [];
      const podGets = (name: string) =>
        cluster.kube.requests.filter((r) => r === `GET /api/v1/namespaces/${NS}/pods/${name}`).length;

      /** A pod of this describe's kind; a bound one only once the watch has delivered it. */
      async function createCheckedPod(name: string, volumeName = 'secrets-store', spc = 'spc'): Promise<Pod> {
        const pod = await createPodWithSecretsStoreVolumes(cluster.kube, NS, name, spc, [volumeName], {
          nodeName,
        });
        if (nodeName === undefined) return pod;
        bound.push(name);
        await eventually(`the watch of ${nodeName}'s pods to deliver ${name}`, async () =>
          cluster.nodePods.get(NS, name)?.metadata.uid === pod.metadata.uid ? true : undefined,
        );
        return pod;
      }

      afterAll(async () => {
        // Bound pods wait for a kubelet to finish their deletion; there is none here.
        for (const name of bound)
          await cluster.kube
            .delete(PODS, name, { namespace: NS, gracePeriodSeconds: 0 })
            .catch(() => undefined);
      });

      it.each([
        [
          'a volume name the pod does not have',
          'renamed',
          'other-volume',
          'spc',
          'secret provider class pod status(spcps) volume name does not match the volume name in the pod',
          'UnexpectedTargetPath',
        ],
        [
          'a pod without a CSI volume on this SPC',
          'otherspc',
          'secrets-store',
          'nosocket',
          'could not find secret provider class pod status volume for pod',
          'PodVolumeNotFound',
        ],
      ])(
        'refuses %s with upstream text, writes no SPCPS and leaves nothing mounted',
        async (_what, base, podVolume, podSpc, text, reason) => {
          const podName = `${base}-${tag}`;
          const pod = await createCheckedPod(podName, podVolume, podSpc);
          const target = h.targetPath(pod.metadata.uid!); // kubelet's path for volume "secrets-store"
          const providerCalls = provider.requests.length;
          const gets = podGets(podName);
          const err = await grpcError(
            h.publish(publishRequest({ targetPath: target, spc: 'spc', pod: podRef(pod) })),
          );
          expect(err.code).toBe(grpc.status.UNKNOWN);
          expect(err.details).toBe(`${prefix(podName)}${text} ${NS}/${podName}`);
          expect(provider.requests.length).toBe(providerCalls); // refused before the provider is asked
          expect(podGets(podName) - gets).toBe(nodeName === undefined ? 1 : 0);
          expect(h.isMounted(target)).toBe(false);
          await expect(
            cluster.kube.get(SECRET_PROVIDER_CLASS_POD_STATUSES, `${podName}-${NS}-spc`, NS),
          ).rejects.toMatchObject({ reason: 'NotFound' });
          expect(await h.metricsText()).toContain(`error_type="${reason}"`);
        },
      );

      it('refuses a pod the API server does not know (PodNotFound)', async () => {
        const ghost = { name: `ghost-${tag}`, namespace: NS, uid: `uid-ghost-${tag}` };
        const target = h.targetPath(ghost.uid);
        const providerCalls = provider.requests.length;
        const err = await grpcError(
          h.publish(publishRequest({ targetPath: target, spc: 'spc', pod: ghost })),
        );
        expect(provider.requests.length).toBe(providerCalls);
        expect(
          err.details.startsWith(`${prefix(ghost.name)}failed to get pod ${NS}/${ghost.name}, err: `),
        ).toBe(true);
        expect(err.details).toContain('not found');
        expect(h.isMounted(target)).toBe(false);
      });

      it('reads the pod once per volume, not on every republish', async () => {
        const name = `checked-once-${tag}`;
        const pod = await createCheckedPod(name);
        const target = h.targetPath(pod.metadata.uid!);
        const req = publishRequest({ targetPath: target, spc: 'spc', pod: podRef(pod) });
        const gets = podGets(name);
        await h.publish(req);
        const getsPerVolume = nodeName === undefined ? 1 : 0; // a bound pod comes from the watch
        expect(podGets(name) - gets).toBe(getsPerVolume);
        const saved = provider.answer;
        provider.answer = () => ({
          files: [{ path: 'db-password', mode: 0o600, contents: 'rotated' }],
          objectVersions: [{ id: 'secret/db-password', version: 'v2' }],
        });
        clock += 120_000;
        await h.publish(req); // a rotation that rewrites the SPCPS
        provider.answer = saved;
        expect(fs.readFileSync(path.join(target, 'db-password'), 'utf8')).toBe('rotated');
        const status = await writtenPodStatus(
          cluster.kube,
          NS,
          `${name}-${NS}-spc`,
          (s) => s.status?.objects?.[0]?.version === 'v2',
        );
        expect(status.status?.objects).toEqual([{ id: 'secret/db-password', version: 'v2' }]);
        expect(podGets(name) - gets).toBe(getsPerVolume);
        await h.unpublish({ volume_id: 'v', target_path: target });
      }, 60_000);
    },
  );

  it('a failed rotation keeps the content and writes a Warning Event on the pod without the secret or the token', async () => {
    const pod = await createPod('rotating-0');
    const target = h.targetPath(pod.metadata.uid!);
    const tokens = JSON.stringify({ '': { token: TOKEN, expirationTimestamp: '2030-01-01T00:00:00Z' } });
    const req = publishRequest({
      targetPath: target,
      spc: 'spc',
      pod: podRef(pod),
      extraContext: { 'csi.storage.k8s.io/serviceAccount.tokens': tokens },
    });
    await h.publish(req);
    const saved = provider.answer;
    provider.answer = () => ({
      grpcError: { code: grpc.status.PERMISSION_DENIED, details: `denied for token ${TOKEN.slice(0, 5)}...` },
    });
    clock += 120_000;
    await h.publish(req);
    provider.answer = saved;
    expect(fs.readFileSync(path.join(target, 'db-password'), 'utf8')).toBe(SECRET_VALUE);
    const events = await eventually('the Warning Event', async () => {
      const list = await cluster.kube.list<KubeEvent>(EVENTS, {
        namespace: NS,
        fieldSelector: `involvedObject.name=rotating-0`,
      });
      return list.items.length > 0 ? list.items : undefined;
    });
    expect(events[0]).toMatchObject({
      type: 'Warning',
      reason: 'MountRotationFailed',
      involvedObject: { kind: 'Pod', name: 'rotating-0', uid: pod.metadata.uid },
    });
    expect(events[0].message).toContain('the previous content is kept');
    const everything = JSON.stringify(events) + h.logLines.join('\n');
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(SECRET_VALUE);
    await h.unpublish({ volume_id: 'v', target_path: target });
  }, 60_000);
});
