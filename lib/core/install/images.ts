import { PACKAGE_VERSION } from '../package-version';
import { optionalBoolean, optionalString, rejectUnknownKeys } from '../validation/input-guards';
import { ValidationError, ValidationErrors } from '../validation/validation-error';

// Which container images the self-hosted install runs. By default our own runtime image (one image,
// two subcommands) for the driver and the provider; with `useUpstreamImages` the pinned upstream
// binaries. The kubelet-facing sidecars are always the upstream sig-storage images.

/** Registry path of this project's runtime image; the tag is the package version. */
export const RUNTIME_IMAGE_REPOSITORY = 'ghcr.io/aks-secrets-store/runtime';
/** Upstream images as pinned by secrets-store-csi-driver chart 1.6.0 and Azure provider 1.8.2. */
export const UPSTREAM_DRIVER_IMAGE = 'registry.k8s.io/csi-secrets-store/driver:v1.6.0';
export const UPSTREAM_PROVIDER_IMAGE = 'mcr.microsoft.com/oss/v2/azure/secrets-store/provider-azure:v1.8.2';
export const NODE_DRIVER_REGISTRAR_IMAGE = 'registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.16.0';
export const LIVENESS_PROBE_IMAGE = 'registry.k8s.io/sig-storage/livenessprobe:v2.18.0';

/** Image choice for the self-hosted install. */
export interface InstallImagesProps {
  /**
   * Run the upstream driver and Azure provider binaries instead of this project's runtime image.
   * The containers then get the upstream binaries' own args (no `driver`/`provider` subcommand).
   * @default false
   */
  readonly useUpstreamImages?: boolean;
  /**
   * Driver container image. Overrides the default chosen by `useUpstreamImages`.
   * @default `ghcr.io/aks-secrets-store/runtime:<package version>`, or UPSTREAM_DRIVER_IMAGE
   */
  readonly driverImage?: string;
  /**
   * Azure provider container image. Overrides the default chosen by `useUpstreamImages`.
   * @default `ghcr.io/aks-secrets-store/runtime:<package version>`, or UPSTREAM_PROVIDER_IMAGE
   */
  readonly providerImage?: string;
  /**
   * node-driver-registrar sidecar image (registers the driver socket with kubelet).
   * @default NODE_DRIVER_REGISTRAR_IMAGE
   */
  readonly nodeDriverRegistrarImage?: string;
  /**
   * livenessprobe sidecar image (serves the driver's /healthz on :9808 by calling CSI Probe).
   * @default LIVENESS_PROBE_IMAGE
   */
  readonly livenessProbeImage?: string;
  /**
   * Driver image of the Windows DaemonSet (`windowsNodes`); our runtime image is Linux-only.
   * @default UPSTREAM_DRIVER_IMAGE (a multi-platform image with Windows variants)
   */
  readonly windowsDriverImage?: string;
  /**
   * Azure provider image of the Windows DaemonSet (`windowsNodes`).
   * @default UPSTREAM_PROVIDER_IMAGE (a multi-platform image with Windows variants)
   */
  readonly windowsProviderImage?: string;
  /**
   * imagePullPolicy of every container.
   * @default 'IfNotPresent'
   */
  readonly imagePullPolicy?: string;
}

/** The images after defaults, plus which binary flavor the driver/provider containers run. */
export interface ResolvedInstallImages {
  /** True when the driver/provider containers run this project's runtime (args start with a subcommand). */
  readonly runtimeImage: boolean;
  readonly driver: string;
  readonly provider: string;
  readonly nodeDriverRegistrar: string;
  readonly livenessProbe: string;
  readonly windowsDriver: string;
  readonly windowsProvider: string;
  readonly imagePullPolicy: string;
}

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
// A pragmatic image reference check: [registry/]path[:tag][@digest], no spaces, lower-case path.
const IMAGE_REFERENCE =
  /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** `ghcr.io/aks-secrets-store/runtime:<package version>`. */
export function defaultRuntimeImage(): string {
  return `${RUNTIME_IMAGE_REPOSITORY}:${PACKAGE_VERSION}`;
}

function validateImage(image: string | undefined, field: string): void {
  if (image === undefined) return;
  optionalString(image, field, `"${UPSTREAM_DRIVER_IMAGE}"`);
  if (!IMAGE_REFERENCE.test(image)) {
    throw new ValidationError(
      field,
      `"${image}" is not a container image reference; write it as registry/repository:tag or registry/repository@sha256:<digest>, e.g. "${UPSTREAM_DRIVER_IMAGE}"`,
    );
  }
}

function validatePullPolicy(policy: string, field: string): void {
  if (!PULL_POLICIES.includes(policy)) {
    throw new ValidationError(field, `"${policy}" is not one of ${PULL_POLICIES.join(', ')}`);
  }
}

const IMAGE_OPTION_KEYS: Record<keyof InstallImagesProps, true> = {
  useUpstreamImages: true,
  driverImage: true,
  providerImage: true,
  nodeDriverRegistrarImage: true,
  livenessProbeImage: true,
  windowsDriverImage: true,
  windowsProviderImage: true,
  imagePullPolicy: true,
};

/** Applies defaults and validates every image reference; reports every bad one at once. */
export function resolveInstallImages(
  props: InstallImagesProps = {},
  field = 'images',
): ResolvedInstallImages {
  rejectUnknownKeys(props, field, Object.keys(IMAGE_OPTION_KEYS));
  const errors = new ValidationErrors();
  errors.check(() => optionalBoolean(props.useUpstreamImages, `${field}.useUpstreamImages`));
  for (const key of [
    'driverImage',
    'providerImage',
    'nodeDriverRegistrarImage',
    'livenessProbeImage',
  ] as const) {
    errors.check(() => validateImage(props[key], `${field}.${key}`));
  }
  const pullPolicy = props.imagePullPolicy ?? 'IfNotPresent';
  errors.check(() => validatePullPolicy(pullPolicy, `${field}.imagePullPolicy`));
  errors.throwIfAny();
  const upstream = props.useUpstreamImages ?? false;
  return {
    runtimeImage: !upstream,
    driver: props.driverImage ?? (upstream ? UPSTREAM_DRIVER_IMAGE : defaultRuntimeImage()),
    provider: props.providerImage ?? (upstream ? UPSTREAM_PROVIDER_IMAGE : defaultRuntimeImage()),
    nodeDriverRegistrar: props.nodeDriverRegistrarImage ?? NODE_DRIVER_REGISTRAR_IMAGE,
    livenessProbe: props.livenessProbeImage ?? LIVENESS_PROBE_IMAGE,
    windowsDriver: props.windowsDriverImage ?? UPSTREAM_DRIVER_IMAGE,
    windowsProvider: props.windowsProviderImage ?? UPSTREAM_PROVIDER_IMAGE,
    imagePullPolicy: pullPolicy,
  };
}
