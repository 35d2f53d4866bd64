import { parseDuration } from '../duration';
import { KubeObject } from '../kube-object';
import { ValidationError } from '../validation/validation-error';
import { azureSpcAdmissionPolicy, azureSpcAdmissionPolicyBinding } from './admission-policy';
import { secretProviderClassCrd, secretProviderClassPodStatusCrd } from './crds';
import { csiDriver } from './csi-driver';
import { driverDaemonSet } from './driver-daemonset';
import { InstallImagesProps, resolveInstallImages } from './images';
import {
  DEFAULT_INSTALL_NAMESPACE,
  DEFAULT_KUBELET_ROOT_DIR,
  DEFAULT_PROVIDERS_DIR,
  DRIVER_SERVICE_ACCOUNT_NAME,
  LEGACY_PROVIDERS_DIR,
  PROVIDER_SERVICE_ACCOUNT_NAME,
} from './names';
import { checkArray, checkBoolean, checkKnownKeys, checkString } from './option-checks';
import { providerDaemonSet } from './provider-daemonset';
import {
  aggregatedUserRoles,
  driverClusterRole,
  installNamespace,
  driverClusterRoleBinding,
  installServiceAccount,
  syncClusterRole,
  syncClusterRoleBinding,
} from './rbac';
import {
  checkAbsolutePath,
  checkDnsLabel,
  checkDnsSubdomain,
  checkLabelMap,
  checkResources,
  checkTolerations,
  ContainerResources,
  Toleration,
} from './scheduling';

// The whole self-hosted install (driver + Azure provider + CRDs + RBAC + admission policy) as an
// ordered list of plain objects. Both front ends (cdk8s SelfHostedInstall, the Pulumi component)
// take these options unchanged, so defaults and rules live here only.

/** Options of the self-hosted Secrets Store CSI Driver + Azure provider install. */
export interface SelfHostedInstallOptions {
  /**
   * Namespace of the DaemonSets and ServiceAccounts (upstream recommends kube-system).
   * @default 'kube-system'
   */
  readonly namespace?: string;
  /**
   * Render the Namespace too, labelled for Pod Security `privileged` (the driver must be privileged).
   * Ignored for kube-system, which always exists.
   * @default true
   */
  readonly createNamespace?: boolean;
  /**
   * Rotation: kubelet republishes volumes (CSIDriver requiresRepublish) and the driver refetches
   * from Key Vault at most once per `rotationPollInterval`. Upstream's chart default is false.
   * @default true
   */
  readonly enableSecretRotation?: boolean;
  /**
   * Minimum time between two Key Vault fetches for one volume (Go duration, e.g. "2m", "90s").
   * @default '2m'
   */
  readonly rotationPollInterval?: string;
  /**
   * Sync mounted objects into Kubernetes Secrets (`secretObjects`): installs the role that lets the
   * driver create/update Secrets. Upstream's chart default is false.
   * @default true
   */
  readonly syncSecrets?: boolean;
  /**
   * CSIDriver tokenRequests for `api://AzureADTokenExchange`, needed by workload identity.
   * @default true
   */
  readonly workloadIdentity?: boolean;
  /**
   * CSIDriver tokenRequests for `api://AKSIdentityBinding` (AKS identity binding, `useAzureTokenProxy`).
   * @default false
   */
  readonly identityBinding?: boolean;
  /**
   * CSIDriver `serviceAccountTokenInSecrets`: tokens travel in NodePublishVolume `secrets`, which
   * drivers never log, instead of the volume context (KEP-5538). Kubernetes >= 1.35 only: a 1.34
   * apiserver rejects the field under server-side apply.
   * @default false
   */
  readonly serviceAccountTokenInSecrets?: boolean;
  /**
   * Install the ValidatingAdmissionPolicy that rejects incomplete Azure SecretProviderClasses
   * (needs Kubernetes >= 1.30, the same floor as upstream's chart).
   * @default true
   */
  readonly admissionPolicy?: boolean;
  /**
   * Install the two CRDs. Turn off when another tool (e.g. the AKS add-on before a migration) owns them.
   * @default true
   */
  readonly installCrds?: boolean;
  /**
   * Container images.
   * @default this project's runtime image for driver and provider; upstream sig-storage sidecars
   */
  readonly images?: InstallImagesProps;
  /** @default requests 50m/100Mi, limits 200m/200Mi (upstream chart) */
  readonly driverResources?: ContainerResources;
  /** @default requests 10m/20Mi, limits 100m/100Mi (upstream chart) */
  readonly registrarResources?: ContainerResources;
  /** @default requests 10m/20Mi, limits 100m/100Mi (upstream chart) */
  readonly livenessProbeResources?: ContainerResources;
  /**
   * @default our image: requests 50m/128Mi, limits 200m/256Mi (a Node process measured at ~104 MB RSS
   * after 1,000 Mounts); upstream image: requests = limits 50m/100Mi (upstream Azure provider chart)
   */
  readonly providerResources?: ContainerResources;
  /**
   * Tolerations of both DaemonSets. The default tolerates every taint, so every node can mount secrets.
   * @default [{ operator: 'Exists' }]
   */
  readonly tolerations?: Toleration[];
  /**
   * Extra node selector of both DaemonSets; `kubernetes.io/os: linux` is always added.
   * @default {}
   */
  readonly nodeSelector?: Record<string, string>;
  /**
   * PriorityClass of both DaemonSets, so they are not evicted before the pods that need them.
   * @default 'system-node-critical'
   */
  readonly priorityClassName?: string;
  /**
   * kubelet's root dir on the nodes (AKS: /var/lib/kubelet).
   * @default '/var/lib/kubelet'
   */
  readonly kubeletRootDir?: string;
  /**
   * Host dir for provider sockets: the provider creates azure.sock here, the driver looks here first.
   * @default '/var/run/secrets-store-csi-providers'
   */
  readonly providersDir?: string;
  /**
   * Further host dirs the driver searches for provider sockets (upstream's legacy location).
   * @default ['/etc/kubernetes/secrets-store-csi-providers']
   */
  readonly additionalProvidersDirs?: string[];
  /**
   * Log verbosity (`-v`) of driver and provider (0-10). Tokens and secret values are never logged.
   * @default no `-v` flag (the binaries' default, 0)
   */
  readonly logVerbosity?: number;
}

