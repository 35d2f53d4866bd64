import * as pulumi from '@pulumi/pulumi';
import { CustomResource } from '@pulumi/kubernetes/apiextensions';
import { ServiceAccount } from '@pulumi/kubernetes/core/v1';
import type { Provider as KubernetesProvider } from '@pulumi/kubernetes/provider';
import { SECRETS_STORE_CSI_DRIVER_NAME } from '../core/install';
import { KeyVaultRole } from '../core/key-vault-roles';
import { KeyVaultObject } from '../core/key-vault-objects';
import { SecretType } from '../core/synced-secrets';
import {
  renderSecretProviderClass,
  SECRET_PROVIDER_CLASS_API_VERSION,
  SECRET_PROVIDER_CLASS_KIND,
  SecretProviderClassProps,
  validateSecretProviderClass,
} from '../core/secret-provider-class';
import { ValidationError } from '../core/validation/validation-error';
import {
  DEFAULT_SECRETS_STORE_MOUNT_PATH,
  secretsStoreVolumeName,
  validateSecretsStoreMountPath,
  validateSyncedSecretKey,
  WORKLOAD_IDENTITY_USE_LABEL,
} from '../core/workload-wiring';
import { componentType } from './component-type';
import { KeyVaultRoleAssignments, keyVaultRolesFor } from './key-vault-role-assignments';
import { FederatedCredentialArgs, validateWorkloadIdentityArgs, WorkloadIdentity } from './workload-identity';

// Names shared with the cdk8s front end, kept here for this entry point's API.
export { DEFAULT_SECRETS_STORE_MOUNT_PATH, WORKLOAD_IDENTITY_USE_LABEL };

// Stand-ins for values that are only known at deployment (Outputs), so that every rule of the shared
// core that does not depend on them still runs at construction. The real values are checked again
// when the SecretProviderClass is rendered.
const UNKNOWN_GUID = '00000000-0000-0000-0000-000000000000';
const UNKNOWN_VAULT_NAME = 'vault-known-at-deploy';

// Pulumi's component schema has no read-only arrays, so the store takes these mutable mirrors of the
// core's KeyVaultObject / SecretObject (same fields; the core checks them).

/** A Kubernetes Secret data entry taken from a mounted file (core `SecretObjectData`). */
export interface SecretObjectDataArgs {
  /** File name in the mount: an object's alias, or its name when it has no alias. */
  objectName: string;
  /** Key in the Secret's data. */
  key: string;
}

/** A Kubernetes Secret synced from the mounted files (core `SecretObject`). */
export interface SecretObjectArgs {
  /** Name of the Secret, in the team's namespace. */
  secretName: string;
  /**
   * Secret type.
   * @default SecretType.OPAQUE
   */
  type?: SecretType;
  /** Data entries; at least one. */
  data: SecretObjectDataArgs[];
  /**
   * Labels for the Secret (the driver adds `secrets-store.csi.k8s.io/managed=true`).
   * @default - none
   */
  labels?: Record<string, string>;
  /**
   * Annotations for the Secret.
   * @default - none
   */
  annotations?: Record<string, string>;
}

