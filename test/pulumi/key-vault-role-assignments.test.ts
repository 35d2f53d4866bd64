import { byType, one, registered } from './mocks';
import { KeyVaultRole } from '../../lib/core/key-vault-roles';
import { KeyVaultObjectType } from '../../lib/core/key-vault-objects';
import { roleAssignmentGuid, uuidV5 } from '../../lib/pulumi/deterministic-guid';
import { KeyVaultRoleAssignments, roleSlug } from '../../lib/pulumi/key-vault-role-assignments';

const RA = 'azure-native:authorization:RoleAssignment';

describe('deterministic role assignment names', () => {
  it('computes RFC 4122 version-5 UUIDs (python uuid5(NAMESPACE_DNS, "python.org"))', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'python.org')).toBe(
      '886313e1-3b8a-5372-9b90-0c9aee199e5d',
    );
  });

  it('is stable for the same scope, principal and role, ignoring ARM id case, and differs otherwise', () => {
    const a = roleAssignmentGuid('/subscriptions/S/rg/kv', 'p1', '/roleDefinitions/r1');
    expect(roleAssignmentGuid('/subscriptions/s/RG/kv', 'P1', '/roleDefinitions/R1')).toBe(a);
    expect(roleAssignmentGuid('/subscriptions/s/rg/kv', 'p2', '/roleDefinitions/r1')).not.toBe(a);
    expect(roleAssignmentGuid('/subscriptions/s/rg/kv', 'p1', '/roleDefinitions/r2')).not.toBe(a);
    expect(roleAssignmentGuid('/subscriptions/s/rg/kv2', 'p1', '/roleDefinitions/r1')).not.toBe(a);
  });
});

describe('KeyVaultRoleAssignments', () => {
  it('creates one ServicePrincipal assignment per role with a deterministic GUID name', async () => {
    const ras = new KeyVaultRoleAssignments('team-a-kv', {
      vaultId: '/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv',
      principalId: 'principal-1',
      objectTypes: [KeyVaultObjectType.SECRET, KeyVaultObjectType.KEY],
      additionalRoles: [KeyVaultRole.SECRETS_USER, KeyVaultRole.CRYPTO_USER],
    });
    await registered(...ras.assignments);
    expect(ras.roles).toEqual([KeyVaultRole.SECRETS_USER, KeyVaultRole.READER, KeyVaultRole.CRYPTO_USER]);
    const created = byType(RA).filter((r) => r.name.startsWith('team-a-kv-'));
    expect(created.map((r) => r.name).sort()).toEqual([
      'team-a-kv-crypto-user',
      'team-a-kv-reader',
      'team-a-kv-secrets-user',
    ]);
    for (const ra of created) {
      expect(ra.inputs.principalType).toBe('ServicePrincipal');
      expect(ra.inputs.principalId).toBe('principal-1');
      expect(ra.inputs.roleAssignmentName).toBe(
        roleAssignmentGuid(
          '/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv',
          'principal-1',
          ra.inputs.roleDefinitionId,
        ),
      );
    }
    expect(one(RA, 'team-a-kv-secrets-user').inputs.roleDefinitionId).toBe(
      '/subscriptions/sub-1/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6',
    );
  });

  it('names resources after the role', () => {
    expect(roleSlug(KeyVaultRole.SECRETS_USER)).toBe('secrets-user');
    expect(roleSlug(KeyVaultRole.CERTIFICATE_USER)).toBe('certificate-user');
  });

  it('fails for an unknown additional role, naming its index', () => {
    expect(
      () =>
        new KeyVaultRoleAssignments('ra-bad', {
          vaultId: 'v',
          principalId: 'p',
          objectTypes: [KeyVaultObjectType.SECRET],
          additionalRoles: ['Key Vault Secrets User' as KeyVaultRole],
        }),
    ).toThrow(/^additionalRoles\[0\]: "Key Vault Secrets User" is not a Key Vault built-in role/);
  });

  it('fails for an unknown object type with the shared core message', () => {
    expect(
      () =>
        new KeyVaultRoleAssignments('ra-bad-type', {
          vaultId: 'v',
          principalId: 'p',
          objectTypes: ['certificate' as KeyVaultObjectType],
        }),
    ).toThrow(/^objectType: unknown Key Vault object type "certificate"/);
  });

  it('grants per object on the object scope, and needs no vault-wide role then', async () => {
    const vaultId = '/subscriptions/sub-2/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/shared';
    const ras = new KeyVaultRoleAssignments('team-b-kv', {
      vaultId,
      principalId: 'principal-2',
      objects: [
        { objectName: 'b-db', objectType: KeyVaultObjectType.SECRET },
        { objectName: 'b-signing', objectType: KeyVaultObjectType.KEY },
        { objectName: 'b-db', objectType: KeyVaultObjectType.SECRET },
      ],
    });
    await registered(...ras.assignments);
    const created = byType(RA).filter((r) => r.name.startsWith('team-b-kv-'));
    expect(created.map((r) => [r.name, r.inputs.scope])).toEqual([
      ['team-b-kv-secrets-user-secrets-b-db', `${vaultId}/secrets/b-db`],
      ['team-b-kv-reader-keys-b-signing', `${vaultId}/keys/b-signing`],
    ]);
    // The role definition lives in the vault's subscription; the name is derived from the object scope.
    expect(created[0].inputs.roleDefinitionId).toBe(
      '/subscriptions/sub-2/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6',
    );
    expect(created[0].inputs.roleAssignmentName).toBe(
      roleAssignmentGuid(`${vaultId}/secrets/b-db`, 'principal-2', created[0].inputs.roleDefinitionId),
    );
  });

  it('fails for a vault id that is not one, naming vaultId', () => {
    expect(
      () =>
        new KeyVaultRoleAssignments('ra-bad-id', {
          vaultId: 'kv',
          principalId: 'p',
          objectTypes: [KeyVaultObjectType.SECRET],
        }),
    ).toThrow(/^vaultId: "kv" is not a Key Vault resource id/);
  });
});
