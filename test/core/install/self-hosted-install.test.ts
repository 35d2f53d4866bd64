import { readFileSync } from 'fs';
import { join } from 'path';
import {
  AZURE_SPC_ADMISSION_POLICY_NAME,
  isClusterScopedKind,
  renderSelfHostedInstall,
  SelfHostedInstallOptions,
} from '../../../lib/core/install';
import { KubeObject } from '../../../lib/core/kube-object';
import { ValidationError } from '../../../lib/core/validation/validation-error';
import { find } from './install-test-helpers';
import { validateKubeObject } from './offline-validation';

const kinds = (objects: KubeObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);
const packageVersion = (
  JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as { version: string }
).version;

describe('renderSelfHostedInstall', () => {
  const objects = renderSelfHostedInstall();

  it('matches the snapshot (defaults; image tag normalised)', () => {
    const normalised = JSON.parse(
      JSON.stringify(objects).split(`runtime:${packageVersion}`).join('runtime:<version>'),
    );
    expect(normalised).toMatchSnapshot();
  });

  it('validates every object against the Kubernetes schemas (kubernetes-models)', () => {
    expect(objects.length).toBeGreaterThan(10);
    for (const object of objects) {
      expect(() => validateKubeObject(object)).not.toThrow();
    }
  });

  it('validates every object of a fully customised install too', () => {
    const custom = renderSelfHostedInstall({
      namespace: 'secrets-store',
      enableSecretRotation: false,
      syncSecrets: false,
      workloadIdentity: false,
      identityBinding: true,
      images: { useUpstreamImages: true, imagePullPolicy: 'Always' },
      driverResources: { requests: { cpu: '0.1', memory: '128Mi' } },
      tolerations: [{ key: 'sku', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
      nodeSelector: { agentpool: 'system' },
      priorityClassName: 'high-priority',
      kubeletRootDir: '/var/lib/kubelet/',
      providersDir: '/etc/kubernetes/secrets-store-csi-providers',
      additionalProvidersDirs: [],
      logVerbosity: 4,
    });
    for (const object of custom) expect(() => validateKubeObject(object)).not.toThrow();
  });

  it('puts the CRDs first, then the CSIDriver, RBAC and policy, and the DaemonSets last', () => {
    expect(kinds(objects)).toEqual([
      'CustomResourceDefinition/secretproviderclasses.secrets-store.csi.x-k8s.io',
      'CustomResourceDefinition/secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io',
      'CSIDriver/secrets-store.csi.k8s.io',
      'ServiceAccount/secrets-store-csi-driver',
      'ServiceAccount/csi-secrets-store-provider-azure',
      'ClusterRole/secretproviderclasses-role',
      'ClusterRoleBinding/secretproviderclasses-rolebinding',
      'ClusterRole/secretprovidersyncing-role',
      'ClusterRoleBinding/secretprovidersyncing-rolebinding',
      'ClusterRole/secretproviderclasses-admin-role',
      'ClusterRole/secretproviderclasses-viewer-role',
      'ClusterRole/secretproviderclasspodstatuses-viewer-role',
      `ValidatingAdmissionPolicy/${AZURE_SPC_ADMISSION_POLICY_NAME}`,
      `ValidatingAdmissionPolicyBinding/${AZURE_SPC_ADMISSION_POLICY_NAME}`,
      'DaemonSet/csi-secrets-store',
      'DaemonSet/csi-secrets-store-provider-azure',
    ]);
  });

  it('never gives a cluster-scoped object a namespace, and always gives namespaced ones the install namespace', () => {
    for (const object of renderSelfHostedInstall({ namespace: 'secrets-store' })) {
      if (isClusterScopedKind(object.kind)) expect(object.metadata.namespace).toBeUndefined();
      else expect(object.metadata.namespace).toBe('secrets-store');
    }
  });

  it('binds the driver roles to the driver ServiceAccount in the install namespace', () => {
    const binding = find(
      renderSelfHostedInstall({ namespace: 'secrets-store' }),
      'ClusterRoleBinding',
      'secretproviderclasses-rolebinding',
    );
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'secrets-store-csi-driver', namespace: 'secrets-store' },
    ]);
  });

  it('creates a Pod-Security-privileged Namespace right after the CRDs, unless it is kube-system or turned off', () => {
    const custom = renderSelfHostedInstall({ namespace: 'secrets-store' });
    expect(kinds(custom).slice(0, 3)).toEqual([
      'CustomResourceDefinition/secretproviderclasses.secrets-store.csi.x-k8s.io',
      'CustomResourceDefinition/secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io',
      'Namespace/secrets-store',
    ]);
    expect(find(custom, 'Namespace', 'secrets-store').metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'privileged',
    });
    expect(kinds(objects).some((k) => k.startsWith('Namespace/'))).toBe(false);
    const noNamespace = renderSelfHostedInstall({ namespace: 'secrets-store', createNamespace: false });
    expect(kinds(noNamespace).some((k) => k.startsWith('Namespace/'))).toBe(false);
  });

  it('leaves out the sync role when syncSecrets is false', () => {
    const names = kinds(renderSelfHostedInstall({ syncSecrets: false }));
    expect(names).not.toContain('ClusterRole/secretprovidersyncing-role');
    expect(names).not.toContain('ClusterRoleBinding/secretprovidersyncing-rolebinding');
    expect(names).toContain('ClusterRole/secretproviderclasses-role');
  });

  it('leaves out the CRDs and the admission policy when asked', () => {
    const names = kinds(renderSelfHostedInstall({ installCrds: false, admissionPolicy: false }));
    expect(names.some((n) => n.startsWith('CustomResourceDefinition/'))).toBe(false);
    expect(names.some((n) => n.startsWith('ValidatingAdmissionPolicy'))).toBe(false);
    expect(names).toContain('CSIDriver/secrets-store.csi.k8s.io');
  });

  it('wires rotation into both the CSIDriver and the driver flags', () => {
    const off = renderSelfHostedInstall({ enableSecretRotation: false, rotationPollInterval: '5m' });
    expect(
      (find(off, 'CSIDriver', 'secrets-store.csi.k8s.io').spec as Record<string, unknown>).requiresRepublish,
    ).toBe(false);
    const args = JSON.stringify(find(off, 'DaemonSet', 'csi-secrets-store'));
    expect(args).toContain('--enable-secret-rotation=false');
    expect(args).toContain('--rotation-poll-interval=5m');
  });

  it('returns fresh objects on every call (callers may mutate their copy)', () => {
    const a = renderSelfHostedInstall();
    (a[2].metadata.labels as Record<string, string>).mutated = 'yes';
    expect(renderSelfHostedInstall()[2].metadata.labels).not.toHaveProperty('mutated');
  });
});

