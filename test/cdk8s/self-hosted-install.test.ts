import { readFileSync } from 'fs';
import { join } from 'path';
import { Chart, Testing } from 'cdk8s';
import { AksAddOnDriver, SelfHostedInstall } from '../../lib/cdk8s/self-hosted-install';
import { AZURE_SPC_ADMISSION_POLICY_NAME, isClusterScopedKind } from '../../lib/core/install';
import { KubeObject } from '../../lib/core/kube-object';
import { validateKubeObject } from '../core/install/offline-validation';

const version = (
  JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }
).version;

/** A chart with its own namespace: exactly the case where cdk8s would leak it onto cluster-scoped objects. */
function synth(build: (chart: Chart) => void): KubeObject[] {
  const app = Testing.app();
  const chart = new Chart(app, 'secrets', { namespace: 'team-a' });
  build(chart);
  return Testing.synth(chart) as KubeObject[];
}

describe('SelfHostedInstall (cdk8s)', () => {
  const manifests = synth((chart) => new SelfHostedInstall(chart, 'install'));

  it('matches the snapshot (image tag normalised)', () => {
    const normalised = JSON.parse(
      JSON.stringify(manifests).split(`runtime:${version}`).join('runtime:<version>'),
    );
    expect(normalised).toMatchSnapshot();
  });

  it('synthesizes the CRDs first, the CSIDriver, both DaemonSets and the admission policy', () => {
    expect(manifests.slice(0, 2).map((m) => m.kind)).toEqual([
      'CustomResourceDefinition',
      'CustomResourceDefinition',
    ]);
    const names = manifests.map((m) => `${m.kind}/${m.metadata.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'CSIDriver/secrets-store.csi.k8s.io',
        'DaemonSet/csi-secrets-store',
        'DaemonSet/csi-secrets-store-provider-azure',
        `ValidatingAdmissionPolicy/${AZURE_SPC_ADMISSION_POLICY_NAME}`,
      ]),
    );
  });

  it('never gives a cluster-scoped object the chart namespace', () => {
    const clusterScoped = manifests.filter((m) => isClusterScopedKind(m.kind));
    expect(clusterScoped.map((m) => m.kind)).toEqual(
      expect.arrayContaining([
        'CustomResourceDefinition',
        'CSIDriver',
        'ClusterRole',
        'ClusterRoleBinding',
        'ValidatingAdmissionPolicy',
      ]),
    );
    for (const object of clusterScoped) expect(object.metadata).not.toHaveProperty('namespace');
  });

  it('keeps namespaced objects in the install namespace, not the chart namespace', () => {
    const namespaced = manifests.filter((m) => !isClusterScopedKind(m.kind));
    expect(namespaced.map((m) => m.kind).sort()).toEqual([
      'DaemonSet',
      'DaemonSet',
      'ServiceAccount',
      'ServiceAccount',
    ]);
    for (const object of namespaced) expect(object.metadata.namespace).toBe('kube-system');
  });

  it('validates every synthesized object offline (kubernetes-models)', () => {
    for (const object of manifests) expect(() => validateKubeObject(object)).not.toThrow();
  });

  it('passes options through and exposes the objects by kind and name', () => {
    let install: SelfHostedInstall | undefined;
    const custom = synth((chart) => {
      install = new SelfHostedInstall(chart, 'install', { namespace: 'secrets-store', syncSecrets: false });
    });
    expect(custom.some((m) => m.metadata.name === 'secretprovidersyncing-role')).toBe(false);
    expect(custom.find((m) => m.kind === 'DaemonSet')?.metadata.namespace).toBe('secrets-store');
    const namespace = custom.find((m) => m.kind === 'Namespace');
    expect(namespace?.metadata.name).toBe('secrets-store');
    expect(namespace?.metadata).not.toHaveProperty('namespace');
    expect(install!.apiObject('CSIDriver', 'secrets-store.csi.k8s.io').kind).toBe('CSIDriver');
    expect(install!.csiDriverName).toBe('secrets-store.csi.k8s.io');
    expect(install!.selfHosted).toBe(true);
    expect(() => install!.apiObject('DaemonSet', 'nope')).toThrow('has no DaemonSet named nope');
  });

  it('fails synth at construction with a message naming the bad option', () => {
    expect(() =>
      synth((chart) => new SelfHostedInstall(chart, 'install', { rotationPollInterval: '2 min' })),
    ).toThrow('rotationPollInterval: "2 min" is not a duration');
  });
});

describe('AksAddOnDriver (cdk8s)', () => {
  it('renders only the admission policy and its binding, cluster-scoped', () => {
    const manifests = synth((chart) => new AksAddOnDriver(chart, 'driver'));
    expect(manifests.map((m) => m.kind)).toEqual([
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ]);
    for (const object of manifests) {
      expect(object.metadata).not.toHaveProperty('namespace');
      expect(() => validateKubeObject(object)).not.toThrow();
    }
  });

  it('renders nothing when the policy is turned off, and says the driver is not self-hosted', () => {
    let driver: AksAddOnDriver | undefined;
    const manifests = synth((chart) => {
      driver = new AksAddOnDriver(chart, 'driver', { admissionPolicy: false });
    });
    expect(manifests).toEqual([]);
    expect(driver!.selfHosted).toBe(false);
    expect(driver!.csiDriverName).toBe('secrets-store.csi.k8s.io');
  });
});

describe('SelfHostedInstall on Windows nodes (cdk8s)', () => {
  it('adds upstream Windows DaemonSets beside the Linux ones, each valid offline', () => {
    const objects = synth((chart) => new SelfHostedInstall(chart, 'install', { windowsNodes: true }));
    const daemonSets = objects.filter((o) => o.kind === 'DaemonSet');
    expect(daemonSets.map((o) => o.metadata.name)).toEqual([
      'csi-secrets-store',
      'csi-secrets-store-provider-azure',
      'csi-secrets-store-windows',
      'csi-secrets-store-provider-azure-windows',
    ]);
    for (const object of daemonSets) expect(() => validateKubeObject(object)).not.toThrow();
  });

  it('fails naming the construct path and the field', () => {
    expect(() =>
      synth((chart) => new SelfHostedInstall(chart, 'install', { windowsProvidersDir: 'C:\\p' })),
    ).toThrow(/^\[secrets\/install\] windowsProvidersDir: has no effect without Windows DaemonSets/);
  });
});
