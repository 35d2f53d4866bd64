import { KubeObject } from '../kube-object';
import { ResolvedInstallOptions, ResolvedWindowsOptions } from './install-options';
import {
  PROVIDER_APP_LABEL,
  PROVIDER_HEALTHZ_PORT,
  PROVIDER_METRICS_PORT,
  PROVIDER_SERVICE_ACCOUNT_NAME,
  WINDOWS_PROVIDER_DAEMONSET_NAME,
} from './names';
import { hostPathVolume, nodeDaemonSet } from './node-daemonset';
import { ContainerResources, resourcesJson } from './scheduling';

// The Azure provider on Windows nodes, as the Azure provider's chart 1.8.2 renders
// templates/provider-azure-installer-windows.yaml: the upstream image, no host network, the socket
// in C:\k\secrets-store-csi-providers (mounted at C:\provider), requests = limits 100m/200Mi. The
// endpoint keeps the chart's doubled backslashes (a plain YAML scalar there).

/** The chart's Windows provider resources. */
const WINDOWS_PROVIDER_RESOURCES: ContainerResources = {
  requests: { cpu: '100m', memory: '200Mi' },
  limits: { cpu: '100m', memory: '200Mi' },
};
const PROVIDER_ENDPOINT = 'unix://C:\\\\provider\\\\azure.sock';

/** The chart's args order: endpoint, -v, then the PEM chain and health flags. */
export function windowsProviderArgs(install: ResolvedInstallOptions): string[] {
  return [
    `--endpoint=${PROVIDER_ENDPOINT}`,
    ...(install.logVerbosity ? [`-v=${install.logVerbosity}`] : []),
    '--construct-pem-chain=true',
    `--healthz-port=${PROVIDER_HEALTHZ_PORT}`,
    '--healthz-path=/healthz',
    '--healthz-timeout=5s',
  ];
}

export function windowsProviderDaemonSet(
  install: ResolvedInstallOptions,
  windows: ResolvedWindowsOptions,
): KubeObject {
  const container = {
    name: 'provider-azure-installer',
    image: install.images.windowsProvider,
    imagePullPolicy: install.images.imagePullPolicy,
    args: windowsProviderArgs(install),
    livenessProbe: {
      httpGet: { path: '/healthz', port: PROVIDER_HEALTHZ_PORT },
      failureThreshold: 3,
      initialDelaySeconds: 5,
      timeoutSeconds: 10,
      periodSeconds: 30,
    },
    resources: resourcesJson(WINDOWS_PROVIDER_RESOURCES),
    ports: [{ containerPort: PROVIDER_METRICS_PORT, name: 'metrics', protocol: 'TCP' }],
    volumeMounts: [{ name: 'provider-vol', mountPath: 'C:\\provider' }],
  };

  return nodeDaemonSet({
    name: WINDOWS_PROVIDER_DAEMONSET_NAME,
    namespace: install.namespace,
    appLabel: PROVIDER_APP_LABEL,
    serviceAccountName: PROVIDER_SERVICE_ACCOUNT_NAME,
    priorityClassName: install.priorityClassName,
    operatingSystem: 'windows',
    nodeSelector: windows.nodeSelector,
    tolerations: install.tolerations,
    containers: [container],
    volumes: [hostPathVolume('provider-vol', windows.providersDir, 'DirectoryOrCreate')],
  });
}
