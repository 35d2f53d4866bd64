import { Construct } from 'constructs';
import {
  DEFAULT_SECRETS_STORE_MOUNT_PATH,
  RELOADER_SECRET_ANNOTATION,
  SECRETS_STORE_CSI_DRIVER_NAME,
  secretsStoreVolumeName,
  ValidationError,
  validateDns1123Label,
  validateDns1123Subdomain,
  validateGuid,
  validateSecretsStoreMountPath,
  validateSyncedSecretKey,
  validateWorkloadIdentityClientId,
  WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION,
  WORKLOAD_IDENTITY_TENANT_ID_ANNOTATION,
  WORKLOAD_IDENTITY_USE_LABEL,
} from '../core';
import { SecretProviderClass } from './secret-provider-class';
import {
  AbstractPod,
  Container,
  EnvValue,
  ISecret,
  Pod,
  Secret,
  ServiceAccount,
  Volume,
  Workload,
} from './plus';

// Helpers that wire a workload (cdk8s-plus) to a SecretProviderClass: the read-only CSI volume and
// mount, env vars from synced Secrets, workload identity, restart on rotation (Reloader).

/** CSI driver name of the Secrets Store CSI Driver (the core's SECRETS_STORE_CSI_DRIVER_NAME). */
export const SECRETS_STORE_CSI_DRIVER = SECRETS_STORE_CSI_DRIVER_NAME;
// Names shared with the Pulumi front end, kept here for this entry point's API.
export {
  DEFAULT_SECRETS_STORE_MOUNT_PATH,
  RELOADER_SECRET_ANNOTATION,
  WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION,
  WORKLOAD_IDENTITY_TENANT_ID_ANNOTATION,
  WORKLOAD_IDENTITY_USE_LABEL,
};

/** Options of the Secrets Store CSI volume. */
export interface SecretsStoreVolumeOptions {
  /**
   * Volume name in the pod spec.
   * @default - "secrets-store-<spc name>"
   */
  readonly name?: string;
}

/** Factory for the CSI inline volume that mounts a SecretProviderClass. */
export class SecretsStoreVolume {
  /**
   * A read-only `secrets-store.csi.k8s.io` volume for `spc`; in service principal mode it carries
   * the `nodePublishSecretRef` the provider needs. Calling it again with the same name returns the
   * same volume, so several workloads can share it.
   */
  public static fromSecretProviderClass(
    spc: SecretProviderClass,
    opts: SecretsStoreVolumeOptions = {},
  ): Volume {
    const name = opts.name ?? secretsStoreVolumeName(spc.name);
    validateDns1123Label(name, 'name', 'volume name');
    const existing = spc.node.tryFindChild(`Volume-${name}`);
    if (existing) return existing as Volume;
    const volume = Volume.fromCsi(spc, `Volume-${name}`, SECRETS_STORE_CSI_DRIVER, {
      name,
      readOnly: true,
      attributes: { secretProviderClass: spc.name },
    });
    const secretName = spc.identity.nodePublishSecretName;
    if (secretName !== undefined) {
      // cdk8s-plus's CsiVolumeOptions (up to cdk8s-plus-33) has no nodePublishSecretRef; add it to this volume's render.
      const render = volume._toKube.bind(volume);
      Object.defineProperty(volume, '_toKube', {
        value: () => {
          const kube = render();
          return { ...kube, csi: { ...kube.csi!, nodePublishSecretRef: { name: secretName } } };
        },
      });
    }
    return volume;
  }

  private constructor() {}
}

/** Options for mounting the secrets store into a container. */
export interface SecretsStoreMountOptions {
  /**
   * Directory the objects appear in. Do not use subPath: rotated content does not reach subPath mounts.
   * @default '/mnt/secrets-store'
   */
  readonly path?: string;
}

