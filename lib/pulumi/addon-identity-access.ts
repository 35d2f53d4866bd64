import * as pulumi from '@pulumi/pulumi';
import type * as authorization from '@pulumi/azure-native/authorization';
import type * as containerservice from '@pulumi/azure-native/containerservice';
import { KEY_VAULT_SECRETS_PROVIDER_ADDON_KEY } from '../core/addon-profile';
import { KeyVaultRole } from '../core/key-vault-roles';
import { KeyVaultObjectType } from '../core/key-vault-objects';
import { ValidationError } from '../core/validation/validation-error';
import { componentType } from './component-type';
import { KeyVaultRoleAssignments, keyVaultRolesFor } from './key-vault-role-assignments';

const roleAssignmentsOf = new WeakMap<AddonIdentityAccess, KeyVaultRoleAssignments>();

export interface AddonIdentityAccessArgs {
  /** The AKS cluster with the `azureKeyvaultSecretsProvider` add-on enabled (see `keyVaultSecretsProviderAddon`). */
  cluster: containerservice.ManagedCluster;
  /** Resource id of the vault the add-on identity reads (`KeyVault.vaultId`). */
  vaultId: pulumi.Input<string>;
  /**
   * Object types the SecretProviderClasses using the add-on identity mount.
   * @default [KeyVaultObjectType.SECRET]
   */
  objectTypes?: KeyVaultObjectType[];
  /**
   * Roles to grant in addition to those for `objectTypes`.
   * @default - none
   */
  additionalRoles?: KeyVaultRole[];
  /**
   * Subscription of the role definitions.
   * @default - the subscription Pulumi runs against
   */
  subscriptionId?: pulumi.Input<string>;
}

/**
 * Grants the AKS add-on's own identity (`azurekeyvaultsecretsprovider-<cluster>`, created by AKS in the node
 * resource group) the Key Vault roles for the object types its mounts read. SecretProviderClasses then use it
 * with `userAssignedIdentityClientId: addonIdentityClientId`. Every pod on the nodes can use this identity;
 * prefer a WorkloadIdentity per team where that matters.
 */
export class AddonIdentityAccess extends pulumi.ComponentResource {
  /** Client id of the add-on identity: the SecretProviderClass `userAssignedIdentityID`. */
  public readonly addonIdentityClientId: pulumi.Output<string>;
  /** Object id of the add-on identity: the principal of the role assignments. */
  public readonly addonIdentityObjectId: pulumi.Output<string>;
  /** The role assignments by role definition GUID. */
  public readonly assignments: Record<string, authorization.RoleAssignment>;

  /** The role assignments component (a getter: a component package schema cannot reference our own components). */
  public get roleAssignments(): KeyVaultRoleAssignments {
    return roleAssignmentsOf.get(this)!;
  }

  constructor(name: string, args: AddonIdentityAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    const objectTypes = args.objectTypes ?? [KeyVaultObjectType.SECRET];
    keyVaultRolesFor({ objectTypes, additionalRoles: args.additionalRoles });
    super(componentType('AddonIdentityAccess'), name, {}, opts);

    const identity = args.cluster.addonProfiles.apply(addonIdentityOf);
    this.addonIdentityClientId = identity.clientId;
    this.addonIdentityObjectId = identity.objectId;
    const roleAssignments = new KeyVaultRoleAssignments(
      name,
      {
        vaultId: args.vaultId,
        principalId: this.addonIdentityObjectId,
        objectTypes,
        additionalRoles: args.additionalRoles,
        subscriptionId: args.subscriptionId,
      },
      { parent: this },
    );
    roleAssignmentsOf.set(this, roleAssignments);
    this.assignments = roleAssignments.assignments;
    this.registerOutputs({
      addonIdentityClientId: this.addonIdentityClientId,
      addonIdentityObjectId: this.addonIdentityObjectId,
    });
  }
}

/** The add-on identity in a cluster's `addonProfiles` output; throws a ValidationError when the add-on is off. */
export function addonIdentityOf(
  profiles: Record<string, { identity?: { clientId?: string; objectId?: string } }> | undefined,
): { clientId: string; objectId: string } {
  const found = profiles?.[KEY_VAULT_SECRETS_PROVIDER_ADDON_KEY]?.identity;
  if (!found?.objectId || !found.clientId) {
    throw new ValidationError(
      `cluster.addonProfiles.${KEY_VAULT_SECRETS_PROVIDER_ADDON_KEY}.identity`,
      'is missing, so the add-on is not enabled on this cluster; add keyVaultSecretsProviderAddon() to the cluster addonProfiles',
    );
  }
  return { clientId: found.clientId, objectId: found.objectId };
}
