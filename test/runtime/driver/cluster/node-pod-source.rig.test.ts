// The node pod cache behind the target-path check (runtime/driver/cluster/node-pod-source.ts) against the
// real kube-apiserver: a pod bound to this node comes from the watch, shrunk to what the check reads; a
// pod of another node, a reference with another UID and a re-created pod are read with a GET; an install
// whose RBAC grants only `get` on pods gives up the watch with a warning and still answers by GET.
import { isForbidden, NAMESPACES, Pod, PODS } from '../../../../runtime/driver/cluster/kube';
import { CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES } from '../../../../runtime/doctor/cluster-reader';
import { nodePodCache, NodePodSource, shrinkPod } from '../../../../runtime/driver/cluster/node-pod-source';
import type { KubeResourceObject } from '../../../../runtime/driver/cluster/kube';
import { KubeClient, loadKubeConfig } from '../../../../runtime/driver/cluster/kube';
import { rig } from '../../../../harness/rig/rig-env';
import { CountingKubeClient } from '../support/counting-kube-client';
import { eventually, freshNamespace, rigKubeClient, serviceAccountToken } from '../support/kube-test-support';

jest.setTimeout(120_000);

const DRIVER = 'secrets-store.csi.k8s.io';
const NODE = `pod-cache-node-${process.pid}`;
const ENV_VALUE = 'env-value-DO-NOT-CACHE';
let admin: KubeClient;
let kube: CountingKubeClient;
let namespace: string;
const bound: string[] = [];

/** A pod with one volume of ours, one of another CSI driver and an emptyDir, and values nobody should cache. */
function podSpec(name: string, nodeName?: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, annotations: { note: ENV_VALUE } },
    spec: {
      ...(nodeName ? { nodeName } : {}),
      containers: [
        { name: 'app', image: 'registry.k8s.io/pause:3.10', env: [{ name: 'PASSWORD', value: ENV_VALUE }] },
      ],
      volumes: [
        {
          name: 'secrets',
          csi: {
            driver: DRIVER,
            readOnly: true,
            volumeAttributes: { secretProviderClass: 'spc', extra: ENV_VALUE },
          },
        },
        { name: 'other-csi', csi: { driver: 'other.csi.example.com', volumeAttributes: { key: ENV_VALUE } } },
        { name: 'scratch', emptyDir: {} },
      ],
    },
  } as Pod;
}

async function createPod(name: string, nodeName?: string): Promise<Pod> {
  if (nodeName) bound.push(name);
  return admin.create<Pod>(PODS, podSpec(name, nodeName), namespace);
}

const podGets = (name: string) =>
  kube.requests.filter((r) => r === `GET /api/v1/namespaces/${namespace}/pods/${name}`).length;
const ref = (pod: Pod) => ({ name: pod.metadata.name!, namespace, uid: pod.metadata.uid! });

beforeAll(async () => {
  admin = rigKubeClient();
  kube = new CountingKubeClient(loadKubeConfig({ env: { KUBECONFIG: rig().kubeconfig } }));
  namespace = await freshNamespace(admin, 'pod-cache');
});

afterAll(async () => {
  // A pod bound to a node waits for its kubelet to finish a graceful delete; there is none here.
  for (const name of bound)
    await admin.delete(PODS, name, { namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
  await admin.delete(NAMESPACES, namespace).catch(() => undefined);
  admin.close();
  kube.close();
});

describe('shrinkPod', () => {
  it("keeps the name, UID and this driver's volumes with their SPC name only", () => {
    const pod = podSpec('p');
    pod.metadata.uid = 'uid-1';
    pod.metadata.resourceVersion = '7';
    const shrunk = shrinkPod(pod, DRIVER);
    expect(shrunk).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace, uid: 'uid-1', resourceVersion: '7' },
      spec: {
        volumes: [
          { name: 'secrets', csi: { driver: DRIVER, volumeAttributes: { secretProviderClass: 'spc' } } },
        ],
      },
    });
    expect(JSON.stringify(shrunk)).not.toContain(ENV_VALUE);
    // A hostile pod: no volumes at all, or a CSI volume without attributes.
    expect(shrinkPod({ metadata: { name: 'x' } } as Pod, DRIVER).spec).toEqual({ volumes: [] });
    expect(
      shrinkPod(
        { metadata: { name: 'y' }, spec: { volumes: [{ name: 'v', csi: { driver: DRIVER } }] } } as Pod,
        DRIVER,
      ).spec,
    ).toEqual({ volumes: [{ name: 'v', csi: { driver: DRIVER } }] });
  });
});

