import { KubeObject } from '../kube-object';
import { INSTALL_COMMON_LABELS, SECRETS_STORE_API_GROUP, SECRETS_STORE_CSI_DRIVER_NAME } from './names';

// ServiceAccounts and RBAC as upstream v1.6 deploy/rbac-*.yaml and role-*.yaml. v1.6 no longer needs
// serviceaccounts/token (kubelet issues the tokens) nor the rotation role (secrets get/list/watch).
// The Azure provider talks to no Kubernetes API, so its ServiceAccount has no role.

export const DRIVER_CLUSTER_ROLE_NAME = 'secretproviderclasses-role';
export const DRIVER_CLUSTER_ROLE_BINDING_NAME = 'secretproviderclasses-rolebinding';
export const SYNC_CLUSTER_ROLE_NAME = 'secretprovidersyncing-role';
export const SYNC_CLUSTER_ROLE_BINDING_NAME = 'secretprovidersyncing-rolebinding';
export const SPC_ADMIN_ROLE_NAME = 'secretproviderclasses-admin-role';
export const SPC_VIEWER_ROLE_NAME = 'secretproviderclasses-viewer-role';
export const SPCPS_VIEWER_ROLE_NAME = 'secretproviderclasspodstatuses-viewer-role';

const READ = ['get', 'list', 'watch'];
const CRUD = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
// The driver's service account gets only the verbs its code sends (runtime/driver/cluster/ and
// secret-sync/): a token stolen from a node can do no more than the driver itself.
const DRIVER_EVENT_VERBS = ['create', 'patch']; // create, then count repeats with a patch
const DRIVER_POD_VERBS = ['get', 'list', 'watch']; // the target-path check: this node's pods, watched (upstream's)
const DRIVER_SPCPS_VERBS = ['create', 'delete', 'get', 'list', 'update']; // list: this node's, at start
const DRIVER_SECRET_VERBS = ['create', 'get', 'list', 'update', 'watch']; // list/watch: metadata of managed ones

interface ServiceAccountRef {
  readonly name: string;
  readonly namespace: string;
}

/**
 * The install namespace, when it is not kube-system. Pod Security `privileged`: the driver container
 * is privileged with Bidirectional propagation, which `baseline` and `restricted` reject.
 */
export function installNamespace(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: {
        ...INSTALL_COMMON_LABELS,
        'pod-security.kubernetes.io/enforce': 'privileged',
        'pod-security.kubernetes.io/audit': 'privileged',
        'pod-security.kubernetes.io/warn': 'privileged',
      },
    },
  };
}

export function installServiceAccount(ref: ServiceAccountRef, automountToken = true): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: ref.name, namespace: ref.namespace, labels: { ...INSTALL_COMMON_LABELS } },
    ...(automountToken ? {} : { automountServiceAccountToken: false }),
  };
}

function clusterRole(name: string, rules: object[], labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, labels: { ...INSTALL_COMMON_LABELS, ...labels } },
    rules,
  };
}

function clusterRoleBinding(name: string, roleName: string, subject: ServiceAccountRef): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...INSTALL_COMMON_LABELS } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
    subjects: [{ kind: 'ServiceAccount', name: subject.name, namespace: subject.namespace }],
  };
}

/**
 * What the driver needs: read SPCs and pods, own SPCPS, emit events, read its own CSIDriver. Upstream
 * also grants pods list/watch, SPCPS patch/watch and the SPCPS status subresource; our driver uses none.
 */
export function driverClusterRole(props: { upstreamDriver?: boolean } = {}): KubeObject {
  if (props.upstreamDriver) return upstreamDriverClusterRole();
  return clusterRole(DRIVER_CLUSTER_ROLE_NAME, [
    { apiGroups: [''], resources: ['events'], verbs: DRIVER_EVENT_VERBS },
    { apiGroups: [''], resources: ['pods'], verbs: DRIVER_POD_VERBS },
    { apiGroups: [SECRETS_STORE_API_GROUP], resources: ['secretproviderclasses'], verbs: READ },
    {
      apiGroups: [SECRETS_STORE_API_GROUP],
      resources: ['secretproviderclasspodstatuses'],
      verbs: DRIVER_SPCPS_VERBS,
    },
    {
      apiGroups: ['storage.k8s.io'],
      resources: ['csidrivers'],
      resourceNames: [SECRETS_STORE_CSI_DRIVER_NAME],
      verbs: READ,
    },
  ]);
}

