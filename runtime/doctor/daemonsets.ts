// Reading the driver and provider DaemonSets of any install (ours, upstream's manifests and chart, the
// AKS add-on) from their pod templates: which is which, the flags their containers run with, the host
// directories the provider socket goes through, and why a DaemonSet would not run on a node.
import { DEFAULT_PROVIDERS_DIR, LEGACY_PROVIDERS_DIR, SECRETS_STORE_CSI_DRIVER_NAME } from '../../lib/core';
import { GO_PARSEBOOL_TRUE } from '../../lib/core/install/admission-policy';
import type { KubeResourceObject } from '../driver/cluster/kube/kube-types';

/** The fields of `apps/v1` DaemonSet and `core/v1` Pod/Node the doctor reads. */
export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string }>;
  env?: Array<{
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name?: string; key?: string; optional?: boolean } };
  }>;
  envFrom?: Array<{ secretRef?: { name?: string; optional?: boolean } }>;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface PodSpec {
  nodeName?: string;
  serviceAccountName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: {
        nodeSelectorTerms?: Array<{ matchExpressions?: NodeSelectorRequirement[] }>;
      };
    };
  };
  containers?: Container[];
  initContainers?: Container[];
  volumes?: Array<{
    name: string;
    hostPath?: { path: string };
    secret?: { secretName?: string; optional?: boolean };
    csi?: {
      driver: string;
      readOnly?: boolean;
      volumeAttributes?: Record<string, string>;
      nodePublishSecretRef?: { name?: string };
    };
  }>;
}

export interface DaemonSet extends KubeResourceObject {
  spec?: {
    selector?: { matchLabels?: Record<string, string>; matchExpressions?: NodeSelectorRequirement[] };
    template?: { metadata?: { labels?: Record<string, string> }; spec?: PodSpec };
  };
  status?: {
    desiredNumberScheduled?: number;
    numberReady?: number;
    numberAvailable?: number;
    observedGeneration?: number;
  };
}

export interface Node extends KubeResourceObject {
  spec?: { taints?: Array<{ key: string; value?: string; effect: string }>; unschedulable?: boolean };
  status?: { conditions?: Array<{ type: string; status: string }> };
}

/** Names the AKS add-on gives its DaemonSets (kube-system). */
export const ADDON_DRIVER_DAEMONSET = 'aks-secrets-store-csi-driver';
export const ADDON_PROVIDER_DAEMONSET = 'aks-secrets-store-provider-azure';

/** Where a DaemonSet comes from, for the fixes the report suggests. */
export type InstallKind = 'aks-addon' | 'self-hosted' | 'upstream-chart' | 'manifests';

export const INSTALL_KIND_TITLES: Record<InstallKind, string> = {
  'aks-addon': 'AKS add-on azure-keyvault-secrets-provider',
  'self-hosted': 'SelfHostedInstall of this package',
  'upstream-chart': 'upstream Helm chart',
  manifests: 'upstream manifests',
};

export function installKindOf(ds: DaemonSet): InstallKind {
  const labels = ds.metadata.labels ?? {};
  if (
    [ADDON_DRIVER_DAEMONSET, ADDON_PROVIDER_DAEMONSET].includes(ds.metadata.name ?? '') ||
    labels['kubernetes.azure.com/managedby'] === 'aks'
  )
    return 'aks-addon';
  if (labels['app.kubernetes.io/part-of'] === 'aks-secrets-store') return 'self-hosted';
  if (labels['app.kubernetes.io/managed-by'] === 'Helm' || labels['helm.sh/chart']) return 'upstream-chart';
  return 'manifests';
}

/**
 * Go flag values of a container: `--name=value`, `-name=value`, `--name value` (value-taking flags
 * listed in `valued`), bare boolean `--name`. The last occurrence wins, as in Go's flag package.
 */
export function containerFlags(container: Container, valued: readonly string[]): Map<string, string> {
  const words = [...(container.command ?? []), ...(container.args ?? [])];
  const flags = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (!/^--?[A-Za-z]/.test(word)) continue;
    const body = word.replace(/^--?/, '');
    const eq = body.indexOf('=');
    if (eq >= 0) flags.set(body.slice(0, eq), body.slice(eq + 1));
    else if (valued.includes(body) && i + 1 < words.length && !words[i + 1].startsWith('-'))
      flags.set(body, words[++i]);
    else flags.set(body, 'true');
  }
  return flags;
}