describe('NodePodSource on the node pod cache', () => {
  const warnings: string[] = [];
  let cache: ReturnType<typeof nodePodCache>;
  let source: NodePodSource;

  beforeAll(async () => {
    cache = nodePodCache({ client: kube, nodeName: NODE, driverName: DRIVER, warn: (m) => warnings.push(m) });
    await cache.start();
    source = new NodePodSource(kube, cache);
  });

  afterAll(() => cache.stop());

  it('serves a pod bound to this node from the watch, shrunk, without a GET', async () => {
    const pod = await createPod('on-node-0', NODE);
    await eventually('the watch to deliver on-node-0', async () => cache.get(namespace, 'on-node-0'));
    const found = await source.getPod(ref(pod));
    expect(podGets('on-node-0')).toBe(0);
    expect(found.metadata.uid).toBe(pod.metadata.uid);
    expect(found.spec?.volumes?.map((v) => v.name)).toEqual(['secrets']);
    // Nothing of the pod beyond what the check reads stays in the driver's memory.
    expect(JSON.stringify(cache.list())).not.toContain(ENV_VALUE);
    expect(warnings).toEqual([]);
  });

  it('reads a pod of another node, and a reference whose UID the cache does not hold, with a GET', async () => {
    const elsewhere = await createPod('elsewhere-0', `${NODE}-other`);
    const unbound = await createPod('unbound-0');
    for (const pod of [elsewhere, unbound]) {
      const found = await source.getPod(ref(pod));
      expect(podGets(pod.metadata.name!)).toBe(1);
      expect(found.metadata.uid).toBe(pod.metadata.uid); // the API server's whole pod
      expect(cache.get(namespace, pod.metadata.name!)).toBeUndefined();
    }
    const onNode = await createPod('on-node-1', NODE);
    await eventually('the watch to deliver on-node-1', async () => cache.get(namespace, 'on-node-1'));
    const forged = await source.getPod({ ...ref(onNode), uid: 'uid-of-a-pod-long-gone' });
    expect(podGets('on-node-1')).toBe(1);
    expect(forged.metadata.uid).toBe(onNode.metadata.uid); // the check then refuses the forged UID
  });

  it('answers a re-created pod (same name, new UID) with the new pod, from the watch or a GET', async () => {
    const old = await createPod('stateful-0', NODE);
    await eventually('the watch to deliver stateful-0', async () => cache.get(namespace, 'stateful-0'));
    await admin.delete(PODS, 'stateful-0', { namespace, gracePeriodSeconds: 0 });
    const recreated = await createPod('stateful-0', NODE);
    expect(recreated.metadata.uid).not.toBe(old.metadata.uid);
    // Asked at once, before the watch may have delivered the delete and the add.
    expect((await source.getPod(ref(recreated))).metadata.uid).toBe(recreated.metadata.uid);
    await eventually('the watch to deliver the new stateful-0', async () =>
      cache.get(namespace, 'stateful-0')?.metadata.uid === recreated.metadata.uid ? true : undefined,
    );
    const gets = podGets('stateful-0');
    expect((await source.getPod(ref(recreated))).metadata.uid).toBe(recreated.metadata.uid);
    expect(podGets('stateful-0')).toBe(gets);
  });

  it('forgets a deleted pod: a reference to it is read with a GET and the API server says NotFound', async () => {
    const pod = await createPod('deleted-0', NODE);
    await eventually('the watch to deliver deleted-0', async () => cache.get(namespace, 'deleted-0'));
    await admin.delete(PODS, 'deleted-0', { namespace, gracePeriodSeconds: 0 });
    await eventually('the watch to deliver the delete', async () =>
      cache.get(namespace, 'deleted-0') ? undefined : true,
    );
    await expect(source.getPod(ref(pod))).rejects.toMatchObject({ reason: 'NotFound' });
    expect(podGets('deleted-0')).toBe(1);
  });
});

describe('an install whose RBAC grants get on pods but not list or watch', () => {
  const name = `pods-get-only-${process.pid}`;

  afterAll(async () => {
    await admin.delete(CLUSTER_ROLE_BINDINGS, name).catch(() => undefined);
    await admin.delete(CLUSTER_ROLES, name).catch(() => undefined);
  });

  it('gives up the watch with one warning that says what to grant, and reads each pod with a GET', async () => {
    await admin.create(CLUSTER_ROLES, {
      metadata: { name },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
    } as KubeResourceObject);
    await admin.create(CLUSTER_ROLE_BINDINGS, {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name: 'driver', namespace }],
    } as KubeResourceObject);
    const token = await serviceAccountToken(admin, namespace, 'driver');
    const client = new KubeClient({
      ...loadKubeConfig({ env: { KUBECONFIG: rig().kubeconfig } }),
      clientCert: undefined,
      clientKey: undefined,
      token,
    });
    const warnings: Array<{ message: string; fields: Record<string, unknown> }> = [];
    const cache = nodePodCache({
      client,
      nodeName: NODE,
      driverName: DRIVER,
      warn: (message, fields) => warnings.push({ message, fields }),
    });
    try {
      // RBAC takes a moment to see a new binding: the GET is what the driver may do.
      const pod = await createPod('rbac-0', NODE);
      const source = new NodePodSource(client, cache);
      await eventually('the binding to take effect', async () => source.getPod(ref(pod)));
      const err = await cache.start().catch((e: unknown) => e);
      expect(isForbidden(err)).toBe(true);
      expect(warnings).toHaveLength(1);
      expect(warnings[0].message).toContain('grant list and watch on pods');
      expect(JSON.stringify(warnings)).not.toContain(token);
      expect(cache.hasSynced).toBe(false);
      expect((await source.getPod(ref(pod))).metadata.uid).toBe(pod.metadata.uid);
    } finally {
      await cache.stop();
      client.close();
    }
  });
});
