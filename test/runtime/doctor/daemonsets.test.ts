// Reading driver and provider DaemonSets: this package's install as lib/core renders it, and the Go flag
// spellings and scheduling rules of upstream's manifests and the add-on.
import { renderSelfHostedInstall } from '../../../lib/core/install';
import {
  containerFlags,
  DaemonSet,
  driverShape,
  installKindOf,
  Node,
  providerShape,
  selectorText,
  whyNotOnNode,
} from '../../../runtime/doctor/daemonsets';

const install = renderSelfHostedInstall({
  additionalProvidersDirs: ['/etc/kubernetes/secrets-store-csi-providers'],
});
const driverDs = install.find(
  (o) => o.kind === 'DaemonSet' && o.metadata.name === 'csi-secrets-store',
) as unknown as DaemonSet;
const providerDs = install.find(
  (o) => o.kind === 'DaemonSet' && o.metadata.name === 'csi-secrets-store-provider-azure',
) as unknown as DaemonSet;

test("this package's install: the driver's name, rotation, socket dirs and their host paths; the provider's socket", () => {
  expect(driverShape(driverDs)).toMatchObject({
    driverName: 'secrets-store.csi.k8s.io',
    rotation: true,
    providerDirs: ['/var/run/secrets-store-csi-providers', '/etc/kubernetes/secrets-store-csi-providers'],
    hostProviderDirs: ['/var/run/secrets-store-csi-providers', '/etc/kubernetes/secrets-store-csi-providers'],
    metricsPort: 8095,
    ours: true,
  });
  expect(providerShape(providerDs)).toMatchObject({
    socketName: 'azure.sock',
    socketDir: '/provider',
    hostSocketDir: '/var/run/secrets-store-csi-providers',
    metricsPort: 8898,
  });
  expect(driverShape(providerDs)).toBeUndefined();
  expect(providerShape(driverDs)).toBeUndefined();
  expect(installKindOf(driverDs)).toBe('self-hosted');
  expect(selectorText(driverDs)).toBe('app=secrets-store-csi-driver');
});

test('Go flag spellings: --a=b, -a=b, --a b for value flags, bare booleans; the last one wins', () => {
  const flags = containerFlags(
    {
      name: 'x',
      command: ['/secrets-store-csi'],
      args: [
        '-v=5',
        '--endpoint',
        'unix:///csi/csi.sock',
        '-nodeid=$(KUBE_NODE_NAME)',
        '--enable-secret-rotation',
        '--drivername=a',
        '--drivername=b',
      ],
    },
    ['endpoint', 'nodeid', 'drivername'],
  );
  expect(Object.fromEntries(flags)).toEqual({
    v: '5',
    endpoint: 'unix:///csi/csi.sock',
    nodeid: '$(KUBE_NODE_NAME)',
    'enable-secret-rotation': 'true',
    drivername: 'b',
  });
});

test("the upstream driver's defaults when its flags are absent; a provider dir that is no hostPath has no host dir", () => {
  const ds = {
    metadata: { name: 'csi-secrets-store', namespace: 'kube-system' },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'secrets-store',
              image: 'registry.k8s.io/csi-secrets-store/driver:v1.5.6',
              args: ['--nodeid=$(KUBE_NODE_NAME)'],
              volumeMounts: [{ name: 'providers', mountPath: '/var/run/secrets-store-csi-providers' }],
            },
          ],
          volumes: [{ name: 'providers', emptyDir: {} }],
        },
      },
    },
  } as unknown as DaemonSet;
  expect(driverShape(ds)).toMatchObject({
    driverName: 'secrets-store.csi.k8s.io',
    rotation: false,
    providerDirs: ['/var/run/secrets-store-csi-providers', '/etc/kubernetes/secrets-store-csi-providers'],
    hostProviderDirs: [],
    version: { major: 1, minor: 5 },
    ours: false,
  });
  expect(
    installKindOf({ ...ds, metadata: { name: 'aks-secrets-store-csi-driver', namespace: 'kube-system' } }),
  ).toBe('aks-addon');
});

describe('why a DaemonSet does not run on a node', () => {
  const node = (labels: Record<string, string>, taints: Node['spec'] = {}): Node =>
    ({ metadata: { name: 'n1', labels: { 'kubernetes.io/os': 'linux', ...labels } }, spec: taints }) as Node;
  const ds = (spec: object): DaemonSet =>
    ({ metadata: { name: 'p' }, spec: { template: { spec } } }) as DaemonSet;

  test('nodeSelector', () => {
    expect(whyNotOnNode(ds({ nodeSelector: { 'kubernetes.io/os': 'windows' } }), node({}))).toBe(
      'its nodeSelector kubernetes.io/os=windows does not match node n1 (kubernetes.io/os=linux)',
    );
    expect(whyNotOnNode(ds({ nodeSelector: { 'kubernetes.io/os': 'linux' } }), node({}))).toBeUndefined();
  });

  test('required node affinity', () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'type', operator: 'NotIn', values: ['virtual-kubelet'] }] },
          ],
        },
      },
    };
    expect(whyNotOnNode(ds({ affinity }), node({ type: 'virtual-kubelet' }))).toBe(
      'its required node affinity excludes node n1 (type NotIn virtual-kubelet)',
    );
    expect(whyNotOnNode(ds({ affinity }), node({}))).toBeUndefined();
  });

  test('taints, tolerations and the tolerations every DaemonSet pod gets', () => {
    const tainted = node({}, { taints: [{ key: 'sku', value: 'gpu', effect: 'NoSchedule' }] });
    expect(whyNotOnNode(ds({}), tainted)).toBe(
      'node n1 has the taint sku=gpu:NoSchedule, which it does not tolerate',
    );
    expect(whyNotOnNode(ds({ tolerations: [{ operator: 'Exists' }] }), tainted)).toBeUndefined();
    expect(
      whyNotOnNode(
        ds({ tolerations: [{ key: 'sku', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }),
        tainted,
      ),
    ).toBeUndefined();
    expect(
      whyNotOnNode(
        ds({}),
        node({}, { taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] }),
      ),
    ).toBeUndefined();
    expect(
      whyNotOnNode(ds({}), node({}, { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] })),
    ).toBeUndefined();
  });
});