/**
 * Secret sync (`secretObjects`): only installed when sync is on, so the driver cannot touch Secrets
 * otherwise. No delete or patch: a synced Secret goes with its owners, through the garbage collector.
 */
export function syncClusterRole(props: { upstreamDriver?: boolean } = {}): KubeObject {
  return clusterRole(SYNC_CLUSTER_ROLE_NAME, [
    { apiGroups: [''], resources: ['secrets'], verbs: props.upstreamDriver ? CRUD : DRIVER_SECRET_VERBS },
  ]);
}

/**
 * The upstream driver v1.6 (`images.useUpstreamImages`) needs its chart's verbs: its controller-runtime
 * caches list/watch pods and SPCPS and it patches SPCPS and their status. With our narrower role it
 * mounts but never syncs a Secret (seen on the rig's real node: the seed pod waits for `foosecret`).
 */
function upstreamDriverClusterRole(): KubeObject {
  return clusterRole(DRIVER_CLUSTER_ROLE_NAME, [
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    { apiGroups: [''], resources: ['pods'], verbs: READ },
    { apiGroups: [SECRETS_STORE_API_GROUP], resources: ['secretproviderclasses'], verbs: READ },
    { apiGroups: [SECRETS_STORE_API_GROUP], resources: ['secretproviderclasspodstatuses'], verbs: CRUD },
    {
      apiGroups: [SECRETS_STORE_API_GROUP],
      resources: ['secretproviderclasspodstatuses/status'],
      verbs: ['get', 'patch', 'update'],
    },
    {
      apiGroups: ['storage.k8s.io'],
      resources: ['csidrivers'],
      resourceNames: [SECRETS_STORE_CSI_DRIVER_NAME],
      verbs: READ,
    },
  ]);
}

export function driverClusterRoleBinding(driverServiceAccount: ServiceAccountRef): KubeObject {
  return clusterRoleBinding(DRIVER_CLUSTER_ROLE_BINDING_NAME, DRIVER_CLUSTER_ROLE_NAME, driverServiceAccount);
}

export function syncClusterRoleBinding(driverServiceAccount: ServiceAccountRef): KubeObject {
  return clusterRoleBinding(SYNC_CLUSTER_ROLE_BINDING_NAME, SYNC_CLUSTER_ROLE_NAME, driverServiceAccount);
}

/**
 * User-facing roles aggregated into the built-in admin/edit/view ClusterRoles: namespace admins and
 * editors may write SecretProviderClasses; everyone with view may read both kinds; nobody but the
 * driver may write SPCPS (tampering with targetPath was CVE-2020-8568).
 */
export function aggregatedUserRoles(): KubeObject[] {
  const aggregate = (...roles: string[]) =>
    Object.fromEntries(roles.map((role) => [`rbac.authorization.k8s.io/aggregate-to-${role}`, 'true']));
  return [
    clusterRole(
      SPC_ADMIN_ROLE_NAME,
      [{ apiGroups: [SECRETS_STORE_API_GROUP], resources: ['secretproviderclasses'], verbs: CRUD }],
      aggregate('admin', 'edit'),
    ),
    clusterRole(
      SPC_VIEWER_ROLE_NAME,
      [{ apiGroups: [SECRETS_STORE_API_GROUP], resources: ['secretproviderclasses'], verbs: READ }],
      aggregate('view'),
    ),
    clusterRole(
      SPCPS_VIEWER_ROLE_NAME,
      [{ apiGroups: [SECRETS_STORE_API_GROUP], resources: ['secretproviderclasspodstatuses'], verbs: READ }],
      aggregate('view'),
    ),
  ];
}