describe('renderSelfHostedInstall option validation', () => {
  const cases: [string, SelfHostedInstallOptions, string][] = [
    ['namespace', { namespace: 'Kube_System' }, 'namespace: "Kube_System" is not a valid namespace name'],
    [
      'interval not a duration',
      { rotationPollInterval: '120' },
      'rotationPollInterval: "120" is not a duration',
    ],
    [
      'interval with a bad unit',
      { rotationPollInterval: '2 minutes' },
      'rotationPollInterval: "2 minutes" is not a duration',
    ],
    ['zero interval', { rotationPollInterval: '0s' }, 'rotationPollInterval: "0s" must be longer than zero'],
    [
      'driver image',
      { images: { driverImage: 'my registry/driver' } },
      'images.driverImage: "my registry/driver" is not a container image reference',
    ],
    [
      'provider image',
      { images: { providerImage: 'Registry.io/UPPER:tag' } },
      'images.providerImage: "Registry.io/UPPER:tag" is not a container image reference',
    ],
    [
      'registrar image',
      { images: { nodeDriverRegistrarImage: '' } },
      'images.nodeDriverRegistrarImage: "" is not a container image reference',
    ],
    [
      'liveness image',
      { images: { livenessProbeImage: 'x:' } },
      'images.livenessProbeImage: "x:" is not a container image reference',
    ],
    [
      'pull policy',
      { images: { imagePullPolicy: 'always' } },
      'images.imagePullPolicy: "always" is not one of Always, IfNotPresent, Never',
    ],
    [
      'cpu quantity',
      { driverResources: { limits: { cpu: '200 m' } } },
      'driverResources.limits.cpu: "200 m" is not a Kubernetes quantity',
    ],
    [
      'memory quantity',
      { providerResources: { requests: { memory: '100MB' } } },
      'providerResources.requests.memory: "100MB" is not a Kubernetes quantity',
    ],
    [
      'registrar quantity',
      { registrarResources: { requests: { cpu: 'lots' } } },
      'registrarResources.requests.cpu: "lots"',
    ],
    [
      'liveness quantity',
      { livenessProbeResources: { limits: { memory: '-1Mi' } } },
      'livenessProbeResources.limits.memory: "-1Mi"',
    ],
    [
      'toleration operator',
      { tolerations: [{ operator: 'exists' }] },
      'tolerations[0].operator: "exists" is not a toleration operator; use "Exists" or "Equal"',
    ],
    [
      'toleration Exists with value',
      { tolerations: [{ key: 'a', operator: 'Exists', value: 'b' }] },
      'tolerations[0].value: must be empty when operator is "Exists"',
    ],
    [
      'toleration Equal without key',
      { tolerations: [{ value: 'b' }] },
      'tolerations[0].key: is required unless operator is "Exists"',
    ],
    [
      'toleration effect',
      { tolerations: [{ operator: 'Exists', effect: 'NoScheduleX' }] },
      'tolerations[0].effect: "NoScheduleX" is not a taint effect',
    ],
    [
      'nodeSelector key',
      { nodeSelector: { 'bad key': 'x' } },
      'nodeSelector["bad key"]: label key "bad key" is invalid',
    ],
    [
      'nodeSelector value',
      { nodeSelector: { pool: 'a b' } },
      'nodeSelector["pool"]: label value "a b" is invalid',
    ],
    [
      'windows nodes',
      { nodeSelector: { 'kubernetes.io/os': 'windows' } },
      'nodeSelector["kubernetes.io/os"]: "windows" is not supported: the self-hosted install runs on Linux nodes only',
    ],
    [
      'priority class',
      { priorityClassName: 'System Node Critical' },
      'priorityClassName: "System Node Critical" is not a valid PriorityClass name',
    ],
    [
      'kubelet dir',
      { kubeletRootDir: 'var/lib/kubelet' },
      'kubeletRootDir: "var/lib/kubelet" must be an absolute host path',
    ],
    [
      'providers dir',
      { providersDir: '/var/run/../etc' },
      'providersDir: "/var/run/../etc" must be an absolute host path without ".."',
    ],
    [
      'additional dir',
      { additionalProvidersDirs: ['relative'] },
      'additionalProvidersDirs[0]: "relative" must be an absolute host path',
    ],
    [
      'additional dir duplicate',
      { additionalProvidersDirs: ['/var/run/secrets-store-csi-providers/'] },
      'additionalProvidersDirs[0]: "/var/run/secrets-store-csi-providers" is already providersDir',
    ],
    ['log verbosity', { logVerbosity: 11 }, 'logVerbosity: 11 must be a whole number from 0 to 10'],
    [
      'token in secrets without tokens',
      { serviceAccountTokenInSecrets: true, workloadIdentity: false },
      'serviceAccountTokenInSecrets: has no effect without token requests',
    ],
    // What a JavaScript or YAML-config user writes by mistake: misspelt keys and strings for booleans.
    [
      'misspelt option',
      { rotationInterval: '5m' } as never,
      'rotationInterval: is not an option; did you mean "rotationPollInterval"?',
    ],
    [
      'misspelt case',
      { syncsecrets: false } as never,
      'syncsecrets: is not an option; did you mean "syncSecrets"?',
    ],
    ['unknown option', { helmValues: {} } as never, 'helmValues: is not an option Known options: namespace,'],
    [
      'string boolean',
      { enableSecretRotation: 'true' } as never,
      'enableSecretRotation: must be true or false but is the string "true"',
    ],
    [
      'string boolean (images)',
      { images: { useUpstreamImages: 'yes' } } as never,
      'images.useUpstreamImages: must be true or false',
    ],
    [
      'numeric interval',
      { rotationPollInterval: 120 } as never,
      'rotationPollInterval: must be a string but is number 120; write it in quotes, e.g. "2m"',
    ],
    [
      'misspelt image option',
      { images: { driver: 'x/y:1' } } as never,
      'images.driver: is not an option; did you mean "driverImage"?',
    ],
    [
      'misspelt resources',
      { driverResources: { limit: { cpu: '1' } } } as never,
      'driverResources.limit: is not an option; did you mean "limits"?',
    ],
    [
      'misspelt quantity',
      { driverResources: { limits: { mem: '1Gi' } } } as never,
      'driverResources.limits.mem: is not an option; did you mean "memory"?',
    ],
    [
      'numeric quantity',
      { providerResources: { limits: { cpu: 1 } } } as never,
      'providerResources.limits.cpu: must be a string but is number 1; write it in quotes, e.g. "50m"',
    ],
    [
      'tolerations not a list',
      { tolerations: { operator: 'Exists' } } as never,
      'tolerations: must be a list',
    ],
    [
      'misspelt toleration',
      { tolerations: [{ operator: 'Exists', efect: 'NoSchedule' }] } as never,
      'tolerations[0].efect: is not an option; did you mean "effect"?',
    ],
    [
      'nodeSelector value not a string',
      { nodeSelector: { spot: true } } as never,
      'nodeSelector["spot"]: must be a string but is boolean true',
    ],
    [
      'additional dirs not a list',
      { additionalProvidersDirs: '/etc/x' } as never,
      'additionalProvidersDirs: must be a list',
    ],
  ];

  it.each(cases)('rejects a bad %s with a message naming the field', (_rule, options, message) => {
    expect(() => renderSelfHostedInstall(options)).toThrow(message);
    try {
      renderSelfHostedInstall(options);
    } catch (error) {
      expect((error as Error).name).toBe('ValidationError');
    }
  });
});

