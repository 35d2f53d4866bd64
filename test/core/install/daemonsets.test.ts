import { readFileSync } from 'fs';
import { join } from 'path';
import { renderSelfHostedInstall } from '../../../lib/core/install';
import { container, find, podSpec } from './install-test-helpers';

const version = (
  JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as { version: string }
).version;

describe('driver DaemonSet', () => {
  const objects = renderSelfHostedInstall();
  const ds = find(objects, 'DaemonSet', 'csi-secrets-store');
  const spec = podSpec(ds);
  const driver = container(ds, 'secrets-store');

  it('runs registrar, driver and liveness-probe under the driver ServiceAccount on Linux, system-node-critical', () => {
    expect(spec.containers.map((c) => c.name)).toEqual([
      'node-driver-registrar',
      'secrets-store',
      'liveness-probe',
    ]);
    expect(spec.serviceAccountName).toBe('secrets-store-csi-driver');
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(spec.priorityClassName).toBe('system-node-critical');
  });

  it('runs our runtime image with the driver subcommand and upstream flag names', () => {
    expect(driver.image).toBe(`ghcr.io/aks-secrets-store/runtime:${version}`);
    // The image's entrypoint with V8 flags NODE_OPTIONS refuses: no TurboFan, and libc's time zone
    // instead of ICU's (DRIVER_NODE_FLAGS, RUNTIME_NODE_FLAGS).
    expect(driver.command).toEqual([
      'node',
      '--max-opt=2',
      '--no-icu-timezone-data',
      '/app/build/runtime/cli.js',
    ]);
    expect(driver.args).toEqual([
      'driver',
      '--endpoint=$(CSI_ENDPOINT)',
      '--nodeid=$(KUBE_NODE_NAME)',
      '--provider-volume=/var/run/secrets-store-csi-providers',
      '--additional-provider-volume-paths=/etc/kubernetes/secrets-store-csi-providers',
      '--metrics-addr=:8095',
      '--enable-secret-rotation=true',
      '--rotation-poll-interval=2m',
    ]);
    expect(driver.env).toEqual([
      { name: 'CSI_ENDPOINT', value: 'unix:///csi/csi.sock' },
      { name: 'KUBE_NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
      // V8 limits and two malloc arenas that keep our Node driver under 100 MiB with 110 volumes (bench/driver),
      // and blocks of 32 KiB or more in their own mmap, returned when freed (docs/operations.md).
      { name: 'NODE_OPTIONS', value: '--max-semi-space-size=1 --max-old-space-size=64' },
      { name: 'MALLOC_ARENA_MAX', value: '2' },
      {
        name: 'GLIBC_TUNABLES',
        value: 'glibc.malloc.mmap_threshold=32768:glibc.malloc.trim_threshold=131072',
      },
    ]);
  });

  it('is privileged and mounts the kubelet pods dir with Bidirectional propagation', () => {
    expect(driver.securityContext).toEqual({ privileged: true });
    expect(driver.volumeMounts).toContainEqual({
      name: 'mountpoint-dir',
      mountPath: '/var/lib/kubelet/pods',
      mountPropagation: 'Bidirectional',
    });
    // Only the pods dir propagates; the socket dirs must not.
    expect(driver.volumeMounts.filter((m) => m.mountPropagation)).toHaveLength(1);
  });

  it('uses the kubelet hostPaths and both provider dirs', () => {
    expect(spec.volumes.map((v) => [v.name, v.hostPath.path, v.hostPath.type])).toEqual([
      ['mountpoint-dir', '/var/lib/kubelet/pods', 'DirectoryOrCreate'],
      ['registration-dir', '/var/lib/kubelet/plugins_registry/', 'Directory'],
      ['plugin-dir', '/var/lib/kubelet/plugins/csi-secrets-store/', 'DirectoryOrCreate'],
      ['providers-dir', '/var/run/secrets-store-csi-providers', 'DirectoryOrCreate'],
      ['providers-dir-0', '/etc/kubernetes/secrets-store-csi-providers', 'DirectoryOrCreate'],
    ]);
    expect(container(ds, 'node-driver-registrar').args).toContain(
      '--kubelet-registration-path=/var/lib/kubelet/plugins/csi-secrets-store/csi.sock',
    );
  });

  it('exposes metrics :8095 and health :9808, the latter served by the liveness-probe sidecar', () => {
    expect(driver.ports).toEqual([
      { name: 'healthz', containerPort: 9808, protocol: 'TCP' },
      { name: 'metrics', containerPort: 8095, protocol: 'TCP' },
    ]);
    expect(driver.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'healthz' });
    expect(container(ds, 'liveness-probe').args).toContain('--http-endpoint=0.0.0.0:9808');
  });

  it('carries the upstream chart resources by default', () => {
    expect(driver.resources).toEqual({
      requests: { cpu: '50m', memory: '100Mi' },
      limits: { cpu: '200m', memory: '200Mi' },
    });
    expect(container(ds, 'node-driver-registrar').resources).toEqual({
      requests: { cpu: '10m', memory: '20Mi' },
      limits: { cpu: '100m', memory: '100Mi' },
    });
  });

  it('follows a custom kubelet root, providers dir, scheduling and verbosity', () => {
    const custom = find(
      renderSelfHostedInstall({
        kubeletRootDir: '/data/kubelet/',
        providersDir: '/etc/kubernetes/secrets-store-csi-providers',
        additionalProvidersDirs: [],
        tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }],
        nodeSelector: { agentpool: 'system' },
        priorityClassName: 'platform-critical',
        driverResources: { limits: { memory: '300Mi' } },
        logVerbosity: 3,
      }),
      'DaemonSet',
      'csi-secrets-store',
    );
    const customSpec = podSpec(custom);
    const customDriver = container(custom, 'secrets-store');
    expect(customDriver.args).toContain('--provider-volume=/etc/kubernetes/secrets-store-csi-providers');
    expect(customDriver.args).toContain('--additional-provider-volume-paths=');
    expect(customDriver.args).toContain('-v=3');
    expect(customDriver.resources).toEqual({ limits: { memory: '300Mi' } });
    expect(customDriver.volumeMounts).toContainEqual({
      name: 'mountpoint-dir',
      mountPath: '/data/kubelet/pods',
      mountPropagation: 'Bidirectional',
    });
    expect(customSpec.nodeSelector).toEqual({ agentpool: 'system', 'kubernetes.io/os': 'linux' });
    expect(customSpec.tolerations).toEqual([{ key: 'CriticalAddonsOnly', operator: 'Exists' }]);
    expect(customSpec.priorityClassName).toBe('platform-critical');
  });

  it('runs the upstream driver binary (no subcommand) with the pinned sidecars when asked', () => {
    const upstream = find(
      renderSelfHostedInstall({ images: { useUpstreamImages: true } }),
      'DaemonSet',
      'csi-secrets-store',
    );
    const upstreamDriver = container(upstream, 'secrets-store');
    expect(upstreamDriver.image).toBe('registry.k8s.io/csi-secrets-store/driver:v1.6.0');
    expect(upstreamDriver.args[0]).toBe('--endpoint=$(CSI_ENDPOINT)');
    expect(upstreamDriver.command).toBeUndefined();
    expect(container(upstream, 'node-driver-registrar').image).toBe(
      'registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.16.0',
    );
    expect(container(upstream, 'liveness-probe').image).toBe(
      'registry.k8s.io/sig-storage/livenessprobe:v2.18.0',
    );
  });
});

