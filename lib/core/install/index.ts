// The self-hosted install model: plain Kubernetes objects for the Secrets Store CSI Driver + Azure provider.
// Exported by name (not `export *`) so helper names cannot collide with the rest of lib/core.
export * from './names';
export {
  secretProviderClassCrd,
  secretProviderClassPodStatusCrd,
  crdVersionSchema,
  V1ALPHA1_DEPRECATION_WARNING,
} from './crds';
export type { JsonSchema } from './crds';
export { csiDriver, WORKLOAD_IDENTITY_TOKEN_AUDIENCE, IDENTITY_BINDING_TOKEN_AUDIENCE } from './csi-driver';
export type { CsiDriverProps } from './csi-driver';
export {
  RUNTIME_IMAGE_REPOSITORY,
  UPSTREAM_DRIVER_IMAGE,
  UPSTREAM_PROVIDER_IMAGE,
  NODE_DRIVER_REGISTRAR_IMAGE,
  LIVENESS_PROBE_IMAGE,
  defaultRuntimeImage,
  resolveInstallImages,
} from './images';
export type { InstallImagesProps, ResolvedInstallImages } from './images';
export type { ContainerResources, ResourceQuantities, Toleration } from './scheduling';
export {
  DRIVER_CLUSTER_ROLE_NAME,
  DRIVER_CLUSTER_ROLE_BINDING_NAME,
  SYNC_CLUSTER_ROLE_NAME,
  SYNC_CLUSTER_ROLE_BINDING_NAME,
  SPC_ADMIN_ROLE_NAME,
  SPC_VIEWER_ROLE_NAME,
  SPCPS_VIEWER_ROLE_NAME,
} from './rbac';
export {
  AZURE_SPC_ADMISSION_POLICY_NAME,
  AZURE_SPC_ADMISSION_POLICY_BINDING_NAME,
  azureSpcAdmissionPolicy,
  azureSpcAdmissionPolicyBinding,
} from './admission-policy';
export { renderSelfHostedInstall, renderResolvedInstall, isClusterScopedKind } from './self-hosted-install';
export { resolveInstallOptions } from './install-options';
export type {
  SelfHostedInstallOptions,
  ResolvedInstallOptions,
  ResolvedWindowsOptions,
} from './install-options';
export { installCapabilityProblems } from './install-capabilities';
export type { InstallCapabilities, SecretProviderClassNeeds } from './install-capabilities';