const DEFAULT_ROTATION_POLL_INTERVAL = '2m';
const UPSTREAM_SIDECAR_RESOURCES: ContainerResources = {
  requests: { cpu: '10m', memory: '20Mi' },
  limits: { cpu: '100m', memory: '100Mi' },
};
const DEFAULT_DRIVER_RESOURCES: ContainerResources = {
  requests: { cpu: '50m', memory: '100Mi' },
  limits: { cpu: '200m', memory: '200Mi' },
};
const UPSTREAM_PROVIDER_RESOURCES: ContainerResources = {
  requests: { cpu: '50m', memory: '100Mi' },
  limits: { cpu: '50m', memory: '100Mi' },
};
const RUNTIME_PROVIDER_RESOURCES: ContainerResources = {
  requests: { cpu: '50m', memory: '128Mi' },
  limits: { cpu: '200m', memory: '256Mi' },
};

/** Kinds this install renders that have no namespace; a front end must never give them one. */
const CLUSTER_SCOPED_KINDS = new Set([
  'CustomResourceDefinition',
  'CSIDriver',
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'Namespace',
  'PriorityClass',
  'StorageClass',
  'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);

/** True for the cluster-scoped kinds (CRDs, CSIDriver, ClusterRoles, admission policies, ...). */
export function isClusterScopedKind(kind: string): boolean {
  return CLUSTER_SCOPED_KINDS.has(kind);
}

// Typed as a record over the interface's keys, so adding an option without listing it fails to compile.
const OPTION_KEYS: Record<keyof SelfHostedInstallOptions, true> = {
  namespace: true,
  createNamespace: true,
  enableSecretRotation: true,
  rotationPollInterval: true,
  syncSecrets: true,
  workloadIdentity: true,
  identityBinding: true,
  serviceAccountTokenInSecrets: true,
  admissionPolicy: true,
  installCrds: true,
  images: true,
  driverResources: true,
  registrarResources: true,
  livenessProbeResources: true,
  providerResources: true,
  tolerations: true,
  nodeSelector: true,
  priorityClassName: true,
  kubeletRootDir: true,
  providersDir: true,
  additionalProvidersDirs: true,
  logVerbosity: true,
};
const BOOLEAN_OPTIONS = [
  'createNamespace',
  'enableSecretRotation',
  'syncSecrets',
  'workloadIdentity',
  'identityBinding',
  'serviceAccountTokenInSecrets',
  'admissionPolicy',
  'installCrds',
] as const;
const STRING_OPTIONS = {
  namespace: 'kube-system',
  rotationPollInterval: '2m',
  priorityClassName: 'system-node-critical',
  kubeletRootDir: '/var/lib/kubelet',
  providersDir: '/var/run/secrets-store-csi-providers',
} as const;

/** Validates the options and renders every object of the install, CRDs first. */
export function renderSelfHostedInstall(options: SelfHostedInstallOptions = {}): KubeObject[] {
  checkKnownKeys('', options, Object.keys(OPTION_KEYS));
  for (const key of BOOLEAN_OPTIONS) checkBoolean(key, options[key]);
  for (const [key, example] of Object.entries(STRING_OPTIONS)) {
    checkString(key, options[key as keyof typeof STRING_OPTIONS], example);
  }
  checkArray('additionalProvidersDirs', options.additionalProvidersDirs);
  options.additionalProvidersDirs?.forEach((dir, index) =>
    checkString(`additionalProvidersDirs[${index}]`, dir, '/etc/kubernetes/secrets-store-csi-providers'),
  );

  const namespace = options.namespace ?? DEFAULT_INSTALL_NAMESPACE;
  checkDnsLabel('namespace', namespace);

  const enableSecretRotation = options.enableSecretRotation ?? true;
  const rotationPollInterval = (options.rotationPollInterval ?? DEFAULT_ROTATION_POLL_INTERVAL).trim();
  if (parseDuration(rotationPollInterval, 'rotationPollInterval') <= 0) {
    throw new ValidationError(
      'rotationPollInterval',
      `"${rotationPollInterval}" must be longer than zero; the driver would call Key Vault on every kubelet republish. Use e.g. "2m"`,
    );
  }

  const images = resolveInstallImages(options.images);
  const driverResources = options.driverResources ?? DEFAULT_DRIVER_RESOURCES;
  const registrarResources = options.registrarResources ?? UPSTREAM_SIDECAR_RESOURCES;
  const livenessProbeResources = options.livenessProbeResources ?? UPSTREAM_SIDECAR_RESOURCES;
  const providerResources =
    options.providerResources ??
    (images.runtimeImage ? RUNTIME_PROVIDER_RESOURCES : UPSTREAM_PROVIDER_RESOURCES);
  checkResources('driverResources', driverResources);
  checkResources('registrarResources', registrarResources);
  checkResources('livenessProbeResources', livenessProbeResources);
  checkResources('providerResources', providerResources);

  const tolerations = options.tolerations ?? [{ operator: 'Exists' }];
  checkTolerations('tolerations', tolerations);
  const nodeSelector = options.nodeSelector ?? {};
  checkLabelMap('nodeSelector', nodeSelector);
  if (nodeSelector['kubernetes.io/os'] !== undefined && nodeSelector['kubernetes.io/os'] !== 'linux') {
    throw new ValidationError(
      'nodeSelector["kubernetes.io/os"]',
      `"${nodeSelector['kubernetes.io/os']}" is not supported: the self-hosted install runs on Linux nodes only; remove this key`,
    );
  }
  const priorityClassName = options.priorityClassName ?? 'system-node-critical';
  checkDnsSubdomain('priorityClassName', priorityClassName);

  const kubeletRootDir = stripTrailingSlash(options.kubeletRootDir ?? DEFAULT_KUBELET_ROOT_DIR);
  checkAbsolutePath('kubeletRootDir', kubeletRootDir);
  const providersDir = stripTrailingSlash(options.providersDir ?? DEFAULT_PROVIDERS_DIR);
  checkAbsolutePath('providersDir', providersDir);
  const additionalProvidersDirs = (options.additionalProvidersDirs ?? [LEGACY_PROVIDERS_DIR]).map(
    stripTrailingSlash,
  );
  additionalProvidersDirs.forEach((dir, index) => {
    checkAbsolutePath(`additionalProvidersDirs[${index}]`, dir);
    if (dir === providersDir) {
      throw new ValidationError(
        `additionalProvidersDirs[${index}]`,
        `"${dir}" is already providersDir; list only other directories`,
      );
    }
  });

  const logVerbosity = options.logVerbosity;
  if (
    logVerbosity !== undefined &&
    (!Number.isInteger(logVerbosity) || logVerbosity < 0 || logVerbosity > 10)
  ) {
    throw new ValidationError('logVerbosity', `${logVerbosity} must be a whole number from 0 to 10`);
  }

  const workloadIdentity = options.workloadIdentity ?? true;
  const identityBinding = options.identityBinding ?? false;
  if (options.serviceAccountTokenInSecrets && !workloadIdentity && !identityBinding) {
    throw new ValidationError(
      'serviceAccountTokenInSecrets',
      'has no effect without token requests: set workloadIdentity or identityBinding to true, or drop this option',
    );
  }

  const driverSa = { name: DRIVER_SERVICE_ACCOUNT_NAME, namespace };
  const providerSa = { name: PROVIDER_SERVICE_ACCOUNT_NAME, namespace };
  const syncSecrets = options.syncSecrets ?? true;

  return [
    ...((options.installCrds ?? true) ? [secretProviderClassCrd(), secretProviderClassPodStatusCrd()] : []),
    ...((options.createNamespace ?? true) && namespace !== DEFAULT_INSTALL_NAMESPACE
      ? [installNamespace(namespace)]
      : []),
    csiDriver({
      enableSecretRotation,
      workloadIdentity,
      identityBinding,
      serviceAccountTokenInSecrets: options.serviceAccountTokenInSecrets ?? false,
    }),
    installServiceAccount(driverSa),
    installServiceAccount(providerSa),
    driverClusterRole(),
    driverClusterRoleBinding(driverSa),
    ...(syncSecrets ? [syncClusterRole(), syncClusterRoleBinding(driverSa)] : []),
    ...aggregatedUserRoles(),
    ...((options.admissionPolicy ?? true)
      ? [azureSpcAdmissionPolicy(), azureSpcAdmissionPolicyBinding()]
      : []),
    driverDaemonSet({
      namespace,
      images,
      enableSecretRotation,
      rotationPollInterval,
      kubeletRootDir,
      providersDir,
      additionalProvidersDirs,
      driverResources,
      registrarResources,
      livenessProbeResources,
      tolerations,
      nodeSelector,
      priorityClassName,
      logVerbosity,
    }),
    providerDaemonSet({
      namespace,
      images,
      providersDir,
      providerResources,
      tolerations,
      nodeSelector,
      priorityClassName,
      logVerbosity,
    }),
  ];
}

function stripTrailingSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}
