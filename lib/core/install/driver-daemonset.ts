import { KubeObject } from '../kube-object';
import {
  DRIVER_APP_LABEL,
  DRIVER_DAEMONSET_NAME,
  DRIVER_HEALTHZ_PORT,
  DRIVER_METRICS_PORT,
  DRIVER_SERVICE_ACCOUNT_NAME,
} from './names';
import { hostPathVolume, InstallDaemonSetProps, nodeDaemonSet } from './node-daemonset';
import { runtimeNodeCommand, RUNTIME_NODE_FLAGS } from './runtime-command';
import { RUNTIME_GLIBC_TUNABLES } from './runtime-malloc';
import { ContainerResources, resourcesJson } from './scheduling';

// The CSI node plugin DaemonSet, shaped like upstream v1.6 deploy/secrets-store-csi-driver.yaml:
// node-driver-registrar (registers our socket with kubelet), secrets-store (the driver), and
// liveness-probe (serves :9808/healthz by calling CSI Probe). The driver is privileged because it
// mounts tmpfs and needs Bidirectional propagation so kubelet and the pod see those mounts.

/** Everything the driver DaemonSet needs, already defaulted and validated by renderSelfHostedInstall. */
export interface DriverDaemonSetProps extends InstallDaemonSetProps {
  readonly enableSecretRotation: boolean;
  readonly rotationPollInterval: string;
  readonly kubeletRootDir: string;
  readonly providersDir: string;
  readonly additionalProvidersDirs: readonly string[];
  readonly driverResources: ContainerResources;
  readonly registrarResources: ContainerResources;
  readonly livenessProbeResources: ContainerResources;
}

const CSI_SOCKET_DIR = '/csi';
const CSI_ENDPOINT = `unix://${CSI_SOCKET_DIR}/csi.sock`;
/** Plugin dir name under <kubelet>/plugins: where the driver socket lives on the host. */
const PLUGIN_DIR_NAME = 'csi-secrets-store';

/**
 * V8 limits for our driver (Node) process: with the defaults the young generation lets the heap peak at
 * 119–154 MiB with 110 volumes; these keep the peak near 80 MiB, inside the 100 MiB target
 * (bench/driver, docs/operations.md). Not set for the upstream (Go) image.
 */
export const DRIVER_NODE_OPTIONS = '--max-semi-space-size=1 --max-old-space-size=64';

/**
 * Node flags on our driver's command line, which NODE_OPTIONS refuses: `--max-opt=2` stops V8's tiering
 * at Maglev, so TurboFan never compiles and its code in the Node binary is never paged in. bench/driver
 * (110 volumes, Node 24): RSS with volumes -6 MiB, peak -7 MiB, CPU within the machine's noise
 * (docs/operations.md, "Memory of our image"). Not set on our provider, where the same flag cost
 * 17-23 % CPU, nor for the upstream (Go) image. Then the flags of both our containers (RUNTIME_NODE_FLAGS).
 */
export const DRIVER_NODE_FLAGS: readonly string[] = ['--max-opt=2', ...RUNTIME_NODE_FLAGS];

/** glibc's arena count for our driver process (see the env below). Not set for the upstream (Go) image. */
export const DRIVER_MALLOC_ARENA_MAX = '2';

/** Args of the `secrets-store` container: upstream v1.6 flag names, so both images read the same. */
export function driverArgs(props: DriverDaemonSetProps): string[] {
  return [
    ...(props.images.runtimeImage ? ['driver'] : []),
    '--endpoint=$(CSI_ENDPOINT)',
    '--nodeid=$(KUBE_NODE_NAME)',
    `--provider-volume=${props.providersDir}`,
    // Always passed, even empty: an absent flag means the driver's default legacy dir, not "none".
    `--additional-provider-volume-paths=${props.additionalProvidersDirs.join(',')}`,
    `--metrics-addr=:${DRIVER_METRICS_PORT}`,
    `--enable-secret-rotation=${props.enableSecretRotation}`,
    `--rotation-poll-interval=${props.rotationPollInterval}`,
    ...(props.logVerbosity !== undefined ? [`-v=${props.logVerbosity}`] : []),
  ];
}