describe('provider DaemonSet', () => {
  const ds = find(renderSelfHostedInstall(), 'DaemonSet', 'csi-secrets-store-provider-azure');
  const spec = podSpec(ds);
  const provider = container(ds, 'provider-azure-installer');

  it('runs our runtime image with the provider subcommand and the upstream provider flags', () => {
    expect(provider.image).toBe(`ghcr.io/aks-secrets-store/runtime:${version}`);
    expect(provider.args).toEqual([
      'provider',
      '--endpoint=unix:///provider/azure.sock',
      '--construct-pem-chain=true',
      '--healthz-port=8989',
      '--healthz-path=/healthz',
      '--healthz-timeout=5s',
    ]);
  });

  it('puts its socket in the providers dir the driver searches first', () => {
    expect(spec.volumes).toEqual([
      {
        name: 'providervol',
        hostPath: { path: '/var/run/secrets-store-csi-providers', type: 'DirectoryOrCreate' },
      },
    ]);
    expect(provider.volumeMounts).toEqual([{ name: 'providervol', mountPath: '/provider' }]);
  });

  it('is not privileged: read-only root, no capabilities, no escalation; root only for the hostPath socket', () => {
    expect(provider.securityContext).toEqual({
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsUser: 0,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('probes :8989/healthz and exposes metrics on :8898', () => {
    expect(provider.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 8989 });
    expect(provider.ports).toEqual([
      { name: 'healthz', containerPort: 8989, protocol: 'TCP' },
      { name: 'metrics', containerPort: 8898, protocol: 'TCP' },
    ]);
  });

  it('schedules like the driver: Linux, tolerate all, system-node-critical, host network as upstream', () => {
    expect(spec.serviceAccountName).toBe('csi-secrets-store-provider-azure');
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(spec.priorityClassName).toBe('system-node-critical');
    expect(spec.hostNetwork).toBe(true);
    // The provider talks to no Kubernetes API: a host-network pod gets no service-account token.
    expect(spec.automountServiceAccountToken).toBe(false);
    // Upstream's chart values: our Node provider keeps ~52 MiB anonymous memory at its peak (bench/provider).
    expect(provider.resources).toEqual({
      requests: { cpu: '50m', memory: '100Mi' },
      limits: { cpu: '50m', memory: '100Mi' },
    });
    expect(provider.env).toEqual([
      { name: 'NODE_OPTIONS', value: '--max-semi-space-size=1 --max-old-space-size=64' },
      { name: 'MALLOC_ARENA_MAX', value: '2' },
      {
        name: 'GLIBC_TUNABLES',
        value: 'glibc.malloc.mmap_threshold=32768:glibc.malloc.trim_threshold=131072',
      },
    ]);
    // The image's entrypoint with libc's time zone instead of ICU's (RUNTIME_NODE_FLAGS); not
    // --max-opt=2, which cost our provider 17-23 % CPU in bench/provider.
    expect(provider.command).toEqual(['node', '--no-icu-timezone-data', '/app/build/runtime/cli.js']);
  });

  it('runs the upstream provider image (no subcommand) when asked, and honours explicit overrides', () => {
    const upstream = container(
      find(
        renderSelfHostedInstall({ images: { useUpstreamImages: true } }),
        'DaemonSet',
        'csi-secrets-store-provider-azure',
      ),
      'provider-azure-installer',
    );
    expect(upstream.image).toBe('mcr.microsoft.com/oss/v2/azure/secrets-store/provider-azure:v1.8.2');
    expect(upstream.args[0]).toBe('--endpoint=unix:///provider/azure.sock');
    // The Go binary keeps the upstream chart's resources and gets no Node options.
    expect(upstream.resources).toEqual({
      requests: { cpu: '50m', memory: '100Mi' },
      limits: { cpu: '50m', memory: '100Mi' },
    });
    expect(upstream.env).toBeUndefined();
    expect(upstream.command).toBeUndefined();

    const overridden = container(
      find(
        renderSelfHostedInstall({
          images: { useUpstreamImages: true, providerImage: 'myacr.azurecr.io/provider-azure:v1.8.3' },
        }),
        'DaemonSet',
        'csi-secrets-store-provider-azure',
      ),
      'provider-azure-installer',
    );
    expect(overridden.image).toBe('myacr.azurecr.io/provider-azure:v1.8.3');
  });
});
