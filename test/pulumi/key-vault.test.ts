import { MOCK_TENANT_ID, isSecretEnvelope, one, registered, valueOf } from './mocks';
import { KeyVault, KeyVaultNetworkDefaultAction } from '../../lib/pulumi/key-vault';

describe('KeyVault', () => {
  it('defaults to RBAC mode, 90-day soft delete, no purge protection, and the deployer tenant', async () => {
    const kv = new KeyVault('kv-defaults', { resourceGroupName: 'rg' });
    await registered(kv.vault);
    const vault = one('azure-native:keyvault:Vault', 'kv-defaults');
    expect(vault.inputs.properties).toMatchObject({
      enableRbacAuthorization: true,
      enableSoftDelete: true,
      softDeleteRetentionInDays: 90,
      tenantId: MOCK_TENANT_ID,
      sku: { family: 'A', name: 'standard' },
      publicNetworkAccess: 'enabled',
      networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' },
    });
    expect(vault.inputs.properties.enablePurgeProtection).toBeUndefined();
    expect(await valueOf(kv.vaultUri)).toBe('https://kv-defaults.vault.azure.net/');
  });

  it('passes retention, purge protection and firewall rules through', async () => {
    const kv = new KeyVault('kv-locked', {
      resourceGroupName: 'rg',
      vaultName: 'team-a-kv',
      tenantId: 'tenant-x',
      softDeleteRetentionInDays: 7,
      enablePurgeProtection: true,
      publicNetworkAccess: false,
      networkDefaultAction: KeyVaultNetworkDefaultAction.DENY,
      allowedIpRanges: ['203.0.113.0/24'],
      allowedSubnetIds: [
        '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/aks',
      ],
      bypassAzureServices: false,
    });
    await registered(kv.vault);
    const vault = one('azure-native:keyvault:Vault', 'kv-locked');
    expect(vault.inputs.vaultName).toBe('team-a-kv');
    expect(vault.inputs.properties).toMatchObject({
      tenantId: 'tenant-x',
      softDeleteRetentionInDays: 7,
      enablePurgeProtection: true,
      publicNetworkAccess: 'disabled',
      networkAcls: {
        defaultAction: 'Deny',
        bypass: 'None',
        ipRules: [{ value: '203.0.113.0/24' }],
        virtualNetworkRules: [
          {
            id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/aks',
          },
        ],
      },
    });
  });

  it('seeds secrets as Pulumi secrets in the vault', async () => {
    const kv = new KeyVault('kv-seeded', {
      resourceGroupName: 'rg',
      secrets: [{ name: 'db-password', value: 'hunter2' }],
    });
    await registered(kv.secrets['db-password']);
    const secret = one('azure-native:keyvault:Secret', 'kv-seeded-db-password');
    expect(secret.inputs).toMatchObject({
      secretName: 'db-password',
      vaultName: 'kv-seeded',
      resourceGroupName: 'rg',
    });
    // The engine receives the value inside Pulumi's secret envelope (the enclosing object is marked
    // secret on the wire): encrypted in state, never printed.
    expect(isSecretEnvelope(secret.inputs.properties)).toBe(true);
    expect(secret.inputs.properties.value).toEqual({ value: 'hunter2' });
  });

  it.each([6, 91, 30.5])('fails for softDeleteRetentionInDays %p', (days) => {
    expect(
      () => new KeyVault(`kv-bad-${days}`, { resourceGroupName: 'rg', softDeleteRetentionInDays: days }),
    ).toThrow(/^softDeleteRetentionInDays: .* from 7 to 90/);
  });

  it('fails for a vault name Key Vault rejects', () => {
    expect(
      () => new KeyVault('kv-bad-name', { resourceGroupName: 'rg', vaultName: 'kv_with_underscore' }),
    ).toThrow(/^vaultName: "kv_with_underscore"/);
  });

  it('fails for a secret name Key Vault rejects, naming its index', () => {
    expect(
      () =>
        new KeyVault('kv-bad-secret', {
          resourceGroupName: 'rg',
          secrets: [
            { name: 'ok', value: 'v' },
            { name: 'not/ok', value: 'v' },
          ],
        }),
    ).toThrow(/^secrets\[1\]\.name: "not\/ok"/);
  });
});
