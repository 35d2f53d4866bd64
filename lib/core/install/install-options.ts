import { parseDuration } from '../duration';
import { validateOutageMaxStaleness } from '../last-known-content';
import {
  optionalArray,
  optionalBoolean,
  optionalString,
  rejectUnknownKeys,
} from '../validation/input-guards';
import { validateDns1123Label, validateDns1123Subdomain, validateLabels } from '../validation/kube-names';
import { ValidationError, ValidationErrors } from '../validation/validation-error';
import {
  stripTrailingBackslash,
  stripTrailingSlash,
  validateHostPath,
  validateWindowsHostPath,
} from './host-paths';
import { InstallImagesProps, ResolvedInstallImages, resolveInstallImages } from './images';
import {
  DEFAULT_INSTALL_NAMESPACE,
  DEFAULT_KUBELET_ROOT_DIR,
  DEFAULT_PROVIDERS_DIR,
  DEFAULT_WINDOWS_KUBELET_ROOT_DIR,
  DEFAULT_WINDOWS_PROVIDERS_DIR,
  LEGACY_PROVIDERS_DIR,
} from './names';
import { ContainerResources, Toleration, validateResources, validateTolerations } from './scheduling';

// The options of the self-hosted install and their resolution: every check and every default in
// one pass, before anything is rendered, with all problems reported together. Both front ends
// (cdk8s SelfHostedInstall, the Pulumi component) take these options unchanged, so defaults and
// rules live here only; the renderers take the resolved options and decide nothing.

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
  /** @default requests = limits 50m/100Mi (upstream Azure provider chart), for our image and upstream's */
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
  /**
   * Also run driver and Azure provider on Windows nodes (`kubernetes.io/os: windows`): upstream's
   * Windows DaemonSets as its charts render them, with the upstream images, since this project's
   * runtime is Linux-only. The Linux DaemonSets keep their Linux node selector.
   * @default false
   */
  readonly windowsNodes?: boolean;
  /**
   * kubelet's root dir on the Windows nodes. Only with `windowsNodes`.
   * @default 'C:\\var\\lib\\kubelet'
   */
  readonly windowsKubeletRootDir?: string;
  /**
   * Host dir for provider sockets on the Windows nodes. Only with `windowsNodes`.
   * @default 'C:\\k\\secrets-store-csi-providers'
   */
  readonly windowsProvidersDir?: string;
  /**
   * Extra node selector of the Windows DaemonSets; `kubernetes.io/os: windows` is always added. Only
   * with `windowsNodes`.
   * @default {}
   */
  readonly windowsNodeSelector?: Record<string, string>;
  /**
   * Maximum age of the last known content our provider may mount for a new pod while Key Vault is
   * unavailable, for SecretProviderClasses that set `serveLastKnownContentOnOutage` (Go duration,
   * e.g. "1h"; at most "168h"). The content stays in the provider's memory only: a provider restart
   * forgets it. Our provider image only (the upstream provider has no such flag). Keep rotation on, so
   * a pod given last known content gets fresh content once the vault answers.
   * @default - off: pods wait for Key Vault, as upstream
   */
  readonly outageMaxStaleness?: string;
}

/** The Windows half of an install, after defaults. */
export interface ResolvedWindowsOptions {
  readonly kubeletRootDir: string;
  readonly providersDir: string;
  readonly nodeSelector: Readonly<Record<string, string>>;
}

const DEFAULT_ROTATION_POLL_INTERVAL = '2m';
const DEFAULT_PRIORITY_CLASS_NAME = 'system-node-critical';
const DEFAULT_TOLERATIONS: readonly Toleration[] = [{ operator: 'Exists' }];
const UPSTREAM_SIDECAR_RESOURCES: ContainerResources = {
  requests: { cpu: '10m', memory: '20Mi' },
  limits: { cpu: '100m', memory: '100Mi' },
};
const DEFAULT_DRIVER_RESOURCES: ContainerResources = {
  requests: { cpu: '50m', memory: '100Mi' },
  limits: { cpu: '200m', memory: '200Mi' },
};
/**
 * The upstream chart's provider resources, for both images: our provider, with PROVIDER_NODE_OPTIONS,
 * peaked at ~106 MiB RSS (VmHWM) of which ~52 MiB anonymous in bench/provider's 1,000 Mounts over
 * 8 identities × 4 vaults and its churn over 200 identities × 10 vaults; the rest is the Node binary's
 * file-backed pages, which the kernel reclaims under the limit before it kills (docs/compatibility I7).
 */
