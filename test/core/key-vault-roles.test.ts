import { KeyVaultObjectType, KeyVaultRole, roleDefinitionId, rolesForObjectTypes } from '../../lib/core';

describe('Key Vault roles', () => {
  test('built-in role GUIDs (azure-provider §6.1)', () => {
    expect(KeyVaultRole.SECRETS_USER).toBe('4633458b-17de-408a-b874-0445c86b69e6');
    expect(KeyVaultRole.CERTIFICATE_USER).toBe('db79e9a7-68ee-4b58-9aeb-b90e7c24fcba');
    expect(KeyVaultRole.READER).toBe('21090545-7ca7-4776-b22c-e363652d74d2');
    expect(KeyVaultRole.CRYPTO_USER).toBe('12338af0-0e69-4776-bea7-57ae8d297424');
    expect(KeyVaultRole.SECRETS_OFFICER).toBe('b86a8fe4-44ce-4948-aee5-eccb2c155cd7');
    expect(KeyVaultRole.ADMINISTRATOR).toBe('00482a5a-887f-4fb3-b363-3b7fe8e74483');
  });

  test('role definition id form', () => {
    expect(roleDefinitionId('sub-1', KeyVaultRole.SECRETS_USER)).toBe(
      '/subscriptions/sub-1/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6',
    );
  });

  test('least privilege per object type, deduplicated in a stable order', () => {
    expect(rolesForObjectTypes([KeyVaultObjectType.SECRET])).toEqual([KeyVaultRole.SECRETS_USER]);
    expect(rolesForObjectTypes([KeyVaultObjectType.CERT])).toEqual([KeyVaultRole.READER]);
    expect(
      rolesForObjectTypes([KeyVaultObjectType.KEY, KeyVaultObjectType.SECRET, KeyVaultObjectType.CERT]),
    ).toEqual([KeyVaultRole.SECRETS_USER, KeyVaultRole.READER]);
    expect(rolesForObjectTypes([])).toEqual([]);
  });

  test('never grants Certificate User, whose getSecret would expose every secret in the vault', () => {
    const all = rolesForObjectTypes(Object.values(KeyVaultObjectType));
    expect(all).not.toContain(KeyVaultRole.CERTIFICATE_USER);
    expect(all).not.toContain(KeyVaultRole.ADMINISTRATOR);
  });

  test('fails on an unknown object type', () => {
    expect(() => rolesForObjectTypes(['certificate' as KeyVaultObjectType])).toThrow(
      'objectType: unknown Key Vault object type "certificate"',
    );
  });
});