describe('offline validator sanity', () => {
  it('really rejects a broken DaemonSet and a broken CSIDriver', () => {
    const objects = renderSelfHostedInstall();
    const ds = JSON.parse(JSON.stringify(find(objects, 'DaemonSet', 'csi-secrets-store'))) as KubeObject & {
      spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } };
    };
    ds.spec.template.spec.containers[1].ports[0].containerPort = '9808';
    expect(() => validateKubeObject(ds)).toThrow(/containerPort must be integer/);
    const driver = { ...find(objects, 'CSIDriver', 'secrets-store.csi.k8s.io') };
    expect(() => validateKubeObject({ ...driver, spec: { attachRequired: 'no' } })).toThrow(
      /must be boolean/,
    );
  });
});

describe('renderSelfHostedInstall collects the problems', () => {
  it('fails once with every independent problem, each naming its field, before rendering anything', () => {
    let error: ValidationError | undefined;
    try {
      renderSelfHostedInstall({
        namespace: 'Kube_System',
        rotationPollInterval: '0s',
        images: { imagePullPolicy: 'always', driverImage: 'my registry/driver' },
        tolerations: [{ operator: 'exists' }],
        kubeletRootDir: 'var/lib/kubelet',
        additionalProvidersDirs: ['relative'],
        logVerbosity: 11,
      });
    } catch (caught) {
      error = caught as ValidationError;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect(error!.problems.map((problem) => problem.field)).toEqual([
      'namespace',
      'rotationPollInterval',
      'images.driverImage',
      'images.imagePullPolicy',
      'tolerations[0].operator',
      'kubeletRootDir',
      'additionalProvidersDirs[0]',
      'logVerbosity',
    ]);
    expect(error!.message).toMatch(/^8 problems; fix them together:\n {2}namespace: "Kube_System" is not/);
    expect(error!.message).toContain('\n  logVerbosity: 11 must be a whole number from 0 to 10');
  });

  it('reports values of the wrong type first, since their rules cannot run on them', () => {
    expect(() =>
      renderSelfHostedInstall({ syncSecrets: 'no', namespace: 7, nodeSelector: { a: 'b c' } } as never),
    ).toThrow(
      '2 problems; fix them together:\n  syncSecrets: must be true or false but is the string "no"; write a boolean without quotes\n  namespace: must be a string but is number 7',
    );
  });
});
