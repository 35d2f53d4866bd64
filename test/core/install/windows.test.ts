import { renderSelfHostedInstall, SelfHostedInstallOptions } from '../../../lib/core/install';
import { KubeObject } from '../../../lib/core/kube-object';
import { container, find, podSpec } from './install-test-helpers';
import { validateKubeObject } from './offline-validation';

// Windows nodes (issue 15, item 2): upstream's Windows DaemonSets as its charts render them
// (secrets-store-csi-driver chart 1.6.0 templates/secrets-store-csi-driver-windows.yaml and values.yaml,
// Azure provider chart 1.8.2 templates/provider-azure-installer-windows.yaml and values.yaml), beside our
// Linux ones, which keep their Linux node selector. The expected strings below are those templates
// rendered with the charts' defaults: a plain YAML scalar keeps `\\`, a double-quoted one reads `\`.

const names = (objects: KubeObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);

describe('windowsNodes', () => {
  const objects = renderSelfHostedInstall({ windowsNodes: true });
  const driverDs = find(objects, 'DaemonSet', 'csi-secrets-store-windows');
  const providerDs = find(objects, 'DaemonSet', 'csi-secrets-store-provider-azure-windows');

  it('adds the two Windows DaemonSets after the Linux ones, which stay on Linux nodes', () => {
    expect(names(objects).slice(-4)).toEqual([
      'DaemonSet/csi-secrets-store',
      'DaemonSet/csi-secrets-store-provider-azure',
      'DaemonSet/csi-secrets-store-windows',
      'DaemonSet/csi-secrets-store-provider-azure-windows',
    ]);
    expect(podSpec(find(objects, 'DaemonSet', 'csi-secrets-store')).nodeSelector).toEqual({
      'kubernetes.io/os': 'linux',
    });
    expect(podSpec(driverDs).nodeSelector).toEqual({ 'kubernetes.io/os': 'windows' });
    expect(podSpec(providerDs).nodeSelector).toEqual({ 'kubernetes.io/os': 'windows' });
    expect(names(renderSelfHostedInstall())).not.toContain('DaemonSet/csi-secrets-store-windows');
  });

  it('driver: upstream image and sidecars, the chart Windows paths, args and resources', () => {
    const spec = podSpec(driverDs);
    expect(spec.serviceAccountName).toBe('secrets-store-csi-driver');
    expect(spec.containers.map((c) => [c.name, c.image])).toEqual([
      ['node-driver-registrar', 'registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.16.0'],
      ['secrets-store', 'registry.k8s.io/csi-secrets-store/driver:v1.6.0'],
      ['liveness-probe', 'registry.k8s.io/sig-storage/livenessprobe:v2.18.0'],
    ]);
    expect(container(driverDs, 'node-driver-registrar').args).toEqual([
      '--v=5',
      '--csi-address=unix://C:\\csi\\csi.sock',
      '--kubelet-registration-path=C:\\var\\lib\\kubelet\\plugins\\csi-secrets-store\\csi.sock',
    ]);
    const driver = container(driverDs, 'secrets-store');
    // The chart's order; its values.yaml defaults for the health-check interval and message size are
    // rendered too. Rotation is on (our install's default, docs/compatibility I1).
    expect(driver.args).toEqual([
      '--endpoint=$(CSI_ENDPOINT)',
      '--nodeid=$(KUBE_NODE_NAME)',
      '--provider-volume=C:\\k\\secrets-store-csi-providers',
      '--additional-provider-volume-paths=',
      '--enable-secret-rotation=true',
      '--rotation-poll-interval=2m',
      '--metrics-addr=:8095',
      '--provider-health-check-interval=2m',
      '--max-call-recv-msg-size=4194304',
    ]);
    expect(driver.env?.[0]).toEqual({ name: 'CSI_ENDPOINT', value: 'unix://C:\\\\csi\\\\csi.sock' });
    expect(driver.securityContext).toBeUndefined();
    expect(driver.volumeMounts).toEqual([
      { name: 'plugin-dir', mountPath: 'C:\\csi' },
      { name: 'mountpoint-dir', mountPath: 'C:\\var\\lib\\kubelet\\pods' },
      { name: 'providers-dir', mountPath: 'C:\\k\\secrets-store-csi-providers' },
    ]);
    expect(driver.resources).toEqual({
      requests: { cpu: '100m', memory: '100Mi' },
      limits: { cpu: '400m', memory: '400Mi' },
    });
    expect(container(driverDs, 'liveness-probe').args).toEqual([
      '--csi-address=unix://C:\\csi\\csi.sock',
      '--probe-timeout=3s',
      '--http-endpoint=0.0.0.0:9808',
      '-v=2',
    ]);
    expect(spec.volumes).toEqual([
      {
        name: 'mountpoint-dir',
        hostPath: { path: 'C:\\var\\lib\\kubelet\\pods\\', type: 'DirectoryOrCreate' },
      },
      {
        name: 'registration-dir',
        hostPath: { path: 'C:\\var\\lib\\kubelet\\plugins_registry\\', type: 'Directory' },
      },
      {
        name: 'plugin-dir',
        hostPath: { path: 'C:\\var\\lib\\kubelet\\plugins\\csi-secrets-store\\', type: 'DirectoryOrCreate' },
      },
      {
        name: 'providers-dir',
        hostPath: { path: 'C:\\k\\secrets-store-csi-providers', type: 'DirectoryOrCreate' },
      },
    ]);
  });

  it('provider: upstream image, no host network, the chart endpoint, socket dir and 100m/200Mi', () => {
    const spec = podSpec(providerDs);
    const provider = container(providerDs, 'provider-azure-installer');
    expect(spec.serviceAccountName).toBe('csi-secrets-store-provider-azure');
    expect(spec.hostNetwork).toBeUndefined();
    expect(provider.image).toBe('mcr.microsoft.com/oss/v2/azure/secrets-store/provider-azure:v1.8.2');
    expect(provider.args).toEqual([
      '--endpoint=unix://C:\\\\provider\\\\azure.sock',
      '--construct-pem-chain=true',
      '--healthz-port=8989',
      '--healthz-path=/healthz',
      '--healthz-timeout=5s',
    ]);
    expect(provider.resources).toEqual({
      requests: { cpu: '100m', memory: '200Mi' },
      limits: { cpu: '100m', memory: '200Mi' },
    });
    expect(provider.volumeMounts).toEqual([{ name: 'provider-vol', mountPath: 'C:\\provider' }]);
    expect(spec.volumes).toEqual([
      {
        name: 'provider-vol',
        hostPath: { path: 'C:\\k\\secrets-store-csi-providers', type: 'DirectoryOrCreate' },
      },
    ]);
  });

  it('takes rotation, verbosity, tolerations, priority, pull policy and image overrides from the install', () => {
    const custom = renderSelfHostedInstall({
      windowsNodes: true,
      enableSecretRotation: false,
      rotationPollInterval: '5m',
      logVerbosity: 3,
      tolerations: [{ key: 'os', operator: 'Equal', value: 'windows', effect: 'NoSchedule' }],
      priorityClassName: 'high',
      windowsKubeletRootDir: 'D:\\kubelet\\',
      windowsProvidersDir: 'D:\\providers',
      windowsNodeSelector: { agentpool: 'win' },
      images: { imagePullPolicy: 'Always', windowsProviderImage: 'mirror.example.com/provider-azure:v1.8.2' },
    });
    const ds = find(custom, 'DaemonSet', 'csi-secrets-store-windows');
    // As the chart: -v first, and rotation off is the absent flag (the binary's default).
    const args = container(ds, 'secrets-store').args;
    expect(args[0]).toBe('-v=3');
    expect(args).toEqual(
      expect.arrayContaining(['--provider-volume=D:\\providers', '--rotation-poll-interval=5m']),
    );
    expect(args.filter((a) => a.startsWith('--enable-secret-rotation'))).toEqual([]);
    expect(container(ds, 'node-driver-registrar').args[2]).toBe(
      '--kubelet-registration-path=D:\\kubelet\\plugins\\csi-secrets-store\\csi.sock',
    );
    expect(podSpec(ds)).toMatchObject({
      priorityClassName: 'high',
      nodeSelector: { agentpool: 'win', 'kubernetes.io/os': 'windows' },
      tolerations: [{ key: 'os', operator: 'Equal', value: 'windows', effect: 'NoSchedule' }],
    });
    const provider = container(
      find(custom, 'DaemonSet', 'csi-secrets-store-provider-azure-windows'),
      'provider-azure-installer',
    );
    expect(provider.image).toBe('mirror.example.com/provider-azure:v1.8.2');
    expect(provider.args[1]).toBe('-v=3');
    expect((provider as unknown as { imagePullPolicy: string }).imagePullPolicy).toBe('Always');
  });

  it('validates every object offline against the Kubernetes schemas', () => {
    for (const object of objects) expect(() => validateKubeObject(object)).not.toThrow();
  });
});