export interface SecretStoreArgs {
  /** Namespace of the team: the SecretProviderClass, the ServiceAccount and the team's pods live here. */
  namespace: string;
  /**
   * Name of the SecretProviderClass.
   * @default - the component name
   */
  secretProviderClassName?: string;
  /**
   * Name of the ServiceAccount the team's pods run as (the federated credential's subject).
   * @default - the SecretProviderClass name
   */
  serviceAccountName?: string;
  /** Name of the Key Vault (`KeyVault.vaultName`). */
  keyVaultName: pulumi.Input<string>;
  /** Resource id of the Key Vault, the scope of the role assignments (`KeyVault.vaultId`). */
  vaultId: pulumi.Input<string>;
  /** Entra tenant id of the vault (`KeyVault.tenantId`). */
  tenantId: pulumi.Input<string>;
  /** Key Vault objects to mount; the roles granted follow their object types. */
  objects: KeyVaultObject[];
  /**
   * Kubernetes Secrets synced from the mounted files (for env vars).
   * @default - none
   */
  secretObjects?: SecretObjectArgs[];
  /**
   * Workload identity (the default mode): OIDC issuer URL of the cluster (`oidcIssuerUrlOf(cluster)`). A user-assigned
   * identity federated with the team's ServiceAccount is created and granted the roles.
   * @default - required unless `addonIdentityClientId` is set
   */
  issuerUrl?: pulumi.Input<string>;
  /**
   * Further federated credentials of the workload identity (e.g. the same ServiceAccount on a second cluster).
   * @default - one credential for `issuerUrl`
   */
  federatedCredentials?: FederatedCredentialArgs[];
  /**
   * Use the AKS add-on's node identity instead of workload identity (`AddonIdentityAccess.addonIdentityClientId`).
   * No identity or role assignment is created: grant the add-on identity once per vault with AddonIdentityAccess.
   * @default - workload identity
   */
  addonIdentityClientId?: pulumi.Input<string>;
  /**
   * Resource group of the workload identity.
   * @default - required in workload identity mode
   */
  resourceGroupName?: pulumi.Input<string>;
  /**
   * Azure region of the workload identity.
   * @default - the resource group's location
   */
  location?: pulumi.Input<string>;
  /**
   * Roles to grant in addition to those for the objects' types.
   * @default - none
   */
  additionalRoles?: KeyVaultRole[];
  /**
   * Subscription of the role definitions.
   * @default - the subscription Pulumi runs against
   */
  subscriptionId?: pulumi.Input<string>;
  /**
   * Labels on the SecretProviderClass.
   * @default - none
   */
  labels?: Record<string, string>;
  /**
   * Kubernetes provider of the target cluster.
   * @default - the provider inherited from the parent, else the ambient kubeconfig
   */
  kubernetesProvider?: KubernetesProvider;
}

/** An env var fed from a key of a Secret the store syncs. */
export interface SyncedSecretEnvArgs {
  /** Variable name in the container. */
  name: string;
  /** Name of the synced Secret (a `secretObjects` secretName). */
  secretName: string;
  /** Key in that Secret. */
  key: string;
}

/** How a container uses the store. */
export interface SecretStoreWiringArgs {
  /**
   * Directory the objects appear in (do not use subPath: rotated content does not reach subPath mounts).
   * @default '/mnt/secrets-store'
   */
  mountPath?: string;
  /**
   * Env vars from synced Secrets.
   * @default - none
   */
  env?: SyncedSecretEnvArgs[];
}

/** Pod-spec entries for a Deployment that uses the store, as plain Kubernetes JSON. */
export interface SecretStoreWiring {
  /** The pod's `serviceAccountName`. */
  serviceAccountName: string;
  /** Labels for the pod template (the workload identity webhook label in workload identity mode). */
  podLabels: Record<string, string>;
  /** The read-only CSI volume, for `spec.volumes`. */
  volume: {
    name: string;
    csi: { driver: string; readOnly: boolean; volumeAttributes: Record<string, string> };
  };
  /** The read-only mount, for a container's `volumeMounts`. */
  volumeMount: { name: string; mountPath: string; readOnly: boolean };
  /** Env vars from synced Secrets, for a container's `env`. */
  env: { name: string; valueFrom: { secretKeyRef: { name: string; key: string } } }[];
}

/**
 * One team's secrets: an identity (workload identity by default), its Key Vault role assignments, the
 * SecretProviderClass (rendered by the shared core) and the ServiceAccount in the team's namespace. Use
 * `wiring()` for the volume, mount and env vars of a Deployment.
 */
export class SecretStore extends pulumi.ComponentResource {
  /** The ServiceAccount the team's pods run as. */
  public readonly serviceAccount: ServiceAccount;
  /** Name of the SecretProviderClass. */
  public readonly secretProviderClassName: pulumi.Output<string>;
  /** Name of the ServiceAccount. */
  public readonly serviceAccountName: pulumi.Output<string>;
  /** Client id of the identity the SecretProviderClass uses. */
  public readonly clientId: pulumi.Output<string>;

  /** The workload identity, unless the add-on identity is used. */
  public get workloadIdentity(): WorkloadIdentity | undefined {
    return internals.get(this)!.workloadIdentity;
  }
  /** Role assignments of the workload identity on the vault (none with the add-on identity). */
  public get roleAssignments(): KeyVaultRoleAssignments | undefined {
    return internals.get(this)!.roleAssignments;
  }
  /** The SecretProviderClass. */
  public get secretProviderClass(): CustomResource {
    return internals.get(this)!.secretProviderClass;
  }

