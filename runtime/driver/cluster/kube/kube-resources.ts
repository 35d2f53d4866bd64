/** Where a kind lives in the REST API. */
export interface KubeResource {
  /** `v1` for the core group, `<group>/<version>` otherwise. */
  readonly apiVersion: string;
  /** Kind, e.g. `Secret`. */
  readonly kind: string;
  /** Lower-case plural used in the URL, e.g. `secrets`. */
  readonly plural: string;
  /** Namespaced kinds need a namespace for get/create/update/patch/delete. */
  readonly namespaced: boolean;
}

/** The CRD group of SecretProviderClass and SecretProviderClassPodStatus. */
export const SECRETS_STORE_GROUP = 'secrets-store.csi.x-k8s.io';

export const SECRETS: KubeResource = {
  apiVersion: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  namespaced: true,
};
export const PODS: KubeResource = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
export const EVENTS: KubeResource = { apiVersion: 'v1', kind: 'Event', plural: 'events', namespaced: true };
export const NAMESPACES: KubeResource = {
  apiVersion: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  namespaced: false,
};
export const REPLICA_SETS: KubeResource = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  namespaced: true,
};
export const SECRET_PROVIDER_CLASSES: KubeResource = {
  apiVersion: `${SECRETS_STORE_GROUP}/v1`,
  kind: 'SecretProviderClass',
  plural: 'secretproviderclasses',
  namespaced: true,
};
export const SECRET_PROVIDER_CLASS_POD_STATUSES: KubeResource = {
  apiVersion: `${SECRETS_STORE_GROUP}/v1`,
  kind: 'SecretProviderClassPodStatus',
  plural: 'secretproviderclasspodstatuses',
  namespaced: true,
};

export const CSI_DRIVERS: KubeResource = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'CSIDriver',
  plural: 'csidrivers',
  namespaced: false,
};

/** `/api/v1` for the core group, `/apis/<group>/<version>` otherwise. */
export function apiPrefix(resource: KubeResource): string {
  return resource.apiVersion.includes('/') ? `/apis/${resource.apiVersion}` : `/api/${resource.apiVersion}`;
}

/**
 * The collection path (no name) or object path (with name). Namespaced kinds without a namespace give
 * the cluster-wide collection (list/watch across all namespaces).
 */
export function resourcePath(resource: KubeResource, namespace?: string, name?: string): string {
  let p = apiPrefix(resource);
  if (resource.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${resource.plural}`;
  if (name !== undefined) {
    if (!name) throw new Error(`kubernetes ${resource.kind}: empty object name; pass metadata.name`);
    if (resource.namespaced && !namespace) {
      throw new Error(`kubernetes ${resource.kind} ${name}: namespace is required for a namespaced kind`);
    }
    p += `/${encodeURIComponent(name)}`;
  }
  return p;
}
