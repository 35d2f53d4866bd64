import * as pulumi from '@pulumi/pulumi';
import type * as authorization from '@pulumi/azure-native/authorization';
import type * as containerservice from '@pulumi/azure-native/containerservice';
import { KEY_VAULT_SECRETS_PROVIDER_ADDON_KEY } from '../core/addon-profile';
import { KeyVaultRole } from '../core/key-vault-roles';
import { KeyVaultObjectType } from '../core/key-vault-objects';
import { ValidationError } from '../core/validation/validation-error';
import { componentType } from './component-type';
import {
  KeyVaultObjectGrantArgs,
  KeyVaultRoleAssignments,
  keyVaultRolesFor,
} from './key-vault-role-assignments';

export interface AddonIdentityAccessArgs {
  /** The AKS cluster with the `azureKeyvaultSecretsProvider` add-on enabled (see `keyVaultSecretsProviderAddon`). */
  cluster: containerservice.ManagedCluster;
  /** Resource id of the vault the add-on identity reads (`KeyVault.vaultId`). */
  vaultId: pulumi.Input<string>;
  /**
   * Object types the SecretProviderClasses using the add-on identity mount, granted on the whole vault.
   * @default [KeyVaultObjectType.SECRET], unless `objects` is set
   */
  objectTypes?: KeyVaultObjectType[];
  /**
   * The objects those SecretProviderClasses mount, each granted on that object only (every pod on the nodes
   * can use the add-on identity, so grant it no more than they read).
   * @default - none
   */
  objects?: KeyVaultObjectGrantArgs[];
  /**
   * Roles to grant on the whole vault in addition to those above.
   * @default - none
   */
  additionalRoles?: KeyVaultRole[];
}

/**
 * Grants the AKS add-on's own identity (`azurekeyvaultsecretsprovider-<cluster>`, created by AKS in the node
 * resource group) the Key Vault roles for what its mounts read. SecretProviderClasses then use it with
 * `userAssignedIdentityClientId: addonIdentityClientId`. Every pod on the nodes can use this identity;
 * prefer a WorkloadIdentity per team where that matters, or grant per object (`objects`).
 */
export class AddonIdentityAccess extends pulumi.ComponentResource {
  /** Client id of the add-on identity: the SecretProviderClass `userAssignedIdentityID`. */
  public readonly addonIdentityClientId: pulumi.Output<string>;
  /** Object id of the add-on identity: the principal of the role assignments. */
  public readonly addonIdentityObjectId: pulumi.Output<string>;
  /** The role assignments. */
  public readonly assignments: authorization.RoleAssignment[];

  constructor(name: string, args: AddonIdentityAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    const objects = args.objects ?? [];
    const objectTypes = args.objectTypes ?? (objects.length > 0 ? [] : [KeyVaultObjectType.SECRET]);
    keyVaultRolesFor({ objectTypes, additionalRoles: args.additionalRoles }, objects.length > 0);
    super(componentType('AddonIdentityAccess'), name, {}, opts);

    const identity = args.cluster.addonProfiles.apply(addonIdentityOf);
    this.addonIdentityClientId = identity.clientId;
    this.addonIdentityObjectId = identity.objectId;
    this.assignments = new KeyVaultRoleAssignments(
      name,
      {
        vaultId: args.vaultId,
        principalId: this.addonIdentityObjectId,
        objectTypes,
        objects,
        additionalRoles: args.additionalRoles,
      },
      { parent: this },
    ).assignments;
    this.registerOutputs({
      addonIdentityClientId: this.addonIdentityClientId,
      addonIdentityObjectId: this.addonIdentityObjectId,
      assignments: this.assignments,
    });
  }
}

/**
 * The add-on profile in a cluster's `addonProfiles`, found case-insensitively as ARM and the az CLI do
 * (clusters exist with `azureKeyvaultSecretsProvider`, `azureKeyVaultSecretsProvider`, ...).
 */
export function findSecretsProviderAddon<T>(profiles: Record<string, T> | undefined): T | undefined {
  const wanted = KEY_VAULT_SECRETS_PROVIDER_ADDON_KEY.toLowerCase();
  const key = Object.keys(profiles ?? {}).find((candidate) => candidate.toLowerCase() === wanted);
  return key === undefined ? undefined : profiles![key];
}

/** The add-on identity in a cluster's `addonProfiles` output; throws a ValidationError when the add-on is off. */
export function addonIdentityOf(
  profiles: Record<string, { identity?: { clientId?: string; objectId?: string } }> | undefined,
): { clientId: string; objectId: string } {
  const found = findSecretsProviderAddon(profiles)?.identity;
  if (!found?.objectId || !found.clientId) {
    throw new ValidationError(
      `cluster.addonProfiles.${KEY_VAULT_SECRETS_PROVIDER_ADDON_KEY}.identity`,
      'is missing, so the add-on is not enabled on this cluster; add keyVaultSecretsProviderAddon() to the cluster addonProfiles',
    );
  }
  return { clientId: found.clientId, objectId: found.objectId };
}