  constructor(name: string, args: SecretStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    const plan = planSecretStore(name, args);
    super(componentType('SecretStore'), name, {}, opts);
    let workloadIdentity: WorkloadIdentity | undefined;
    let roleAssignments: KeyVaultRoleAssignments | undefined;

    // Kubernetes children wait for what the component waits for (its Namespace, the CRDs of an install).
    const waitFor = opts?.dependsOn
      ? pulumi.output(opts.dependsOn).apply((d) => (Array.isArray(d) ? d : [d]))
      : undefined;
    const k8sOpts = { parent: this, provider: args.kubernetesProvider };
    let clientId: pulumi.Input<string>;
    if (plan.workloadIdentity) {
      workloadIdentity = new WorkloadIdentity(
        name,
        {
          resourceGroupName: args.resourceGroupName!,
          location: args.location,
          issuerUrl: args.issuerUrl!,
          namespace: args.namespace,
          serviceAccountName: plan.serviceAccountName,
          federatedCredentials: args.federatedCredentials,
          kubernetesProvider: args.kubernetesProvider,
        },
        { parent: this, dependsOn: opts?.dependsOn },
      );
      roleAssignments = new KeyVaultRoleAssignments(
        name,
        {
          vaultId: args.vaultId,
          principalId: workloadIdentity.principalId,
          objectTypes: args.objects.map((object) => object.objectType),
          additionalRoles: args.additionalRoles,
          subscriptionId: args.subscriptionId,
        },
        { parent: this },
      );
      this.serviceAccount = workloadIdentity.serviceAccount!;
      clientId = workloadIdentity.clientId;
    } else {
      this.serviceAccount = new ServiceAccount(
        name,
        { metadata: { name: plan.serviceAccountName, namespace: args.namespace } },
        { ...k8sOpts, dependsOn: waitFor },
      );
      clientId = args.addonIdentityClientId!;
    }

    const spec = pulumi
      .all([args.keyVaultName, args.tenantId, clientId])
      .apply(([keyVaultName, tenantId, resolvedClientId]) =>
        renderSecretProviderClass({
          ...plan.spcProps,
          keyVaultName,
          tenantId,
          ...(plan.workloadIdentity
            ? { workloadIdentityClientId: resolvedClientId }
            : { userAssignedIdentityClientId: resolvedClientId }),
        }),
      )
      .apply((spc) => spc.spec as Record<string, unknown>);
    const secretProviderClass = new CustomResource(
      name,
      {
        apiVersion: SECRET_PROVIDER_CLASS_API_VERSION,
        kind: SECRET_PROVIDER_CLASS_KIND,
        metadata: { name: plan.spcProps.name, namespace: args.namespace, labels: args.labels },
        spec,
      },
      // Pods mounting it authenticate as the identity, which needs its roles first.
      {
        ...k8sOpts,
        dependsOn: pulumi
          .output(waitFor ?? [])
          .apply((d) => [...d, ...(roleAssignments ? [roleAssignments] : [])]),
      },
    );

    internals.set(this, { plan, workloadIdentity, roleAssignments, secretProviderClass });
    this.secretProviderClassName = pulumi.output(plan.spcProps.name);
    this.serviceAccountName = pulumi.output(plan.serviceAccountName);
    this.clientId = pulumi.output(clientId);
    this.registerOutputs({
      secretProviderClassName: this.secretProviderClassName,
      serviceAccountName: this.serviceAccountName,
      clientId: this.clientId,
    });
  }

  /**
   * The pod-spec entries a Deployment needs to use the store: serviceAccountName, pod labels, the read-only CSI
   * volume, its mount, and env vars from synced Secrets. Throws a ValidationError naming the field for an env var
   * whose Secret or key the store does not sync.
   */
  public wiring(args: SecretStoreWiringArgs = {}): SecretStoreWiring {
    return secretStoreWiring(internals.get(this)!.plan, args);
  }
}

/**
 * Children and state a component package schema cannot describe (our own component types, the untyped
 * CustomResource, the plan), kept outside the class's fields and exposed through getters: Pulumi's schema
 * analyzer turns every field into a schema output.
 */
const internals = new WeakMap<
  SecretStore,
  {
    plan: SecretStorePlan;
    workloadIdentity: WorkloadIdentity | undefined;
    roleAssignments: KeyVaultRoleAssignments | undefined;
    secretProviderClass: CustomResource;
  }
