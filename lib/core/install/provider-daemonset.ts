import { KubeObject } from '../kube-object';
import { OUTAGE_MAX_STALENESS_FLAG } from '../last-known-content';
import {
  PROVIDER_APP_LABEL,
  PROVIDER_DAEMONSET_NAME,
  PROVIDER_HEALTHZ_PORT,
  PROVIDER_METRICS_PORT,
  PROVIDER_SERVICE_ACCOUNT_NAME,
} from './names';
import { hostPathVolume, InstallDaemonSetProps, nodeDaemonSet } from './node-daemonset';
import { runtimeNodeCommand, RUNTIME_NODE_FLAGS } from './runtime-command';
import { RUNTIME_GLIBC_TUNABLES } from './runtime-malloc';
import { ContainerResources, resourcesJson } from './scheduling';

// The Azure provider DaemonSet, shaped like the Azure provider's deployment/provider-azure-installer.yaml:
// it serves v1alpha1.CSIDriverProvider on <providersDir>/azure.sock for the driver on the same node.
// Not privileged, read-only root, no capabilities; root (uid 0) only because the socket lives in a
// root-owned hostPath (upstream's stated reason). hostNetwork as upstream, so the node's IMDS and
// the pod-identity NMI on localhost are reachable exactly as with the upstream provider.

export interface ProviderDaemonSetProps extends InstallDaemonSetProps {
  readonly providersDir: string;
  readonly providerResources: ContainerResources;
  /** `--outage-max-staleness` (our provider only); undefined passes no flag (off). */
  readonly outageMaxStaleness?: string;
}

/** Where the providers dir is mounted inside the provider container. */
const PROVIDER_SOCKET_DIR = '/provider';
/** Socket name = SPC `provider` + ".sock": the driver looks for `<providersDir>/azure.sock`. */
export const PROVIDER_ENDPOINT = `unix://${PROVIDER_SOCKET_DIR}/azure.sock`;

/** Args of the provider container: the upstream provider's flag names, so both images read the same. */
export function providerArgs(props: ProviderDaemonSetProps): string[] {
  return [
    ...(props.images.runtimeImage ? ['provider'] : []),
    `--endpoint=${PROVIDER_ENDPOINT}`,
    '--construct-pem-chain=true',
    `--healthz-port=${PROVIDER_HEALTHZ_PORT}`,
    '--healthz-path=/healthz',
    '--healthz-timeout=5s',
    ...verbosityArgs(props),
    ...(props.images.runtimeImage && props.outageMaxStaleness !== undefined
      ? [`--${OUTAGE_MAX_STALENESS_FLAG}=${props.outageMaxStaleness}`]
      : []),
  ];
}

/**
 * The upstream provider takes klog's `-v=N`; our runtime provider logs by level instead, and klog's
 * convention is that V(5) and above is debug output.
 */
function verbosityArgs(props: ProviderDaemonSetProps): string[] {
  if (props.logVerbosity === undefined) return [];
  if (!props.images.runtimeImage) return [`-v=${props.logVerbosity}`];
  return [`--log-level=${props.logVerbosity >= 5 ? 'debug' : 'info'}`];
}

/**
 * V8 limits for our provider (Node) process: a 1 MiB young generation, and an old-generation cap, which
 * also makes V8 collect at a small multiple of the live heap instead of letting garbage grow it to
 * 50 MiB; with them the provider stays near 104 MiB RSS (heap ~28 MiB) after 1,000 Mounts over 8
 * identities × 4 vaults and flat over the churn, against 148 MiB (heap 53 MiB) with
 * `--max-semi-space-size=2` alone (bench/provider). Not set for the upstream (Go) image.
 */
export const PROVIDER_NODE_OPTIONS = '--max-semi-space-size=1 --max-old-space-size=64';

/**
 * Node flags on our provider's command line: only those of both our containers (RUNTIME_NODE_FLAGS).
 * Not `--max-opt=2` as on the driver: it cost the provider 17-23 % CPU under its 50m limit.
 */
export const PROVIDER_NODE_FLAGS: readonly string[] = [...RUNTIME_NODE_FLAGS];

/** glibc malloc arenas of our provider: 2 instead of 8 per core (bench/provider measured it with the V8 limits). */
export const PROVIDER_MALLOC_ARENA_MAX = '2';

export function providerDaemonSet(props: ProviderDaemonSetProps): KubeObject {
  const container = {
    name: 'provider-azure-installer',
    image: props.images.provider,
    imagePullPolicy: props.images.imagePullPolicy,
    ...(props.images.runtimeImage ? { command: runtimeNodeCommand(PROVIDER_NODE_FLAGS) } : {}),
    args: providerArgs(props),
    ...(props.images.runtimeImage
      ? {
          env: [
            { name: 'NODE_OPTIONS', value: PROVIDER_NODE_OPTIONS },
            { name: 'MALLOC_ARENA_MAX', value: PROVIDER_MALLOC_ARENA_MAX },
            { name: 'GLIBC_TUNABLES', value: RUNTIME_GLIBC_TUNABLES },
          ],
        }
      : {}),
    ports: [
      { name: 'healthz', containerPort: PROVIDER_HEALTHZ_PORT, protocol: 'TCP' },
      // The upstream provider's --prometheus-port default; metrics are served on all interfaces.
      { name: 'metrics', containerPort: PROVIDER_METRICS_PORT, protocol: 'TCP' },
    ],
    livenessProbe: {
      httpGet: { path: '/healthz', port: PROVIDER_HEALTHZ_PORT },
      initialDelaySeconds: 5,
      timeoutSeconds: 10,
      periodSeconds: 30,
      failureThreshold: 3,
    },
    securityContext: {
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsUser: 0,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [{ name: 'providervol', mountPath: PROVIDER_SOCKET_DIR }],
    resources: resourcesJson(props.providerResources),
  };

  return nodeDaemonSet({
    name: PROVIDER_DAEMONSET_NAME,
    namespace: props.namespace,
    appLabel: PROVIDER_APP_LABEL,
    serviceAccountName: PROVIDER_SERVICE_ACCOUNT_NAME,
    // The provider talks to no Kubernetes API: no service-account token in a host-network pod.
    hostSpec: {
      automountServiceAccountToken: false,
      hostNetwork: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
    },
    priorityClassName: props.priorityClassName,
    nodeSelector: props.nodeSelector,
    tolerations: props.tolerations,
    containers: [container],
    volumes: [hostPathVolume('providervol', props.providersDir, 'DirectoryOrCreate')],
  });
}
