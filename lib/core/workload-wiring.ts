import { SecretObject } from './synced-secrets';
import { ValidationError } from './validation/validation-error';

// How a team's pod is wired to a SecretProviderClass: the CSI volume and its mount, env vars from
// synced Secrets, the workload identity webhook's label and annotations, Reloader. Both front ends
// (cdk8s, Pulumi) render these names and apply these rules, so they live here once.

/** Mount path used by the upstream and AKS examples; the directory our per-store default mount paths sit in. */
export const DEFAULT_SECRETS_STORE_MOUNT_PATH = '/mnt/secrets-store';
/** ServiceAccount annotation the workload identity webhook and our SecretProviderClass read the client id from. */
export const WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION = 'azure.workload.identity/client-id';
/** ServiceAccount annotation the workload identity webhook reads the tenant id from. */
export const WORKLOAD_IDENTITY_TENANT_ID_ANNOTATION = 'azure.workload.identity/tenant-id';
/** Pod label that opts a pod into the Azure workload identity webhook. */
export const WORKLOAD_IDENTITY_USE_LABEL = 'azure.workload.identity/use';
/** Reloader annotation: restart the workload when one of these Secrets changes. */
export const RELOADER_SECRET_ANNOTATION = 'secret.reloader.stakater.com/reload';

/** `system:serviceaccount:<namespace>:<name>`, the subject of a ServiceAccount's projected token. */
export function serviceAccountSubject(namespace: string, serviceAccountName: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccountName}`;
}

/** Default volume name for an SPC: `secrets-store-<spc name>` as a DNS-1123 label (no dots, at most 63 characters). */
export function secretsStoreVolumeName(spcName: string): string {
  return `secrets-store-${spcName.replace(/\./g, '-')}`.slice(0, 63).replace(/-+$/, '');
}

// Kubernetes refuses a volumeMount path that is relative or contains ':'.
const MOUNT_PATH = /^\/[^:]*$/;

/** Throws a ValidationError naming `field` unless `path` is an absolute container path without ':'. */
export function validateSecretsStoreMountPath(path: string, field: string): void {
  if (!MOUNT_PATH.test(path)) {
    throw new ValidationError(
      field,
      `"${path}" is not an absolute path without ':'; mount the secrets store at e.g. "${DEFAULT_SECRETS_STORE_MOUNT_PATH}"`,
    );
  }
}

/**
 * Default mount path of one store: `/mnt/secrets-store/<store>`. One directory per store, so two stores wired
 * into one container never land on the same path (where one volume would hide the other).
 */
export function defaultSecretsStoreMountPath(storeName: string): string {
  return `${DEFAULT_SECRETS_STORE_MOUNT_PATH}/${storeName}`;
}

/** One secrets-store mount of a container, named by the store (SPC) it comes from. */
export interface SecretsStoreMount {
  readonly store: string;
  readonly path: string;
}

/**
 * Throws a ValidationError naming `field` and both stores when two secrets-store mounts of one container
 * are the same directory or one lies inside the other: the container runtime cannot create a mount point
 * inside a read-only volume, and a shared path would show only one store's files.
 */
export function checkSecretsStoreMountsApart(mounts: readonly SecretsStoreMount[], field: string): void {
  const normalized = mounts.map((mount) => ({ ...mount, path: mount.path.replace(/\/+$/, '') || '/' }));
  normalized.forEach((a, i) => {
    for (const b of normalized.slice(i + 1)) {
      const [outer, inner] = a.path.length <= b.path.length ? [a, b] : [b, a];
      const nested =
        inner.path === outer.path || inner.path.startsWith(outer.path === '/' ? '/' : `${outer.path}/`);
      if (nested) {
        const how =
          inner.path === outer.path
            ? `both mount at "${outer.path}"`
            : `"${inner.path}" lies inside "${outer.path}"`;
        throw new ValidationError(
          field,
          `stores "${a.store}" and "${b.store}" clash in one container: ${how}; give each store its own directory (the default is ${defaultSecretsStoreMountPath('<store>')})`,
        );
      }
    }
  });
}

/**
 * Checks that an env var can read `key` of Secret `secretName`: the SPC `spcName` must sync that Secret
 * (a `secretObjects` entry) with that key; the Secret exists only while a pod mounts the SPC's volume.
 * Throws a ValidationError naming `<fieldPrefix>secretName` or `<fieldPrefix>key`.
 */
export function validateSyncedSecretKey(
  secretObjects: readonly SecretObject[],
  secretName: string,
  key: string,
  spcName: string,
  fieldPrefix = '',
): void {
  const synced = secretObjects.find((secret) => secret.secretName === secretName);
  if (!synced) {
    const declared = secretObjects.map((secret) => `"${secret.secretName}"`).join(', ') || 'none';
    throw new ValidationError(
      `${fieldPrefix}secretName`,
      `"${secretName}" is not synced by SecretProviderClass "${spcName}" (its secretObjects: ${declared}); add a secretObjects entry with this secretName or use one of those`,
    );
  }
  if (!synced.data.some((entry) => entry.key === key)) {
    const keys = synced.data.map((entry) => `"${entry.key}"`).join(', ');
    throw new ValidationError(
      `${fieldPrefix}key`,
      `"${key}" is not a key of synced Secret "${secretName}" (keys: ${keys}); add a data entry { objectName, key: "${key}" } or use one of those`,
    );
  }
}