>();

/** What a SecretStore resolved from its args at construction. */
interface SecretStorePlan {
  readonly workloadIdentity: boolean;
  readonly serviceAccountName: string;
  /** SPC props without the values known only at deployment (vault name, tenant, client id). */
  readonly spcProps: Omit<SecretProviderClassProps, 'keyVaultName' | 'tenantId'>;
}

function known(value: pulumi.Input<string> | undefined, standIn: string): string {
  return typeof value === 'string' ? value : standIn;
}

/** Validates {@link SecretStoreArgs} with the shared core's rules; throws a ValidationError naming the field. */
function planSecretStore(name: string, args: SecretStoreArgs): SecretStorePlan {
  const workloadIdentity = args.addonIdentityClientId === undefined;
  if (workloadIdentity && args.issuerUrl === undefined) {
    throw new ValidationError(
      'issuerUrl',
      'is required for workload identity (the default); pass oidcIssuerUrlOf(cluster), or set addonIdentityClientId to use the add-on identity',
    );
  }
  if (!workloadIdentity && args.issuerUrl !== undefined) {
    throw new ValidationError(
      'addonIdentityClientId',
      'is set together with issuerUrl, but a SecretProviderClass uses one identity; keep issuerUrl for workload identity or addonIdentityClientId for the add-on identity',
    );
  }
  if (workloadIdentity && args.resourceGroupName === undefined) {
    throw new ValidationError(
      'resourceGroupName',
      'is required for workload identity: the managed identity is created there',
    );
  }
  const spcName = args.secretProviderClassName ?? name;
  const spcProps = {
    name: spcName,
    namespace: args.namespace,
    objects: args.objects,
    secretObjects: args.secretObjects,
    labels: args.labels,
  };
  validateSecretProviderClass({
    ...spcProps,
    keyVaultName: known(args.keyVaultName, UNKNOWN_VAULT_NAME),
    tenantId: known(args.tenantId, UNKNOWN_GUID),
    ...(workloadIdentity
      ? { workloadIdentityClientId: UNKNOWN_GUID }
      : { userAssignedIdentityClientId: known(args.addonIdentityClientId, UNKNOWN_GUID) }),
  });
  const serviceAccountName = args.serviceAccountName ?? spcName;
  if (workloadIdentity) {
    validateWorkloadIdentityArgs({
      resourceGroupName: args.resourceGroupName!,
      issuerUrl: args.issuerUrl!,
      namespace: args.namespace,
      serviceAccountName,
      federatedCredentials: args.federatedCredentials,
    });
    keyVaultRolesFor({
      objectTypes: args.objects.map((object) => object.objectType),
      additionalRoles: args.additionalRoles,
    });
  }
  return { workloadIdentity, serviceAccountName, spcProps };
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function secretStoreWiring(plan: SecretStorePlan, args: SecretStoreWiringArgs): SecretStoreWiring {
  const mountPath = args.mountPath ?? DEFAULT_SECRETS_STORE_MOUNT_PATH;
  validateSecretsStoreMountPath(mountPath, 'mountPath');
  const synced = plan.spcProps.secretObjects ?? [];
  const env = (args.env ?? []).map((variable, i) => {
    const field = `env[${i}]`;
    if (!ENV_NAME.test(variable.name)) {
      throw new ValidationError(
        `${field}.name`,
        `"${variable.name}" is not a valid env var name; use letters, digits, '_', '-' and '.', not starting with a digit`,
      );
    }
    validateSyncedSecretKey(synced, variable.secretName, variable.key, plan.spcProps.name, `${field}.`);
    return {
      name: variable.name,
      valueFrom: { secretKeyRef: { name: variable.secretName, key: variable.key } },
    };
  });
  const volumeName = secretsStoreVolumeName(plan.spcProps.name);
  return {
    serviceAccountName: plan.serviceAccountName,
    podLabels: plan.workloadIdentity ? { [WORKLOAD_IDENTITY_USE_LABEL]: 'true' } : {},
    volume: {
      name: volumeName,
      csi: {
        driver: SECRETS_STORE_CSI_DRIVER_NAME,
        readOnly: true,
        volumeAttributes: { secretProviderClass: plan.spcProps.name },
      },
    },
    volumeMount: { name: volumeName, mountPath, readOnly: true },
    env,
  };
}
