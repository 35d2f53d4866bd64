import { KubeObject } from '../kube-object';
import { azureSpcAdmissionPolicy, azureSpcAdmissionPolicyBinding } from './admission-policy';
import { secretProviderClassCrd, secretProviderClassPodStatusCrd } from './crds';
import { csiDriver } from './csi-driver';
import { driverDaemonSet } from './driver-daemonset';
import { ResolvedInstallOptions, resolveInstallOptions, SelfHostedInstallOptions } from './install-options';
import { DRIVER_SERVICE_ACCOUNT_NAME, PROVIDER_SERVICE_ACCOUNT_NAME } from './names';
import { providerDaemonSet } from './provider-daemonset';
import { windowsDriverDaemonSet } from './windows-driver-daemonset';
import { windowsProviderDaemonSet } from './windows-provider-daemonset';
import {
  aggregatedUserRoles,
  driverClusterRole,
  installNamespace,
  driverClusterRoleBinding,
  installServiceAccount,
  syncClusterRole,
  syncClusterRoleBinding,
} from './rbac';

// The whole self-hosted install (driver + Azure provider + CRDs + RBAC + admission policy) as an
// ordered list of plain objects, rendered from options already resolved by install-options.ts.

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

/** Validates the options (all problems at once) and renders every object of the install, CRDs first. */
export function renderSelfHostedInstall(options: SelfHostedInstallOptions = {}): KubeObject[] {
  return renderResolvedInstall(resolveInstallOptions(options));
}

/** Renders every object of an install whose options are already resolved; decides nothing. */
export function renderResolvedInstall(install: ResolvedInstallOptions): KubeObject[] {
  const driverSa = { name: DRIVER_SERVICE_ACCOUNT_NAME, namespace: install.namespace };
  const providerSa = { name: PROVIDER_SERVICE_ACCOUNT_NAME, namespace: install.namespace };
  return [
    ...(install.installCrds ? [secretProviderClassCrd(), secretProviderClassPodStatusCrd()] : []),
    ...(install.createNamespace ? [installNamespace(install.namespace)] : []),
    csiDriver(install),
    installServiceAccount(driverSa),
    installServiceAccount(providerSa),
    driverClusterRole({ upstreamDriver: !install.images.runtimeImage }),
    driverClusterRoleBinding(driverSa),
    ...(install.syncSecrets
      ? [syncClusterRole({ upstreamDriver: !install.images.runtimeImage }), syncClusterRoleBinding(driverSa)]
      : []),
    ...aggregatedUserRoles(),
    ...(install.admissionPolicy ? [azureSpcAdmissionPolicy(), azureSpcAdmissionPolicyBinding()] : []),
    driverDaemonSet(install),
    providerDaemonSet(install),
    ...(install.windows
      ? [windowsDriverDaemonSet(install, install.windows), windowsProviderDaemonSet(install, install.windows)]
      : []),
  ];
}