const PROVIDER_RESOURCES: ContainerResources = {
  requests: { cpu: '50m', memory: '100Mi' },
  limits: { cpu: '50m', memory: '100Mi' },
};

/** The install options after every check and default: what the renderers take. */
export interface ResolvedInstallOptions {
  readonly namespace: string;
  /** True when the Namespace object is rendered (never for kube-system). */
  readonly createNamespace: boolean;
  readonly enableSecretRotation: boolean;
  readonly rotationPollInterval: string;
  readonly syncSecrets: boolean;
  readonly workloadIdentity: boolean;
  readonly identityBinding: boolean;
  readonly serviceAccountTokenInSecrets: boolean;
  readonly admissionPolicy: boolean;
  readonly installCrds: boolean;
  readonly images: ResolvedInstallImages;
  readonly driverResources: ContainerResources;
  readonly registrarResources: ContainerResources;
  readonly livenessProbeResources: ContainerResources;
  readonly providerResources: ContainerResources;
  readonly tolerations: readonly Toleration[];
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly priorityClassName: string;
  readonly kubeletRootDir: string;
  readonly providersDir: string;
  readonly additionalProvidersDirs: readonly string[];
  /** `-v` for driver and provider; undefined passes no flag (the binaries' default, 0). */
  readonly logVerbosity?: number;
  /** The Windows DaemonSets' options; undefined when `windowsNodes` is off. */
  readonly windows?: ResolvedWindowsOptions;
  /** `--outage-max-staleness` of our provider (trimmed Go duration); undefined: off, no flag. */
  readonly outageMaxStaleness?: string;
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
  windowsNodes: true,
  windowsKubeletRootDir: true,
  windowsProvidersDir: true,
  windowsNodeSelector: true,
  outageMaxStaleness: true,
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
  'windowsNodes',
] as const;
const STRING_OPTIONS = {
  namespace: '"kube-system"',
  rotationPollInterval: '"2m"',
  priorityClassName: '"system-node-critical"',
  kubeletRootDir: '"/var/lib/kubelet"',
  providersDir: '"/var/run/secrets-store-csi-providers"',
  windowsKubeletRootDir: '"C:\\\\var\\\\lib\\\\kubelet"',
  windowsProvidersDir: '"C:\\\\k\\\\secrets-store-csi-providers"',
  outageMaxStaleness: '"1h"',
} as const;

/**
 * Checks every option and applies every default. Independent problems are collected and thrown
 * together as one ValidationError (its `problems` list them one by one).
 */
