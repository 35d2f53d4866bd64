// Names fixed by upstream (secrets-store-csi-driver v1.6 static manifests, Azure provider v1.8) that
// other pieces look up by name: kubelet finds the driver by CSIDriver name, the driver finds the
// provider socket by SPC `provider`, users' RBAC aggregates by role name.

/** API group of SecretProviderClass and SecretProviderClassPodStatus. */
export const SECRETS_STORE_API_GROUP = 'secrets-store.csi.x-k8s.io';
/** Name of the CSIDriver object and of the driver's gRPC identity (`--drivername`). */
export const SECRETS_STORE_CSI_DRIVER_NAME = 'secrets-store.csi.k8s.io';
/** Default install namespace; upstream's best practice is kube-system. */
export const DEFAULT_INSTALL_NAMESPACE = 'kube-system';

/** Driver DaemonSet name as in upstream deploy/secrets-store-csi-driver.yaml. */
export const DRIVER_DAEMONSET_NAME = 'csi-secrets-store';
export const DRIVER_SERVICE_ACCOUNT_NAME = 'secrets-store-csi-driver';
/** Pod label `app` of the driver; also the DaemonSet selector. */
export const DRIVER_APP_LABEL = 'secrets-store-csi-driver';

/** Provider DaemonSet name as in the Azure provider's deployment/provider-azure-installer.yaml. */
export const PROVIDER_DAEMONSET_NAME = 'csi-secrets-store-provider-azure';
export const PROVIDER_SERVICE_ACCOUNT_NAME = 'csi-secrets-store-provider-azure';
export const PROVIDER_APP_LABEL = 'csi-secrets-store-provider-azure';

/** Host dir the driver searches first (`--provider-volume`) and the provider puts its socket in. */
export const DEFAULT_PROVIDERS_DIR = '/var/run/secrets-store-csi-providers';
/** Legacy host dir the driver still searches (`--additional-provider-volume-paths`). */
export const LEGACY_PROVIDERS_DIR = '/etc/kubernetes/secrets-store-csi-providers';
export const DEFAULT_KUBELET_ROOT_DIR = '/var/lib/kubelet';

/** Ports: driver metrics, liveness-probe sidecar (driver health), provider health and metrics. */
export const DRIVER_METRICS_PORT = 8095;
export const DRIVER_HEALTHZ_PORT = 9808;
export const PROVIDER_HEALTHZ_PORT = 8989;
export const PROVIDER_METRICS_PORT = 8898;

/** Labels every object of the self-hosted install carries, so it can be listed and pruned as one. */
export const INSTALL_COMMON_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/part-of': 'aks-secrets-store',
};

/** Windows DaemonSet names: the Linux names with `-windows`, as upstream's charts name them. */
export const WINDOWS_DRIVER_DAEMONSET_NAME = `${DRIVER_DAEMONSET_NAME}-windows`;
export const WINDOWS_PROVIDER_DAEMONSET_NAME = `${PROVIDER_DAEMONSET_NAME}-windows`;
/** Windows host dirs of upstream's charts (secrets-store-csi-driver 1.6.0, Azure provider 1.8.2). */
export const DEFAULT_WINDOWS_KUBELET_ROOT_DIR = 'C:\\var\\lib\\kubelet';
export const DEFAULT_WINDOWS_PROVIDERS_DIR = 'C:\\k\\secrets-store-csi-providers';
