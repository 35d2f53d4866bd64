import { KubeObject } from '../kube-object';
import { ResolvedInstallOptions, ResolvedWindowsOptions } from './install-options';
import {
  DRIVER_APP_LABEL,
  DRIVER_HEALTHZ_PORT,
  DRIVER_METRICS_PORT,
  DRIVER_SERVICE_ACCOUNT_NAME,
  WINDOWS_DRIVER_DAEMONSET_NAME,
} from './names';
import { hostPathVolume, nodeDaemonSet } from './node-daemonset';
import { ContainerResources, resourcesJson } from './scheduling';

// The CSI node plugin on Windows nodes, as upstream's secrets-store-csi-driver chart 1.6.0 renders
// templates/secrets-store-csi-driver-windows.yaml: the upstream driver image (our runtime is
// Linux-only), unprivileged (csi-proxy on the node does the mounts), Windows host paths. The strings
// are the chart's rendered values, backslashes included: a plain YAML scalar in the chart keeps `\\`
// (CSI_ENDPOINT), a double-quoted one turns it into `\` (--csi-address).

/** The chart's Windows container resources. */
const WINDOWS_DRIVER_RESOURCES: ContainerResources = {
  requests: { cpu: '100m', memory: '100Mi' },
  limits: { cpu: '400m', memory: '400Mi' },
};
const WINDOWS_SIDECAR_RESOURCES: ContainerResources = {
  requests: { cpu: '100m', memory: '100Mi' },
  limits: { cpu: '200m', memory: '200Mi' },
};

const CSI_SOCKET_DIR = 'C:\\csi';
const CSI_ADDRESS = 'unix://C:\\csi\\csi.sock';
const CSI_ENDPOINT_ENV = 'unix://C:\\\\csi\\\\csi.sock';
/** values.yaml defaults the chart always renders (the binary's own defaults too). */
const PROVIDER_HEALTH_CHECK_INTERVAL = '2m';
const MAX_CALL_RECV_MSG_SIZE = 4194304;

/**
 * Args of the Windows `secrets-store` container in the chart's order: the upstream binary always runs
 * there, so no `driver` subcommand; `--enable-secret-rotation` only when on (the chart's `if`).
 */
export function windowsDriverArgs(
  install: ResolvedInstallOptions,
  windows: ResolvedWindowsOptions,
): string[] {
  return [
    ...(install.logVerbosity ? [`-v=${install.logVerbosity}`] : []),
    '--endpoint=$(CSI_ENDPOINT)',
    '--nodeid=$(KUBE_NODE_NAME)',
    `--provider-volume=${windows.providersDir}`,
    '--additional-provider-volume-paths=',
    ...(install.enableSecretRotation ? ['--enable-secret-rotation=true'] : []),
    `--rotation-poll-interval=${install.rotationPollInterval}`,
    `--metrics-addr=:${DRIVER_METRICS_PORT}`,
    `--provider-health-check-interval=${PROVIDER_HEALTH_CHECK_INTERVAL}`,
    `--max-call-recv-msg-size=${MAX_CALL_RECV_MSG_SIZE}`,
  ];
}

export function windowsDriverDaemonSet(
  install: ResolvedInstallOptions,
  windows: ResolvedWindowsOptions,
): KubeObject {
  const kubelet = windows.kubeletRootDir;
  const pluginDir = `${kubelet}\\plugins\\csi-secrets-store`;
  const pullPolicy = install.images.imagePullPolicy;

  const registrar = {
    name: 'node-driver-registrar',
    image: install.images.nodeDriverRegistrar,
    args: ['--v=5', `--csi-address=${CSI_ADDRESS}`, `--kubelet-registration-path=${pluginDir}\\csi.sock`],
    imagePullPolicy: pullPolicy,
    volumeMounts: [
      { name: 'plugin-dir', mountPath: CSI_SOCKET_DIR },
      { name: 'registration-dir', mountPath: 'C:\\registration' },
    ],
    resources: resourcesJson(WINDOWS_SIDECAR_RESOURCES),
  };

  const driver = {
    name: 'secrets-store',
    image: install.images.windowsDriver,
    args: windowsDriverArgs(install, windows),
    env: [
      { name: 'CSI_ENDPOINT', value: CSI_ENDPOINT_ENV },
      { name: 'KUBE_NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
    ],
    imagePullPolicy: pullPolicy,
    ports: [
      { containerPort: DRIVER_HEALTHZ_PORT, name: 'healthz', protocol: 'TCP' },
      { containerPort: DRIVER_METRICS_PORT, name: 'metrics', protocol: 'TCP' },
    ],
    livenessProbe: {
      failureThreshold: 5,
      httpGet: { path: '/healthz', port: 'healthz' },
      initialDelaySeconds: 30,
      timeoutSeconds: 10,
      periodSeconds: 15,
    },
    volumeMounts: [
      { name: 'plugin-dir', mountPath: CSI_SOCKET_DIR },
      { name: 'mountpoint-dir', mountPath: `${kubelet}\\pods` },
      { name: 'providers-dir', mountPath: windows.providersDir },
    ],
    resources: resourcesJson(WINDOWS_DRIVER_RESOURCES),
  };

  const livenessProbe = {
    name: 'liveness-probe',
    image: install.images.livenessProbe,
    imagePullPolicy: pullPolicy,
    args: [
      `--csi-address=${CSI_ADDRESS}`,
      '--probe-timeout=3s',
      `--http-endpoint=0.0.0.0:${DRIVER_HEALTHZ_PORT}`,
      '-v=2',
    ],
    volumeMounts: [{ name: 'plugin-dir', mountPath: CSI_SOCKET_DIR }],
    resources: resourcesJson(WINDOWS_SIDECAR_RESOURCES),
  };

  return nodeDaemonSet({
    name: WINDOWS_DRIVER_DAEMONSET_NAME,
    namespace: install.namespace,
    appLabel: DRIVER_APP_LABEL,
    serviceAccountName: DRIVER_SERVICE_ACCOUNT_NAME,
    podAnnotations: { 'kubectl.kubernetes.io/default-container': 'secrets-store' },
    priorityClassName: install.priorityClassName,
    operatingSystem: 'windows',
    nodeSelector: windows.nodeSelector,
    tolerations: install.tolerations,
    containers: [registrar, driver, livenessProbe],
    volumes: [
      hostPathVolume('mountpoint-dir', `${kubelet}\\pods\\`, 'DirectoryOrCreate'),
      hostPathVolume('registration-dir', `${kubelet}\\plugins_registry\\`, 'Directory'),
      hostPathVolume('plugin-dir', `${pluginDir}\\`, 'DirectoryOrCreate'),
      hostPathVolume('providers-dir', windows.providersDir, 'DirectoryOrCreate'),
    ],
  });
}