export function resolveInstallOptions(options: SelfHostedInstallOptions = {}): ResolvedInstallOptions {
  const errors = new ValidationErrors();
  errors.check(() => rejectUnknownKeys(options, '', Object.keys(OPTION_KEYS)));
  for (const key of BOOLEAN_OPTIONS) errors.check(() => optionalBoolean(options[key], key));
  for (const [key, example] of Object.entries(STRING_OPTIONS)) {
    errors.check(() => optionalString(options[key as keyof typeof STRING_OPTIONS], key, example));
  }
  // A value of the wrong type cannot be checked any further; report what we have.
  errors.throwIfAny();

  const namespace = options.namespace ?? DEFAULT_INSTALL_NAMESPACE;
  errors.check(() => validateDns1123Label(namespace, 'namespace', 'namespace name'));

  const enableSecretRotation = options.enableSecretRotation ?? true;
  const rotationPollInterval = (options.rotationPollInterval ?? DEFAULT_ROTATION_POLL_INTERVAL).trim();
  errors.check(() => validateRotationPollInterval(rotationPollInterval));

  const images = errors.check(() => resolveInstallImages(options.images));
  const driverResources = options.driverResources ?? DEFAULT_DRIVER_RESOURCES;
  const registrarResources = options.registrarResources ?? UPSTREAM_SIDECAR_RESOURCES;
  const livenessProbeResources = options.livenessProbeResources ?? UPSTREAM_SIDECAR_RESOURCES;
  const providerResources = options.providerResources ?? PROVIDER_RESOURCES;
  errors.check(() => validateResources(driverResources, 'driverResources'));
  errors.check(() => validateResources(registrarResources, 'registrarResources'));
  errors.check(() => validateResources(livenessProbeResources, 'livenessProbeResources'));
  errors.check(() => validateResources(providerResources, 'providerResources'));

  const tolerations = options.tolerations ?? DEFAULT_TOLERATIONS;
  errors.check(() => validateTolerations(tolerations, 'tolerations'));
  const nodeSelector = options.nodeSelector ?? {};
  errors.check(() => validateNodeSelector(nodeSelector));
  const priorityClassName = options.priorityClassName ?? DEFAULT_PRIORITY_CLASS_NAME;
  errors.check(() => validateDns1123Subdomain(priorityClassName, 'priorityClassName', 'PriorityClass name'));

  const kubeletRootDir = stripTrailingSlash(options.kubeletRootDir ?? DEFAULT_KUBELET_ROOT_DIR);
  errors.check(() => validateHostPath(kubeletRootDir, 'kubeletRootDir'));
  const providersDir = stripTrailingSlash(options.providersDir ?? DEFAULT_PROVIDERS_DIR);
  errors.check(() => validateHostPath(providersDir, 'providersDir'));
  const additionalProvidersDirs =
    errors.check(() => resolveAdditionalProvidersDirs(options.additionalProvidersDirs, providersDir)) ?? [];

  const logVerbosity = options.logVerbosity;
  errors.check(() => validateLogVerbosity(logVerbosity));

  const outageMaxStaleness = options.outageMaxStaleness?.trim();
  if (outageMaxStaleness !== undefined) {
    errors.check(() => validateOutageMaxStaleness(outageMaxStaleness, 'outageMaxStaleness'));
    if (images?.runtimeImage === false)
      errors.add(
        'outageMaxStaleness',
        "needs this project's provider image: the upstream provider has no --outage-max-staleness flag and would not start; drop the option or use the runtime provider image",
      );
  }

  const workloadIdentity = options.workloadIdentity ?? true;
  const identityBinding = options.identityBinding ?? false;
  const serviceAccountTokenInSecrets = options.serviceAccountTokenInSecrets ?? false;
  if (serviceAccountTokenInSecrets && !workloadIdentity && !identityBinding) {
    errors.add(
      'serviceAccountTokenInSecrets',
      'has no effect without token requests: set workloadIdentity or identityBinding to true, or drop this option',
    );
  }
  const windows = errors.check(() => resolveWindowsOptions(options));
  errors.throwIfAny();

  return {
    namespace,
    createNamespace: (options.createNamespace ?? true) && namespace !== DEFAULT_INSTALL_NAMESPACE,
    enableSecretRotation,
    rotationPollInterval,
    syncSecrets: options.syncSecrets ?? true,
    workloadIdentity,
    identityBinding,
    serviceAccountTokenInSecrets,
    admissionPolicy: options.admissionPolicy ?? true,
    installCrds: options.installCrds ?? true,
    images: images!,
    driverResources,
    registrarResources,
    livenessProbeResources,
    providerResources,
    tolerations,
    nodeSelector,
    priorityClassName,
    kubeletRootDir,
    providersDir,
    additionalProvidersDirs,
    ...(logVerbosity !== undefined ? { logVerbosity } : {}),
    ...(windows !== undefined ? { windows } : {}),
    ...(outageMaxStaleness !== undefined ? { outageMaxStaleness } : {}),
  };
}