export function driverDaemonSet(props: DriverDaemonSetProps): KubeObject {
  const pluginDir = `${props.kubeletRootDir}/plugins/${PLUGIN_DIR_NAME}`;
  const pullPolicy = props.images.imagePullPolicy;
  const providerDirMounts = [props.providersDir, ...props.additionalProvidersDirs].map((hostPath, index) => ({
    name: index === 0 ? 'providers-dir' : `providers-dir-${index - 1}`,
    hostPath,
  }));

  const registrar = {
    name: 'node-driver-registrar',
    image: props.images.nodeDriverRegistrar,
    imagePullPolicy: pullPolicy,
    args: [
      '--v=5',
      `--csi-address=${CSI_SOCKET_DIR}/csi.sock`,
      `--kubelet-registration-path=${pluginDir}/csi.sock`,
    ],
    volumeMounts: [
      { name: 'plugin-dir', mountPath: CSI_SOCKET_DIR },
      { name: 'registration-dir', mountPath: '/registration' },
    ],
    resources: resourcesJson(props.registrarResources),
  };

  const driver = {
    name: 'secrets-store',
    image: props.images.driver,
    imagePullPolicy: pullPolicy,
    ...(props.images.runtimeImage ? { command: runtimeNodeCommand(DRIVER_NODE_FLAGS) } : {}),
    args: driverArgs(props),
    env: [
      { name: 'CSI_ENDPOINT', value: CSI_ENDPOINT },
      { name: 'KUBE_NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
      ...(props.images.runtimeImage
        ? [
            { name: 'NODE_OPTIONS', value: DRIVER_NODE_OPTIONS },
            // Two glibc malloc arenas instead of 8 per core: the peak RSS under the bench's republish storm
            // fell from 100.6 to 93-95 MiB (bench/driver, 110 volumes, Node 24), at no CPU cost measured.
            { name: 'MALLOC_ARENA_MAX', value: DRIVER_MALLOC_ARENA_MAX },
            { name: 'GLIBC_TUNABLES', value: RUNTIME_GLIBC_TUNABLES },
          ]
        : []),
    ],
    securityContext: { privileged: true },
    ports: [
      { name: 'healthz', containerPort: DRIVER_HEALTHZ_PORT, protocol: 'TCP' },
      { name: 'metrics', containerPort: DRIVER_METRICS_PORT, protocol: 'TCP' },
    ],
    // Served by the liveness-probe sidecar in the same pod network namespace.
    livenessProbe: {
      httpGet: { path: '/healthz', port: 'healthz' },
      initialDelaySeconds: 30,
      timeoutSeconds: 10,
      periodSeconds: 15,
      failureThreshold: 5,
    },
    volumeMounts: [
      { name: 'plugin-dir', mountPath: CSI_SOCKET_DIR },
      {
        name: 'mountpoint-dir',
        mountPath: `${props.kubeletRootDir}/pods`,
        mountPropagation: 'Bidirectional',
      },
      ...providerDirMounts.map(({ name, hostPath }) => ({ name, mountPath: hostPath })),
    ],
    resources: resourcesJson(props.driverResources),
  };

  const livenessProbe = {
    name: 'liveness-probe',
    image: props.images.livenessProbe,
    imagePullPolicy: pullPolicy,
    args: [
      `--csi-address=${CSI_SOCKET_DIR}/csi.sock`,
      '--probe-timeout=3s',
      `--http-endpoint=0.0.0.0:${DRIVER_HEALTHZ_PORT}`,
      '-v=2',
    ],
    volumeMounts: [{ name: 'plugin-dir', mountPath: CSI_SOCKET_DIR }],
    resources: resourcesJson(props.livenessProbeResources),
  };

  return nodeDaemonSet({
    name: DRIVER_DAEMONSET_NAME,
    namespace: props.namespace,
    appLabel: DRIVER_APP_LABEL,
    serviceAccountName: DRIVER_SERVICE_ACCOUNT_NAME,
    podAnnotations: { 'kubectl.kubernetes.io/default-container': 'secrets-store' },
    priorityClassName: props.priorityClassName,
    nodeSelector: props.nodeSelector,
    tolerations: props.tolerations,
    containers: [registrar, driver, livenessProbe],
    volumes: [
      hostPathVolume('mountpoint-dir', `${props.kubeletRootDir}/pods`, 'DirectoryOrCreate'),
      hostPathVolume('registration-dir', `${props.kubeletRootDir}/plugins_registry/`, 'Directory'),
      hostPathVolume('plugin-dir', `${pluginDir}/`, 'DirectoryOrCreate'),
      ...providerDirMounts.map(({ name, hostPath }) => hostPathVolume(name, hostPath, 'DirectoryOrCreate')),
    ],
  });
}
