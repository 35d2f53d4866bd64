import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization';
import { KeyVaultRole, roleDefinitionId, rolesForObjectTypes } from '../core/key-vault-roles';
import { KeyVaultObjectType } from '../core/key-vault-objects';
import { ValidationError } from '../core/validation/validation-error';
import { componentType } from './component-type';
import { roleAssignmentGuid } from './deterministic-guid';
import { checkedInput } from './known-inputs';
import { parseVaultId } from './vault-id';

/** Where the roles of the objects a store mounts are granted. */
export enum RoleAssignmentScope {
  /** On the whole vault: the identity can read every object of the granted kinds in it. */
  VAULT = 'vault',
  /**
   * On each object (`<vault>/secrets/<name>`, `/keys/<name>`, `/certificates/<name>`): in a vault shared by
   * teams, one team's identity cannot read another team's objects.
   */
  OBJECT = 'object',
}

/** An object an identity reads, for object-scoped role assignments. */
export interface KeyVaultObjectGrantArgs {
  /** Name of the object in the vault. */
  objectName: string;
  /** Its type; the role follows it (`secret` → Key Vault Secrets User, `key`/`cert` → Key Vault Reader). */
  objectType: KeyVaultObjectType;
}

export interface KeyVaultRoleAssignmentsArgs {
  /**
   * Resource id of the vault (`KeyVault.vaultId`): the scope of the assignments, and the subscription of the
   * role definitions.
   */
  vaultId: pulumi.Input<string>;
  /**
   * Object (principal) id of the managed identity that reads the vault: `WorkloadIdentity.principalId`, or the
   * add-on identity's `objectId`.
   */
  principalId: pulumi.Input<string>;
  /**
   * Object types the identity mounts; their least-privilege roles are granted on the whole vault.
   * @default - none
   */
  objectTypes?: KeyVaultObjectType[];
  /**
   * Objects the identity mounts; each one's least-privilege role is granted on that object only.
   * @default - none
   */
  objects?: KeyVaultObjectGrantArgs[];
  /**
   * Roles to grant on the whole vault in addition to those above.
   * @default - none
   */
  additionalRoles?: KeyVaultRole[];
}

/** One assignment to create: a role on a scope below (or at) the vault. */
interface PlannedAssignment {
  readonly role: KeyVaultRole;
  /** Path below the vault id (`''` for the vault, `/secrets/<name>` for one secret). */
  readonly scopeSuffix: string;
  /** Pulumi resource name suffix. */
  readonly key: string;
}

const SCOPE_SEGMENT: Record<KeyVaultObjectType, string> = {
  [KeyVaultObjectType.SECRET]: 'secrets',
  [KeyVaultObjectType.KEY]: 'keys',
  [KeyVaultObjectType.CERT]: 'certificates',
};

/**
 * Grants a managed identity the Key Vault data-plane roles its mounts need, one RoleAssignment per role and
 * scope (the vault, or each object), with `principalType: ServicePrincipal` (the SDK default "User" fails for
 * managed identities, and naming the type avoids PrincipalNotFound right after the identity is created), role
 * definitions of the vault's own subscription, and a name derived from (scope, principal, role).
 */
export class KeyVaultRoleAssignments extends pulumi.ComponentResource {
  /** Role assignments, in a stable order (vault-wide first, then per object). */
  public readonly assignments: authorization.RoleAssignment[];
  /** The roles granted, each once. */
  public readonly roles: KeyVaultRole[];

  constructor(name: string, args: KeyVaultRoleAssignmentsArgs, opts?: pulumi.ComponentResourceOptions) {
    const planned = planRoleAssignments(args);
    const checkedVaultId = checkedInput(args.vaultId, (id) => parseVaultId(id));
    super(componentType('KeyVaultRoleAssignments'), name, {}, opts);

    const vaultId = pulumi.output(checkedVaultId);
    // Built-in role definitions are addressed in the subscription of the scope they are assigned on.
    const subscriptionId = vaultId.apply((id) => parseVaultId(id).subscriptionId);
    this.roles = [...new Set(planned.map((assignment) => assignment.role))];
    this.assignments = planned.map((assignment) => {
      const definitionId = subscriptionId.apply((sub) => roleDefinitionId(sub, assignment.role));
      const scope = pulumi.interpolate`${vaultId}${assignment.scopeSuffix}`;
      return new authorization.RoleAssignment(
        `${name}-${assignment.key}`,
        {
          scope,
          principalId: args.principalId,
          principalType: authorization.PrincipalType.ServicePrincipal,
          roleDefinitionId: definitionId,
          roleAssignmentName: pulumi
            .all([scope, args.principalId, definitionId])
            .apply(([s, principal, definition]) => roleAssignmentGuid(s, principal, definition)),
        },
        { parent: this },
      );
    });
    this.registerOutputs({ assignments: this.assignments, roles: this.roles });
  }
}

/** The assignments {@link KeyVaultRoleAssignments} creates; throws a ValidationError naming the field. */
function planRoleAssignments(args: KeyVaultRoleAssignmentsArgs): PlannedAssignment[] {
  const vaultWide = keyVaultRolesFor(args, (args.objects ?? []).length > 0).map((role) => ({
    role,
    scopeSuffix: '',
    key: roleSlug(role),
  }));
  const perObject = (args.objects ?? []).map((object, i) => {
    const segment = SCOPE_SEGMENT[object.objectType];
    if (!segment) {
      throw new ValidationError(
        `objects[${i}].objectType`,
        `unknown Key Vault object type "${String(object.objectType)}"; use KeyVaultObjectType.SECRET, KEY or CERT`,
      );
    }
    const [role] = rolesForObjectTypes([object.objectType]);
    return {
      role,
      scopeSuffix: `/${segment}/${object.objectName}`,
      key: `${roleSlug(role)}-${segment}-${object.objectName}`,
    };
  });
  const seen = new Set<string>();
  return [...vaultWide, ...perObject].filter((assignment) => {
    // The same object mounted twice (e.g. two aliases) needs one assignment.
    const key = assignment.key.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The vault-wide roles for `objectTypes` and `additionalRoles`; throws a ValidationError naming the field.
 * `hasObjectGrants` says per-object grants exist, so no vault-wide role is then required.
 */
export function keyVaultRolesFor(
  args: Pick<KeyVaultRoleAssignmentsArgs, 'objectTypes' | 'additionalRoles'>,
  hasObjectGrants = false,
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
  if (roles.length === 0 && !hasObjectGrants) {
    throw new ValidationError(
      'objectTypes',
      'grants no role; list the object types the identity mounts (e.g. [KeyVaultObjectType.SECRET]), the objects, or additionalRoles',
    );
  }
  return roles;
}

/** `SECRETS_USER` → `secrets-user`: the Pulumi resource name suffix of a role's assignment. */
export function roleSlug(role: KeyVaultRole): string {
  const key = Object.entries(KeyVaultRole).find(([, value]) => value === role)?.[0] ?? role;
  return key.toLowerCase().replace(/_/g, '-');
}