/** The Windows options, or undefined without `windowsNodes`; refuses them without it. */
function resolveWindowsOptions(options: SelfHostedInstallOptions): ResolvedWindowsOptions | undefined {
  const errors = new ValidationErrors();
  if (!options.windowsNodes) {
    for (const key of ['windowsKubeletRootDir', 'windowsProvidersDir', 'windowsNodeSelector'] as const) {
      if (options[key] !== undefined) {
        errors.add(
          key,
          'has no effect without Windows DaemonSets; set windowsNodes: true, or drop this option',
        );
      }
    }
    errors.throwIfAny();
    return undefined;
  }
  const kubeletRootDir = stripTrailingBackslash(
    options.windowsKubeletRootDir ?? DEFAULT_WINDOWS_KUBELET_ROOT_DIR,
  );
  errors.check(() => validateWindowsHostPath(kubeletRootDir, 'windowsKubeletRootDir'));
  const providersDir = stripTrailingBackslash(options.windowsProvidersDir ?? DEFAULT_WINDOWS_PROVIDERS_DIR);
  errors.check(() => validateWindowsHostPath(providersDir, 'windowsProvidersDir'));
  const nodeSelector = options.windowsNodeSelector ?? {};
  errors.check(() => validateLabels(nodeSelector, 'windowsNodeSelector'));
  const os = nodeSelector['kubernetes.io/os'];
  if (os !== undefined && os !== 'windows') {
    errors.add(
      'windowsNodeSelector["kubernetes.io/os"]',
      `"${os}" would schedule the Windows DaemonSets on no Windows node; remove this key (it is always "windows")`,
    );
  }
  errors.throwIfAny();
  return { kubeletRootDir, providersDir, nodeSelector };
}

function validateRotationPollInterval(interval: string): void {
  if (parseDuration(interval, 'rotationPollInterval') <= 0) {
    throw new ValidationError(
      'rotationPollInterval',
      `"${interval}" must be longer than zero; the driver would call Key Vault on every kubelet republish. Use e.g. "2m"`,
    );
  }
}

/** Label rules, plus the one key the install sets itself: it runs on Linux nodes only. */
function validateNodeSelector(nodeSelector: Readonly<Record<string, string>>): void {
  validateLabels(nodeSelector, 'nodeSelector');
  const os = nodeSelector['kubernetes.io/os'];
  if (os !== undefined && os !== 'linux') {
    throw new ValidationError(
      'nodeSelector["kubernetes.io/os"]',
      `"${os}" is not supported: the self-hosted install runs on Linux nodes only; remove this key (for Windows nodes set windowsNodes: true, which adds upstream's Windows DaemonSets)`,
    );
  }
}

function resolveAdditionalProvidersDirs(dirs: readonly string[] | undefined, providersDir: string): string[] {
  optionalArray(dirs, 'additionalProvidersDirs', '["/etc/kubernetes/secrets-store-csi-providers"]');
  const errors = new ValidationErrors();
  const resolved = (dirs ?? [LEGACY_PROVIDERS_DIR]).map((dir, index) => {
    const field = `additionalProvidersDirs[${index}]`;
    errors.check(() => optionalString(dir, field, '"/etc/kubernetes/secrets-store-csi-providers"'));
    if (typeof dir !== 'string') return dir;
    const path = stripTrailingSlash(dir);
    errors.check(() => validateHostPath(path, field));
    if (path === providersDir) {
      errors.add(field, `"${path}" is already providersDir; list only other directories`);
    }
    return path;
  });
  errors.throwIfAny();
  return resolved;
}

function validateLogVerbosity(level: number | undefined): void {
  if (level !== undefined && (!Number.isInteger(level) || level < 0 || level > 10)) {
    throw new ValidationError('logVerbosity', `${level} must be a whole number from 0 to 10`);
  }
}