const DRIVER_VALUED = [
  'endpoint',
  'nodeid',
  'drivername',
  'provider-volume',
  'additional-provider-volume-paths',
  'metrics-addr',
  'rotation-poll-interval',
  'max-call-recv-msg-size',
];
const PROVIDER_VALUED = ['endpoint', 'prometheus-port', 'metrics-port', 'healthz-port'];

/** What the driver container of a DaemonSet runs with. */
export interface DriverShape {
  readonly container: Container;
  readonly driverName: string;
  readonly rotation: boolean;
  /** Provider socket directories inside the container, in search order. */
  readonly providerDirs: readonly string[];
  /** The host directories behind them (a dir not on a hostPath volume is absent). */
  readonly hostProviderDirs: readonly string[];
  readonly metricsPort?: number;
  /** `vX.Y` from the image tag, when there is one. */
  readonly version?: { major: number; minor: number };
  /** Our runtime image (first argument `driver`). */
  readonly ours: boolean;
}

/** What the provider container of a DaemonSet runs with. */
export interface ProviderShape {
  readonly container: Container;
  /** Socket file name, e.g. `azure.sock`. */
  readonly socketName: string;
  /** Directory of the socket inside the container. */
  readonly socketDir: string;
  /** The host directory behind it, when it is on a hostPath volume. */
  readonly hostSocketDir?: string;
  readonly metricsPort?: number;
}

function isDriverContainer(c: Container): boolean {
  const flags = containerFlags(c, DRIVER_VALUED);
  return (
    flags.has('nodeid') &&
    (flags.has('provider-volume') || flags.has('endpoint') || /secrets-store/.test(c.image ?? ''))
  );
}

function isProviderContainer(c: Container): boolean {
  if (isDriverContainer(c)) return false;
  const endpoint = containerFlags(c, PROVIDER_VALUED).get('endpoint') ?? '';
  return (
    /\.sock$/.test(endpoint) ||
    /provider-azure|provider$/.test(c.name) ||
    /provider-azure/.test(c.image ?? '')
  );
}

function hostPathOf(spec: PodSpec, container: Container, dir: string): string | undefined {
  const clean = dir.replace(/\/+$/, '') || '/';
  for (const mount of container.volumeMounts ?? []) {
    const at = mount.mountPath.replace(/\/+$/, '') || '/';
    if (clean !== at && !clean.startsWith(`${at}/`)) continue;
    const volume = (spec.volumes ?? []).find((v) => v.name === mount.name);
    if (!volume?.hostPath) return undefined;
    const rest = clean.slice(at.length);
    const base = volume.hostPath.path.replace(/\/+$/, '');
    return `${base}${mount.subPath ? `/${mount.subPath}` : ''}${rest}` || '/';
  }
  return undefined;
}

