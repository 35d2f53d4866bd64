import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization';
import { KeyVaultRole, roleDefinitionId, rolesForObjectTypes } from '../core/key-vault-roles';
import { KeyVaultObjectType } from '../core/key-vault-objects';
import { ValidationError } from '../core/validation/validation-error';
import { componentType } from './component-type';
import { roleAssignmentGuid } from './deterministic-guid';

export interface KeyVaultRoleAssignmentsArgs {
  /** Resource id of the vault: the scope of every assignment (`KeyVault.vaultId`). */
  vaultId: pulumi.Input<string>;
  /**
   * Object (principal) id of the managed identity that reads the vault: `WorkloadIdentity.principalId`, or the
   * add-on identity's `objectId`.
   */
  principalId: pulumi.Input<string>;
  /**
   * Object types the identity mounts; the least-privilege roles for them come from the shared core
   * (`secret` → Key Vault Secrets User, `key`/`cert` → Key Vault Reader).
   * @default - none; then `roles` must be set
   */
  objectTypes?: KeyVaultObjectType[];
  /**
   * Roles to grant in addition to those for `objectTypes`.
   * @default - none
   */
  additionalRoles?: KeyVaultRole[];
  /**
   * Subscription of the role definitions.
   * @default - the subscription Pulumi runs against (authorization.getClientConfig)
   */
  subscriptionId?: pulumi.Input<string>;
}

/**
 * Grants a managed identity the Key Vault data-plane roles its mounts need, one RoleAssignment per
 * role, scoped to the vault, with `principalType: ServicePrincipal` (the SDK default "User" fails for
 * managed identities, and naming the type avoids PrincipalNotFound right after the identity is
 * created) and a name derived from (scope, principal, role).
 */
export class KeyVaultRoleAssignments extends pulumi.ComponentResource {
  /** Role assignments by role definition GUID. */
  public readonly assignments: Record<string, authorization.RoleAssignment>;
  /** The roles granted, in a stable order. */
  public readonly roles: KeyVaultRole[];

  constructor(name: string, args: KeyVaultRoleAssignmentsArgs, opts?: pulumi.ComponentResourceOptions) {
    const roles = keyVaultRolesFor(args);
    super(componentType('KeyVaultRoleAssignments'), name, {}, opts);

    const subscriptionId =
      args.subscriptionId ?? authorization.getClientConfigOutput({ parent: this }).subscriptionId;
    this.roles = roles;
    this.assignments = {};
    for (const role of roles) {
      const definitionId = pulumi.output(subscriptionId).apply((sub) => roleDefinitionId(sub, role));
      this.assignments[role] = new authorization.RoleAssignment(
        `${name}-${roleSlug(role)}`,
        {
          scope: args.vaultId,
          principalId: args.principalId,
          principalType: authorization.PrincipalType.ServicePrincipal,
          roleDefinitionId: definitionId,
          roleAssignmentName: pulumi
            .all([args.vaultId, args.principalId, definitionId])
            .apply(([scope, principal, definition]) => roleAssignmentGuid(scope, principal, definition)),
        },
        { parent: this },
      );
    }
    this.registerOutputs({ roles: this.roles });
  }
}

/** The roles {@link KeyVaultRoleAssignments} grants; throws a ValidationError naming the field. */
export function keyVaultRolesFor(
  args: Pick<KeyVaultRoleAssignmentsArgs, 'objectTypes' | 'additionalRoles'>,
): KeyVaultRole[] {
  const known = Object.values(KeyVaultRole) as string[];
  (args.additionalRoles ?? []).forEach((role, i) => {
    if (!known.includes(role)) {
      throw new ValidationError(
        `additionalRoles[${i}]`,
        `"${String(role)}" is not a Key Vault built-in role; use a KeyVaultRole value such as KeyVaultRole.SECRETS_USER`,
      );
    }
  });
  const roles = [...rolesForObjectTypes(args.objectTypes ?? [])];
  for (const role of args.additionalRoles ?? []) if (!roles.includes(role)) roles.push(role);
  if (roles.length === 0) {
    throw new ValidationError(
      'objectTypes',
      'grants no role; list the object types the identity mounts (e.g. [KeyVaultObjectType.SECRET]) or set additionalRoles',
    );
  }
  return roles;
}

/** `SECRETS_USER` → `secrets-user`: the Pulumi resource name suffix of a role's assignment. */
export function roleSlug(role: KeyVaultRole): string {
  const key = Object.entries(KeyVaultRole).find(([, value]) => value === role)?.[0] ?? role;
  return key.toLowerCase().replace(/_/g, '-');
}