/** Mounts the secrets store volume read-only into `container`. */
export function mountSecretsStore(
  container: Container,
  volume: Volume,
  opts: SecretsStoreMountOptions = {},
): void {
  const path = opts.path ?? DEFAULT_SECRETS_STORE_MOUNT_PATH;
  validateSecretsStoreMountPath(path, 'path');
  container.mount(path, volume, { readOnly: true });
}

/**
 * An env var value from a Secret that `spc` syncs (secretObjects). Throws when `spc` does not
 * declare that Secret and key. The Secret exists only while a pod mounts the SPC's volume.
 */
export function envFromSyncedSecret(spc: SecretProviderClass, secretName: string, key: string): EnvValue {
  validateSyncedSecretKey(spc.secretObjects, secretName, key, spc.name);
  const id = `SyncedSecret-${secretName}`;
  const secret =
    (spc.node.tryFindChild(id) as ISecret | undefined) ?? Secret.fromSecretName(spc, id, secretName);
  return EnvValue.fromSecretValue({ secret, key });
}

/** Props of a ServiceAccount federated with an Entra identity (workload identity). */
export interface WorkloadIdentityServiceAccountProps {
  /** Client id of the Entra app or user-assigned managed identity the ServiceAccount is federated with. */
  readonly clientId: string;
  /**
   * Tenant id, annotated for the workload identity webhook.
   * @default - the webhook's cluster default tenant
   */
  readonly tenantId?: string;
  /**
   * Name of the ServiceAccount; the federated credential's subject is `system:serviceaccount:<ns>:<name>`.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Namespace of the ServiceAccount.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
}

/** A ServiceAccount annotated for Azure workload identity. */
export class WorkloadIdentityServiceAccount extends Construct {
  public readonly serviceAccount: ServiceAccount;
  public readonly name: string;

  constructor(scope: Construct, id: string, props: WorkloadIdentityServiceAccountProps) {
    super(scope, id);
    this.name = props.name ?? id;
    validateDns1123Subdomain(this.name, 'name');
    if (props.namespace !== undefined) validateDns1123Label(props.namespace, 'namespace');
    validateWorkloadIdentityClientId(props.clientId, 'clientId');
    if (props.tenantId !== undefined) validateGuid(props.tenantId, 'tenantId', 'Entra tenant id');
    this.serviceAccount = new ServiceAccount(this, 'Resource', {
      metadata: {
        name: this.name,
        ...(props.namespace !== undefined ? { namespace: props.namespace } : {}),
        annotations: {
          [WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION]: props.clientId,
          ...(props.tenantId !== undefined
            ? { [WORKLOAD_IDENTITY_TENANT_ID_ANNOTATION]: props.tenantId }
            : {}),
        },
      },
    });
  }
}

/** Labels the pods of `workload` with `azure.workload.identity/use: "true"`. */
export function useWorkloadIdentity(workload: AbstractPod): void {
  workload.podMetadata.addLabel(WORKLOAD_IDENTITY_USE_LABEL, 'true');
}

const reloadedSecrets = new WeakMap<Workload, Set<string>>();

/**
 * Annotates `workload` for Reloader so it rolls when one of `secretNames` changes (env vars from a
 * synced Secret do not change in a running pod). Bare Pods cannot be restarted by Reloader.
 */
export function restartOnRotation(workload: AbstractPod, secretNames: readonly string[]): void {
  if (workload instanceof Pod || !(workload instanceof Workload)) {
    throw new ValidationError(
      'restartOnRotation',
      `Reloader restarts Deployments, StatefulSets and DaemonSets, not a bare Pod ("${workload.name}"); run it as a Deployment or drop restartOnRotation`,
    );
  }
  if (secretNames.length === 0) {
    throw new ValidationError(
      'restartOnRotation',
      'no Secret names given; pass the synced Secrets whose changes should restart the workload',
    );
  }
  const names = reloadedSecrets.get(workload) ?? new Set<string>();
  secretNames.forEach((name) => names.add(name));
  reloadedSecrets.set(workload, names);
  workload.metadata.addAnnotation(RELOADER_SECRET_ANNOTATION, [...names].join(','));
}
