import * as pulumi from '@pulumi/pulumi';
import { CustomResource } from '@pulumi/kubernetes/apiextensions';
import type { ServiceAccount } from '@pulumi/kubernetes/core/v1';
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
import type * as authorization from '@pulumi/azure-native/authorization';
import * as containerservice from '@pulumi/azure-native/containerservice';
import * as managedidentity from '@pulumi/azure-native/managedidentity';
import { ClusterRole, ClusterRoleBinding } from '@pulumi/kubernetes/rbac/v1';
import { identityBindingRbac } from '../core/identity-binding';
import { validateDns1123Label, validateDns1123Subdomain } from '../core/validation/kube-names';
import {
  checkSecretsStoreMountsApart,
  DEFAULT_SECRETS_STORE_MOUNT_PATH,
  defaultSecretsStoreMountPath,
  secretsStoreVolumeName,
  validateSecretsStoreMountPath,
  validateSyncedSecretKey,
  WORKLOAD_IDENTITY_USE_LABEL,
} from '../core/workload-wiring';
import { componentType } from './component-type';
import {
  KeyVaultRoleAssignments,
  KeyVaultRoleAssignmentsArgs,
  keyVaultRolesFor,
  RoleAssignmentScope,
} from './key-vault-role-assignments';
import { checkedInput, knownValue } from './known-inputs';
import { teamServiceAccount } from './team-service-account';
import { keyVaultNameOf } from './vault-id';
import { FederatedCredentialArgs, validateWorkloadIdentityArgs, WorkloadIdentity } from './workload-identity';

// Names shared with the cdk8s front end, kept here for this entry point's API.
export { DEFAULT_SECRETS_STORE_MOUNT_PATH, WORKLOAD_IDENTITY_USE_LABEL };

// Stand-ins for values that are only known at deployment (Outputs), so that every rule of the shared
// core that does not depend on them still runs at construction. The real values are checked again
// when the SecretProviderClass is rendered.
const UNKNOWN_GUID = '00000000-0000-0000-0000-000000000000';
const UNKNOWN_VAULT_NAME = 'vault-known-at-deploy';
const UNKNOWN_NAMESPACE = 'namespace-known-at-deploy';

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

/** AKS identity binding of the store's identity to one cluster (azure-native `containerservice.IdentityBinding`). */
export interface SecretStoreIdentityBindingArgs {
  /** Name of the AKS managed cluster (`ManagedCluster.name`). */
  clusterName: pulumi.Input<string>;
  /** Resource group of the cluster. */
  clusterResourceGroupName: pulumi.Input<string>;
  /**
   * Name of the IdentityBinding resource on the cluster.
   * @default - Pulumi auto-names it from the component name
   */
  identityBindingName?: pulumi.Input<string>;
}