function portOf(address: string | undefined, fallback: number): number | undefined {
  if (address === undefined) return fallback;
  const port = Number(/:(\d+)$/.exec(address)?.[1] ?? address);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

function imageVersion(image: string | undefined): { major: number; minor: number } | undefined {
  const tag = /:v?(\d+)\.(\d+)/.exec(image ?? '');
  return tag ? { major: Number(tag[1]), minor: Number(tag[2]) } : undefined;
}

export function driverShape(ds: DaemonSet): DriverShape | undefined {
  const spec = ds.spec?.template?.spec ?? {};
  const container = (spec.containers ?? []).find(isDriverContainer);
  if (!container) return undefined;
  const flags = containerFlags(container, DRIVER_VALUED);
  const providerDirs = [
    flags.get('provider-volume') ?? DEFAULT_PROVIDERS_DIR,
    ...(flags.get('additional-provider-volume-paths') ?? LEGACY_PROVIDERS_DIR)
      .split(',')
      .filter((d) => d !== ''),
  ];
  return {
    container,
    driverName: flags.get('drivername') ?? SECRETS_STORE_CSI_DRIVER_NAME,
    rotation: (GO_PARSEBOOL_TRUE as readonly string[]).includes(
      flags.get('enable-secret-rotation') ?? 'false',
    ),
    providerDirs,
    hostProviderDirs: providerDirs.flatMap((dir) => hostPathOf(spec, container, dir) ?? []),
    metricsPort: portOf(flags.get('metrics-addr'), 8095),
    version: imageVersion(container.image),
    ours: (container.args ?? container.command ?? [])[0] === 'driver',
  };
}

export function providerShape(ds: DaemonSet): ProviderShape | undefined {
  const spec = ds.spec?.template?.spec ?? {};
  const container = (spec.containers ?? []).find(isProviderContainer);
  if (!container) return undefined;
  const flags = containerFlags(container, PROVIDER_VALUED);
  const endpoint = (flags.get('endpoint') ?? 'unix:///tmp/azure.sock').replace(/^unix:\/\//, '');
  const slash = endpoint.lastIndexOf('/');
  const socketDir = slash > 0 ? endpoint.slice(0, slash) : '/';
  const prometheus = flags.get('prometheus-port') ?? flags.get('metrics-port');
  return {
    container,
    socketName: endpoint.slice(slash + 1),
    socketDir,
    hostSocketDir: hostPathOf(spec, container, socketDir),
    metricsPort: prometheus !== undefined ? portOf(prometheus, 8898) : 8898,
  };
}

/** The label selector of a DaemonSet as query text (`a=b,c in (d,e)`). */
export function selectorText(ds: DaemonSet): string {
  const selector = ds.spec?.selector ?? {};
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

function requirementHolds(labels: Record<string, string>, r: NodeSelectorRequirement): boolean {
  const value = labels[r.key];
  switch (r.operator) {
    case 'In':
      return value !== undefined && (r.values ?? []).includes(value);
    case 'NotIn':
      return value === undefined || !(r.values ?? []).includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(r.values?.[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(r.values?.[0]);
    default:
      return false;
  }
}

function tolerates(
  tolerations: readonly Toleration[],
  taint: { key: string; value?: string; effect: string },
): boolean {
  return tolerations.some(
    (t) =>
      (t.effect === undefined || t.effect === '' || t.effect === taint.effect) &&
      (t.operator === 'Exists'
        ? t.key === undefined || t.key === '' || t.key === taint.key
        : t.key === taint.key && (t.value ?? '') === (taint.value ?? '')),
  );
}

// The DaemonSet controller adds these tolerations to every DaemonSet pod.
const DAEMONSET_DEFAULT_TOLERATIONS: readonly Toleration[] = [
  'node.kubernetes.io/not-ready',
  'node.kubernetes.io/unreachable',
  'node.kubernetes.io/disk-pressure',
  'node.kubernetes.io/memory-pressure',
  'node.kubernetes.io/pid-pressure',
  'node.kubernetes.io/unschedulable',
  'node.kubernetes.io/network-unavailable',
].map((key) => ({ key, operator: 'Exists' }));

/** Why the DaemonSet would place no pod on `node`, or undefined when it would. */
export function whyNotOnNode(ds: DaemonSet, node: Node): string | undefined {
  const spec = ds.spec?.template?.spec ?? {};
  const labels = node.metadata.labels ?? {};
  const nodeName = node.metadata.name ?? '';
  const selector = Object.entries(spec.nodeSelector ?? {}).filter(([k, v]) => labels[k] !== v);
  if (selector.length > 0) {
    return `its nodeSelector ${selector.map(([k, v]) => `${k}=${v}`).join(', ')} does not match node ${nodeName} (${selector
      .map(([k]) => `${k}=${labels[k] ?? '<unset>'}`)
      .join(', ')})`;
  }
  const terms =
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (
    terms.length > 0 &&
    !terms.some((term) => (term.matchExpressions ?? []).every((r) => requirementHolds(labels, r)))
  ) {
    const failing = terms[0].matchExpressions?.find((r) => !requirementHolds(labels, r));
    return `its required node affinity excludes node ${nodeName}${failing ? ` (${failing.key} ${failing.operator} ${(failing.values ?? []).join(',')})` : ''}`;
  }
  const tolerations = [...(spec.tolerations ?? []), ...DAEMONSET_DEFAULT_TOLERATIONS];
  const taint = (node.spec?.taints ?? []).find(
    (t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(tolerations, t),
  );
  if (taint)
    return `node ${nodeName} has the taint ${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}, which it does not tolerate`;
  return undefined;
}