describe('windowsNodes option validation', () => {
  const cases: [string, SelfHostedInstallOptions, string][] = [
    [
      'Windows options without windowsNodes',
      { windowsProvidersDir: 'C:\\p' },
      'windowsProvidersDir: has no effect without Windows DaemonSets; set windowsNodes: true, or drop this option',
    ],
    [
      'a Linux path for Windows',
      { windowsNodes: true, windowsKubeletRootDir: '/var/lib/kubelet' },
      'windowsKubeletRootDir: "/var/lib/kubelet" must be an absolute Windows host path with backslashes',
    ],
    [
      'a relative Windows path',
      { windowsNodes: true, windowsProvidersDir: 'k\\providers' },
      'windowsProvidersDir: "k\\providers" must be an absolute Windows host path',
    ],
    [
      'a kubelet variable in a Windows path',
      { windowsNodes: true, windowsProvidersDir: 'C:\\k\\$(KUBE_NODE_NAME)' },
      'windowsProvidersDir: "C:\\k\\$(KUBE_NODE_NAME)" must be an absolute Windows host path',
    ],
    [
      'a second drive letter inside a Windows path',
      { windowsNodes: true, windowsKubeletRootDir: 'C:\\var\\D:\\kubelet' },
      'windowsKubeletRootDir: "C:\\var\\D:\\kubelet" must be an absolute Windows host path',
    ],
    [
      'a parent-dir escape in a Windows path',
      { windowsNodes: true, windowsProvidersDir: 'C:\\k\\..\\Windows\\System32' },
      'without ".."',
    ],
    [
      'a Linux selector on the Windows DaemonSets',
      { windowsNodes: true, windowsNodeSelector: { 'kubernetes.io/os': 'linux' } },
      'windowsNodeSelector["kubernetes.io/os"]: "linux" would schedule the Windows DaemonSets on no Windows node',
    ],
    [
      'a Windows selector on the Linux DaemonSets',
      { nodeSelector: { 'kubernetes.io/os': 'windows' } },
      'for Windows nodes set windowsNodes: true',
    ],
    [
      'windowsNodes as a string',
      { windowsNodes: 'true' } as never,
      'windowsNodes: must be true or false but is the string "true"',
    ],
  ];
  it.each(cases)('rejects %s, naming the field and the fix', (_what, options, message) => {
    expect(() => renderSelfHostedInstall(options)).toThrow(message);
  });
});