export interface SecretStoreArgs {
  /**
   * Namespace of the team (e.g. a Namespace resource's `metadata.name`): the SecretProviderClass, the
   * ServiceAccount and the team's pods live here.
   */
  namespace: pulumi.Input<string>;
  /**
   * Name of the SecretProviderClass. When it is only known at deployment, the volume name and the default
   * mount path use the component name instead.
   * @default - the component name
   */
  secretProviderClassName?: pulumi.Input<string>;
  /**
   * Name of the ServiceAccount the team's pods run as (the federated credential's subject).
   * @default - the SecretProviderClass name
   */
  serviceAccountName?: pulumi.Input<string>;
  /**
   * Create the ServiceAccount. Turn off to reuse one that exists already, e.g. when a second store is wired into
   * the same workload (`serviceAccountName: firstStore.serviceAccountName`); a pod runs as one ServiceAccount.
   * @default true
   */
  createServiceAccount?: boolean;
  /** Resource id of the Key Vault (`KeyVault.vaultId`): the vault the SPC reads, the scope of the role assignments. */
  vaultId: pulumi.Input<string>;
  /**
   * Name of the Key Vault; it must be the vault of `vaultId`.
   * @default - the name in `vaultId`
   */
  keyVaultName?: pulumi.Input<string>;
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
   * Pods start through a Key Vault outage (5xx, timeout, throttled past the deadline, unreachable; never
   * on 401/403/404): a new pod of the same identity on the same node gets the last content that node
   * fetched, with a Warning Event. Needs our provider with the install's `outageMaxStaleness`.
   * @default false
   */
  serveLastKnownContentOnOutage?: boolean;
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
   * Identity binding instead of workload identity (AKS with identity bindings; provider v1.8+: the add-on, or a
   * self-hosted install with `identityBinding: true`, whose CSIDriver requests the `api://AKSIdentityBinding` token).
   * A user-assigned identity is created in `resourceGroupName` and granted the roles, an AKS IdentityBinding binds it
   * to the cluster (AKS keeps the identity's one federated credential, however many ServiceAccounts use it), and a
   * ClusterRole/ClusterRoleBinding lets the store's ServiceAccount use it (`use-managed-identity`). No `issuerUrl`.
   * @default - workload identity
   */
  identityBinding?: SecretStoreIdentityBindingArgs;
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
   * Roles to grant on the whole vault in addition to those for the objects.
   * @default - none
   */
  additionalRoles?: KeyVaultRole[];
  /**
   * Where the workload identity's roles are granted: on the whole vault, or on each object the store mounts
   * (a vault shared by several teams).
   * @default RoleAssignmentScope.VAULT
   */
  roleAssignmentScope?: RoleAssignmentScope;
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
   * @default - `/mnt/secrets-store/<store>` (the SecretProviderClass name, or the component name when that is an Output)
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
  /** The store: its SecretProviderClass name, or its component name when that is an Output (names it in errors). */
  store: string;
  /** The pod's `serviceAccountName`. */
  serviceAccountName: pulumi.Input<string>;
  /** Labels for the pod template (the workload identity webhook label in workload identity mode). */
  podLabels: Record<string, string>;
  /** The read-only CSI volume, for `spec.volumes`. */
  volume: {
    name: string;
    csi: {
      driver: string;
      readOnly: boolean;
      volumeAttributes: { secretProviderClass: pulumi.Input<string> };
    };
  };
  /** The read-only mount, for a container's `volumeMounts`. */
  volumeMount: { name: string; mountPath: string; readOnly: boolean };
  /** Env vars from synced Secrets, for a container's `env`. */
  env: { name: string; valueFrom: { secretKeyRef: { name: string; key: string } } }[];
}

/**
 * One team's secrets: an identity (workload identity by default), its Key Vault role assignments, the
 * SecretProviderClass (rendered by the shared core) and the ServiceAccount in the team's namespace. Use
 * `wiring()` for the volume, mount and env vars of a Deployment (`combineSecretStoreWirings` for several stores
 * in one Deployment). The SecretProviderClass is a child: depend on the store, or use `secretProviderClassName`,
 * which resolves once the SecretProviderClass exists.
 */
export class SecretStore extends pulumi.ComponentResource {
  /**
   * The ServiceAccount the team's pods run as (annotated with the identity's client id in workload identity mode),
   * unless `createServiceAccount` is false.
   */
  public readonly serviceAccount: ServiceAccount | undefined;
  /** The user-assigned managed identity (workload identity mode). */
  public readonly identity: managedidentity.UserAssignedIdentity | undefined;
  /** Its federated credentials (workload identity mode), in creation order. */
  public readonly federatedCredentials: managedidentity.FederatedIdentityCredential[];
  /** The AKS IdentityBinding of the identity to the cluster (identity binding mode). */
  public readonly identityBinding: containerservice.IdentityBinding | undefined;
  /** The ClusterRole granting `use-managed-identity` on the identity (identity binding mode). */
  public readonly identityBindingClusterRole: ClusterRole | undefined;
  /** Its binding to the store's ServiceAccount (identity binding mode). */
  public readonly identityBindingClusterRoleBinding: ClusterRoleBinding | undefined;
  /** The identity's role assignments on the vault or its objects (none with the add-on identity). */
  public readonly roleAssignments: authorization.RoleAssignment[];
  /** Name of the SecretProviderClass (resolves once it exists). */
  public readonly secretProviderClassName: pulumi.Output<string>;
  /** Namespace of the SecretProviderClass and the ServiceAccount. */
  public readonly namespace: pulumi.Output<string>;
  /** Name of the ServiceAccount. */
  public readonly serviceAccountName: pulumi.Output<string>;
  /** Name of the Key Vault the SecretProviderClass reads. */
  public readonly keyVaultName: pulumi.Output<string>;
  /** Client id of the identity the SecretProviderClass uses. */
  public readonly clientId: pulumi.Output<string>;

