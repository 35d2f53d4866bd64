import { byUrn, MOCK_PROJECT, MOCK_STACK, recorded, registered, valueOf } from './mocks';
import { errorOf } from './error-of';
import { Provider } from '@pulumi/kubernetes/provider';
import { renderSelfHostedInstall } from '../../lib/core/install';
import { kubeTypeToken } from '../../lib/pulumi/kube-object-resource';
import { SelfHostedInstall } from '../../lib/pulumi/self-hosted-install';

const CRD = 'kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition';

describe('SelfHostedInstall', () => {
  const provider = new Provider('target-cluster', { kubeconfig: 'unused-under-mocks' });
  const install = new SelfHostedInstall('secrets-store', {
    rotationPollInterval: '5m',
    kubernetesProvider: provider,
  });
  const mine = () => recorded.filter((r) => r.parent && byUrn(r.parent)?.name === 'secrets-store');

  beforeAll(() => registered(...install.resources()));

  it('creates every object the core renders, as the matching Kubernetes type', () => {
    const expected = renderSelfHostedInstall({ rotationPollInterval: '5m' });
    expect(install.objects).toEqual(expected);
    expect(
      mine()
        .map((r) => r.type)
        .sort(),
    ).toEqual(expected.map(kubeTypeToken).sort());
    const driver = mine().find(
      (r) => r.type === 'kubernetes:apps/v1:DaemonSet' && r.inputs.metadata.name === 'csi-secrets-store',
    )!;
    expect(driver.inputs.metadata.namespace).toBe('kube-system');
    expect(JSON.stringify(driver.inputs.spec)).toContain('--rotation-poll-interval=5m');
  });

  it('retains the CRDs on delete, and only the CRDs', () => {
    const crds = mine().filter((r) => r.type === CRD);
    expect(crds.map((r) => r.name).sort()).toEqual([
      'secrets-store-crd-secretproviderclasses.secrets-store.csi.x-k8s.io',
      'secrets-store-crd-secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io',
    ]);
    expect(crds.every((r) => r.retainOnDelete)).toBe(true);
    expect(mine().filter((r) => r.type !== CRD && r.retainOnDelete)).toEqual([]);
  });

  it('applies everything else after the CRDs, through the given provider', () => {
    const crdUrns = mine()
      .filter((r) => r.type === CRD)
      .map((r) => r.urn);
    for (const r of mine().filter((x) => x.type !== CRD))
      expect(r.dependsOn).toEqual(expect.arrayContaining(crdUrns));
    expect(
      mine().every((r) =>
        r.provider?.startsWith(
          `urn:pulumi:${MOCK_STACK}::${MOCK_PROJECT}::pulumi:providers:kubernetes::target-cluster::`,
        ),
      ),
    ).toBe(true);
  });

  it('exposes the CSIDriver and the DaemonSets as typed children', async () => {
    expect(await valueOf(install.csiDriver.metadata.name)).toBe('secrets-store.csi.k8s.io');
    expect(await Promise.all(install.daemonSets.map((ds) => valueOf(ds.metadata.name)))).toEqual([
      'csi-secrets-store',
      'csi-secrets-store-provider-azure',
    ]);
  });

  it('names children after the component, kind and object name', () => {
    expect(mine().map((r) => r.name)).toEqual(
      expect.arrayContaining([
        'secrets-store-csidriver-secrets-store.csi.k8s.io',
        'secrets-store-daemonset-csi-secrets-store',
        'secrets-store-daemonset-csi-secrets-store-provider-azure',
      ]),
    );
  });

  it.each([
    [{ rotationPollInterval: 'every 2 minutes' }, /^rotationPollInterval: /],
    [{ namespace: 'Kube_System' }, /^namespace: /],
  ])('fails for %p with the shared core message', (options, pattern) => {
    const message = errorOf(() => new SelfHostedInstall('bad-install', options));
    expect(message).toMatch(pattern);
    expect(message).toBe(errorOf(() => renderSelfHostedInstall(options)));
  });
});

describe('SelfHostedInstall on Windows nodes (Pulumi)', () => {
  const install = new SelfHostedInstall('windows-store', {
    windowsNodes: true,
    windowsNodeSelector: { pool: 'win' },
  });
  const mine = () => recorded.filter((r) => r.parent && byUrn(r.parent)?.name === 'windows-store');

  beforeAll(() => registered(...install.resources()));

  it('adds upstream Windows DaemonSets beside the Linux ones, which keep their Linux selector', async () => {
    expect(await Promise.all(install.daemonSets.map((ds) => valueOf(ds.metadata.name)))).toEqual([
      'csi-secrets-store',
      'csi-secrets-store-provider-azure',
      'csi-secrets-store-windows',
      'csi-secrets-store-provider-azure-windows',
    ]);
    const selectorOf = (name: string) =>
      mine().find((r) => r.type === 'kubernetes:apps/v1:DaemonSet' && r.inputs.metadata.name === name)!.inputs
        .spec.template.spec.nodeSelector;
    expect(selectorOf('csi-secrets-store')).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(selectorOf('csi-secrets-store-provider-azure')).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(selectorOf('csi-secrets-store-windows')).toEqual({ pool: 'win', 'kubernetes.io/os': 'windows' });
    expect(selectorOf('csi-secrets-store-provider-azure-windows')).toEqual({
      pool: 'win',
      'kubernetes.io/os': 'windows',
    });
    expect(install.objects).toEqual(
      renderSelfHostedInstall({ windowsNodes: true, windowsNodeSelector: { pool: 'win' } }),
    );
  });

  it.each([
    [
      { windowsKubeletRootDir: 'C:\\kubelet' },
      /^windowsKubeletRootDir: has no effect without Windows DaemonSets/,
    ],
    [
      { windowsNodes: true, windowsProvidersDir: '/var/run/providers' },
      /^windowsProvidersDir: "\/var\/run\/providers"/,
    ],
  ])('fails for %p with the shared core message', (options, pattern) => {
    const message = errorOf(() => new SelfHostedInstall('bad-windows-install', options));
    expect(message).toMatch(pattern);
    expect(message).toBe(errorOf(() => renderSelfHostedInstall(options)));
  });
});