  constructor(name: string, args: SecretStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    const plan = planSecretStore(name, args);
    super(componentType('SecretStore'), name, {}, opts);
    plans.set(this, plan);

    // Kubernetes children wait for what the component waits for (its Namespace, the CRDs of an install).
    const waitFor = opts?.dependsOn
      ? pulumi.output(opts.dependsOn).apply((d) => (Array.isArray(d) ? d : [d]))
      : undefined;
    const k8sOpts = { parent: this, provider: args.kubernetesProvider };
    let clientId: pulumi.Input<string>;
    let workloadIdentity: WorkloadIdentity | undefined;
    if (plan.workloadIdentity) {
      // The store owns the ServiceAccount in both identity modes, so switching modes updates it in place.
      workloadIdentity = new WorkloadIdentity(
        name,
        {
          resourceGroupName: args.resourceGroupName!,
          location: args.location,
          issuerUrl: args.issuerUrl!,
          namespace: plan.namespace,
          serviceAccountName: plan.serviceAccountName,
          federatedCredentials: args.federatedCredentials,
          createServiceAccount: false,
          kubernetesProvider: args.kubernetesProvider,
        },
        { parent: this, dependsOn: opts?.dependsOn },
      );
      const roleAssignments = new KeyVaultRoleAssignments(
        name,
        {
          vaultId: args.vaultId,
          principalId: workloadIdentity.principalId,
          ...plan.grants,
          additionalRoles: args.additionalRoles,
        },
        { parent: this },
      );
      this.identity = workloadIdentity.identity;
      this.federatedCredentials = workloadIdentity.federatedCredentials;
      this.roleAssignments = roleAssignments.assignments;
      clientId = workloadIdentity.clientId;
    } else if (plan.identityBinding) {
      this.identity = new managedidentity.UserAssignedIdentity(
        name,
        { resourceGroupName: args.resourceGroupName!, location: args.location },
        { parent: this },
      );
      this.federatedCredentials = [];
      this.roleAssignments = new KeyVaultRoleAssignments(
        name,
        {
          vaultId: args.vaultId,
          principalId: this.identity.principalId,
          ...plan.grants,
          additionalRoles: args.additionalRoles,
        },
        { parent: this },
      ).assignments;
      clientId = this.identity.clientId;
    } else {
      this.identity = undefined;
      this.federatedCredentials = [];
      this.roleAssignments = [];
      clientId = args.addonIdentityClientId!;
    }

    this.serviceAccount =
      args.createServiceAccount === false
        ? undefined
        : teamServiceAccount(
            name,
            {
              name: plan.serviceAccountName,
              namespace: plan.namespace,
              workloadIdentityClientId: workloadIdentity?.clientId,
            },
            {
              ...k8sOpts,
              dependsOn: waitFor,
              // Until 0.1 the WorkloadIdentity child created the ServiceAccount in workload identity mode.
              aliases: workloadIdentity ? [{ parent: workloadIdentity }] : [],
            },
          );

    let identityBindingReady: pulumi.Resource[] = [];
    if (plan.identityBinding) {
      const binding = args.identityBinding!;
      this.identityBinding = new containerservice.IdentityBinding(
        name,
        {
          resourceGroupName: binding.clusterResourceGroupName,
          resourceName: binding.clusterName,
          identityBindingName: binding.identityBindingName,
          properties: { managedIdentity: { resourceId: this.identity!.id } },
        },
        { parent: this },
      );
      // The core renders the RBAC (name, rule, subject) once the client id is known.
      const [role, roleBinding] = [0, 1].map((i) =>
        pulumi
          .all([clientId, plan.namespace, plan.serviceAccountName])
          .apply(
            ([resolvedClientId, namespace, serviceAccountName]) =>
              identityBindingRbac({ clientId: resolvedClientId, namespace, serviceAccountName })[i],
          ),
      );
      this.identityBindingClusterRole = new ClusterRole(
        `${name}-use-identity`,
        { metadata: role.apply((o) => o.metadata), rules: role.apply((o) => o.rules as never) },
        { ...k8sOpts, dependsOn: waitFor },
      );
      this.identityBindingClusterRoleBinding = new ClusterRoleBinding(
        `${name}-use-identity`,
        {
          metadata: roleBinding.apply((o) => o.metadata),
          roleRef: roleBinding.apply((o) => o.roleRef as never),
          subjects: roleBinding.apply((o) => o.subjects as never),
        },
        { ...k8sOpts, dependsOn: [this.identityBindingClusterRole] },
      );
      identityBindingReady = [this.identityBinding, this.identityBindingClusterRoleBinding];
    } else {
      this.identityBinding = undefined;
      this.identityBindingClusterRole = undefined;
      this.identityBindingClusterRoleBinding = undefined;
    }

    const spec = pulumi
      .all([plan.keyVaultName, args.tenantId, clientId, plan.spcName, plan.namespace])
      .apply(([keyVaultName, tenantId, resolvedClientId, spcName, namespace]) =>
        renderSecretProviderClass({
          ...plan.spcProps,
          name: spcName,
          namespace,
          keyVaultName,
          tenantId,
          ...identityProps(plan, resolvedClientId),
        }),
      )
      .apply((spc) => spc.spec as Record<string, unknown>);
    const roleAssignments = this.roleAssignments;
    const secretProviderClass = new CustomResource(
      name,
      {
        apiVersion: SECRET_PROVIDER_CLASS_API_VERSION,
        kind: SECRET_PROVIDER_CLASS_KIND,
        metadata: { name: plan.spcName, namespace: plan.namespace, labels: args.labels },
        spec,
      },
      // Pods mounting it authenticate as the identity, which needs its roles (and its binding) first.
      {
        ...k8sOpts,
        dependsOn: pulumi
          .output(waitFor ?? [])
          .apply((d) => [...d, ...roleAssignments, ...identityBindingReady]),
      },
    );

    this.secretProviderClassName = secretProviderClass.metadata.name;
    this.namespace = pulumi.output(plan.namespace);
    this.serviceAccountName = pulumi.output(plan.serviceAccountName);
    this.keyVaultName = pulumi.output(plan.keyVaultName);
    this.clientId = pulumi.output(clientId);
    this.registerOutputs({
      serviceAccount: this.serviceAccount,
      identity: this.identity,
      federatedCredentials: this.federatedCredentials,
      identityBinding: this.identityBinding,
      identityBindingClusterRole: this.identityBindingClusterRole,
      identityBindingClusterRoleBinding: this.identityBindingClusterRoleBinding,
      roleAssignments: this.roleAssignments,
      secretProviderClassName: this.secretProviderClassName,
      namespace: this.namespace,
      serviceAccountName: this.serviceAccountName,
      keyVaultName: this.keyVaultName,
      clientId: this.clientId,
    });
  }

  /**
   * The pod-spec entries a Deployment needs to use the store: serviceAccountName, pod labels, the read-only CSI
   * volume, its mount, and env vars from synced Secrets. Throws a ValidationError naming the field for an env var
   * whose Secret or key the store does not sync.
   */
  public wiring(args: SecretStoreWiringArgs = {}): SecretStoreWiring {
    return secretStoreWiring(plans.get(this)!, args);
  }
}

/**
 * What a store resolved at construction, kept off the instance: Pulumi's schema inference turns every field of a
 * component into a schema output, and this is no output.
 */
const plans = new WeakMap<SecretStore, SecretStorePlan>();

/** What a SecretStore resolved from its args at construction. */
interface SecretStorePlan {
  readonly workloadIdentity: boolean;
  readonly identityBinding: boolean;
  /** The store's plain name: the SPC name when known at construction, else the component name. */
  readonly store: string;
  readonly spcName: pulumi.Input<string>;
  readonly namespace: pulumi.Input<string>;
  readonly serviceAccountName: pulumi.Input<string>;
  readonly keyVaultName: pulumi.Input<string>;
  /** What the role assignments grant, per the scope option. */
  readonly grants: Pick<KeyVaultRoleAssignmentsArgs, 'objectTypes' | 'objects'>;
  /** SPC props without the values known only at deployment. */
  readonly spcProps: Omit<SecretProviderClassProps, 'name' | 'namespace' | 'keyVaultName' | 'tenantId'>;
}

/** The SPC's identity fields for the store's mode. */
function identityProps(
  plan: Pick<SecretStorePlan, 'workloadIdentity' | 'identityBinding'>,
  clientId: string,
): Pick<
  SecretProviderClassProps,
  'workloadIdentityClientId' | 'identityBindingClientId' | 'userAssignedIdentityClientId'
> {
  if (plan.workloadIdentity) return { workloadIdentityClientId: clientId };
  if (plan.identityBinding) return { identityBindingClientId: clientId };
  return { userAssignedIdentityClientId: clientId };
}

function known(value: pulumi.Input<string> | undefined, standIn: string): string {
  return knownValue(value) ?? standIn;
}

/** Validates {@link SecretStoreArgs} with the shared core's rules; throws a ValidationError naming the field. */
function planSecretStore(name: string, args: SecretStoreArgs): SecretStorePlan {
  const identityBinding = args.identityBinding !== undefined;
  if (identityBinding && args.issuerUrl !== undefined) {
    throw new ValidationError(
      'identityBinding',
      'is set together with issuerUrl, but a SecretProviderClass uses one identity; keep issuerUrl for workload identity or identityBinding for identity binding (AKS federates the identity itself)',
    );
  }
  if (identityBinding && args.addonIdentityClientId !== undefined) {
    throw new ValidationError(
      'identityBinding',
      'is set together with addonIdentityClientId, but a SecretProviderClass uses one identity; keep one of them',
    );
  }
  if (identityBinding && args.federatedCredentials !== undefined) {
    throw new ValidationError(
      'federatedCredentials',
      "are for workload identity; with identityBinding AKS keeps the identity's one federated credential itself, so remove federatedCredentials",
    );
  }
  if (identityBinding && args.resourceGroupName === undefined) {
    throw new ValidationError(
      'resourceGroupName',
      'is required for identity binding: the managed identity is created there',
    );
  }
  const workloadIdentity = args.addonIdentityClientId === undefined && !identityBinding;
  if (workloadIdentity && args.issuerUrl === undefined) {
    throw new ValidationError(
      'issuerUrl',
      'is required for workload identity (the default); pass oidcIssuerUrlOf(cluster), set identityBinding for AKS identity binding, or set addonIdentityClientId to use the add-on identity',
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
  const spcName = checkedInput(args.secretProviderClassName ?? name, (value) =>
    validateDns1123Subdomain(value, 'secretProviderClassName'),
  );
  const namespace = checkedInput(args.namespace, (value) => validateDns1123Label(value, 'namespace'));
  const store = knownValue(spcName) ?? name;
  const spcProps = {
    objects: args.objects,
    secretObjects: args.secretObjects,
    labels: args.labels,
    serveLastKnownContentOnOutage: args.serveLastKnownContentOnOutage,
  };
  const keyVaultName = keyVaultNameOf(args.vaultId, args.keyVaultName);
  validateSecretProviderClass({
    ...spcProps,
    name: store,
    namespace: known(namespace, UNKNOWN_NAMESPACE),
    keyVaultName: known(keyVaultName, UNKNOWN_VAULT_NAME),
    tenantId: known(args.tenantId, UNKNOWN_GUID),
    ...identityProps(
      { workloadIdentity, identityBinding },
      workloadIdentity || identityBinding ? UNKNOWN_GUID : known(args.addonIdentityClientId, UNKNOWN_GUID),
    ),
  });
  let serviceAccountName = args.serviceAccountName ?? spcName;
  const scope = args.roleAssignmentScope ?? RoleAssignmentScope.VAULT;
  const objectTypes = args.objects.map((object) => object.objectType);
  const grants =
    scope === RoleAssignmentScope.OBJECT
      ? {
          objectTypes: [],
          objects: args.objects.map(({ objectName, objectType }) => ({ objectName, objectType })),
        }
      : { objectTypes };
  if (scope !== RoleAssignmentScope.VAULT && scope !== RoleAssignmentScope.OBJECT) {
    throw new ValidationError(
      'roleAssignmentScope',
      `"${String(scope)}" is not a role assignment scope; use RoleAssignmentScope.VAULT or RoleAssignmentScope.OBJECT`,
    );
  }
  if (workloadIdentity) {
    serviceAccountName = validateWorkloadIdentityArgs({
      resourceGroupName: args.resourceGroupName!,
      issuerUrl: args.issuerUrl!,
      namespace,
      serviceAccountName,
      federatedCredentials: args.federatedCredentials,
    }).serviceAccountName;
    keyVaultRolesFor({ objectTypes, additionalRoles: args.additionalRoles });
  } else if (identityBinding) {
    serviceAccountName = checkedInput(serviceAccountName, (value) =>
      validateDns1123Subdomain(value, 'serviceAccountName'),
    );
    const [knownNamespace, knownAccount] = [knownValue(namespace), knownValue(serviceAccountName)];
    // The RBAC's rules (e.g. the ClusterRole name's length) with a stand-in client id of the same length.
    if (knownNamespace !== undefined && knownAccount !== undefined)
      identityBindingRbac({
        clientId: UNKNOWN_GUID,
        namespace: knownNamespace,
        serviceAccountName: knownAccount,
      });
    keyVaultRolesFor({ objectTypes, additionalRoles: args.additionalRoles });
  } else {
    serviceAccountName = checkedInput(serviceAccountName, (value) =>
      validateDns1123Subdomain(value, 'serviceAccountName'),
    );
  }
  return {
    workloadIdentity,
    identityBinding,
    store,
    spcName,
    namespace,
    serviceAccountName,
    keyVaultName,
    grants,
    spcProps,
  };
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function secretStoreWiring(plan: SecretStorePlan, args: SecretStoreWiringArgs): SecretStoreWiring {
  const mountPath = args.mountPath ?? defaultSecretsStoreMountPath(plan.store);
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
    validateSyncedSecretKey(synced, variable.secretName, variable.key, plan.store, `${field}.`);
    return {
      name: variable.name,
      valueFrom: { secretKeyRef: { name: variable.secretName, key: variable.key } },
    };
  });
  const volumeName = secretsStoreVolumeName(plan.store);
  return {
    store: plan.store,
    serviceAccountName: plan.serviceAccountName,
    podLabels: plan.workloadIdentity ? { [WORKLOAD_IDENTITY_USE_LABEL]: 'true' } : {},
    volume: {
      name: volumeName,
      csi: {
        driver: SECRETS_STORE_CSI_DRIVER_NAME,
        readOnly: true,
        volumeAttributes: { secretProviderClass: plan.spcName },
      },
    },
    volumeMount: { name: volumeName, mountPath, readOnly: true },
    env,
  };
}

/** Pod-spec entries of several stores wired into one Deployment (one container mounts them all). */
export interface CombinedSecretStoreWiring {
  /** The pod's `serviceAccountName` (the stores must agree on it). */
  serviceAccountName: pulumi.Input<string>;
  /** Labels for the pod template. */
  podLabels: Record<string, string>;
  /** The stores' volumes, for `spec.volumes`. */
  volumes: SecretStoreWiring['volume'][];
  /** Their mounts, for a container's `volumeMounts`. */
  volumeMounts: SecretStoreWiring['volumeMount'][];
  /** Env vars from synced Secrets, for a container's `env`. */
  env: SecretStoreWiring['env'];
}

/**
 * Combines the wirings of several stores for one pod. Throws a ValidationError naming both stores when two
 * mounts share or nest a path, two stores want different ServiceAccounts (a pod runs as one: create the
 * second store with `createServiceAccount: false` and the first store's `serviceAccountName`), or two env vars
 * have one name.
 */
export function combineSecretStoreWirings(wirings: SecretStoreWiring[]): CombinedSecretStoreWiring {
  checkSecretsStoreMountsApart(
    wirings.map((w) => ({ store: w.store, path: w.volumeMount.mountPath })),
    'volumeMounts',
  );
  const accounts = wirings.map((w) => ({ store: w.store, name: w.serviceAccountName }));
  const checkAccounts = (names: string[]): void => {
    names.forEach((account, i) => {
      if (account !== names[0]) {
        throw new ValidationError(
          'serviceAccountName',
          `stores "${accounts[0].store}" and "${accounts[i].store}" want ServiceAccounts "${names[0]}" and "${account}", but a pod runs as one; create "${accounts[i].store}" with createServiceAccount: false and serviceAccountName: "${names[0]}"`,
        );
      }
    });
  };
  const knownNames = accounts.map((a) => knownValue(a.name));
  const serviceAccountName = knownNames.every((n): n is string => n !== undefined)
    ? (checkAccounts(knownNames), knownNames[0])
    : pulumi.all(accounts.map((a) => a.name)).apply((names) => (checkAccounts(names), names[0]));
  const env = wirings.flatMap((w) => w.env.map((variable) => ({ store: w.store, variable })));
  env.forEach(({ store, variable }, i) => {
    const earlier = env.slice(0, i).find((other) => other.variable.name === variable.name);
    if (earlier) {
      throw new ValidationError(
        'env',
        `stores "${earlier.store}" and "${store}" both set env var "${variable.name}"; rename one of them`,
      );
    }
  });
  return {
    serviceAccountName,
    podLabels: Object.assign({}, ...wirings.map((w) => w.podLabels)),
    volumes: wirings.map((w) => w.volume),
    volumeMounts: wirings.map((w) => w.volumeMount),
    env: env.map(({ variable }) => variable),
  };
}
