import { MOCK_TENANT_ID, isSecretEnvelope, one, registered, valueOf } from './mocks';
import * as pulumi from '@pulumi/pulumi';
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

  describe('names (issue 13, defect 5)', () => {
    it('accepts a vault name that is an Output, e.g. from a random name', async () => {
      const kv = new KeyVault('kv-random', {
        resourceGroupName: 'rg',
        vaultName: pulumi.output('kv-a1b2c3'),
      });
      await registered(kv.vault);
      expect(one('azure-native:keyvault:Vault', 'kv-random').inputs.vaultName).toBe('kv-a1b2c3');
    });

    it('fails when an auto-named vault would exceed 24 characters, naming the component name', () => {
      expect(() => new KeyVault('orders-team-vault', { resourceGroupName: 'rg' })).toThrow(
        'vaultName: is unset, so the vault is auto-named from the component name "orders-team-vault" plus 8 random characters, which exceeds 24 characters; use a component name of at most 16 characters or set vaultName',
      );
      expect(() => new KeyVault('orders-team-kv16', { resourceGroupName: 'rg' })).not.toThrow();
      expect(
        () => new KeyVault('orders-team-vault', { resourceGroupName: 'rg', vaultName: 'orders-kv' }),
      ).not.toThrow();
    });

    it('fails for a component name a vault name cannot start with', () => {
      expect(() => new KeyVault('1kv', { resourceGroupName: 'rg' })).toThrow(
        /^vaultName: is unset, so the vault is auto-named from the component name "1kv", which a vault name cannot start with/,
      );
    });

    it('refuses access-policy mode, which would leave nothing able to read the vault', () => {
      expect(
        () => new KeyVault('kv-policies', { resourceGroupName: 'rg', enableRbacAuthorization: false }),
      ).toThrow(
        /^enableRbacAuthorization: false would switch the vault to access policies, and this component creates none/,
      );
    });
  });

  describe('private vaults (issue 13)', () => {
    const subnet =
      '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/pe';
    const zone =
      '/subscriptions/s/resourceGroups/dns/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net';

    it('creates a private endpoint for the vault and registers it in the private DNS zone', async () => {
      const warn = jest.spyOn(pulumi.log, 'warn');
      const kv = new KeyVault('kv-private', {
        resourceGroupName: 'rg',
        location: 'westeurope',
        publicNetworkAccess: false,
        networkDefaultAction: KeyVaultNetworkDefaultAction.DENY,
        privateEndpointSubnetId: subnet,
        privateDnsZoneId: zone,
      });
      await registered(kv.privateEndpoint!, kv.privateDnsZoneGroup!);
      const pe = one('azure-native:network:PrivateEndpoint', 'kv-private-pe');
      expect(pe.inputs).toMatchObject({
        resourceGroupName: 'rg',
        location: 'westeurope',
        subnet: { id: subnet },
        privateLinkServiceConnections: [
          { name: 'kv-private-vault', privateLinkServiceId: await valueOf(kv.vaultId), groupIds: ['vault'] },
        ],
      });
      expect(one('azure-native:network:PrivateDnsZoneGroup', 'kv-private-pe-dns').inputs).toMatchObject({
        privateEndpointName: 'kv-private-pe',
        privateDnsZoneConfigs: [{ name: 'privatelink-vaultcore-azure-net', privateDnsZoneId: zone }],
      });
      expect(warn).not.toHaveBeenCalled();
      warn.mockRestore();
    });

    it('fails for an endpoint without its DNS zone, saying why', () => {
      expect(
        () => new KeyVault('kv-pe-no-dns', { resourceGroupName: 'rg', privateEndpointSubnetId: subnet }),
      ).toThrow(
        /^privateDnsZoneId: is required with privateEndpointSubnetId: without the DNS zone group, pods resolve the vault to its public address/,
      );
    });

    it.each([
      [
        'a firewall that denies by default',
        { networkDefaultAction: KeyVaultNetworkDefaultAction.DENY },
        /AKS is not a trusted Azure service/,
      ],
      [
        'no public access and no endpoint',
        { publicNetworkAccess: false },
        /publicNetworkAccess is false and there is no private endpoint/,
      ],
    ])('warns at construction for %s, which would block AKS', (_what, rules, message) => {
      const warn = jest.spyOn(pulumi.log, 'warn').mockImplementation(() => Promise.resolve());
      const kv = new KeyVault(`kv-warn-${Object.keys(rules)[0].length}`, {
        resourceGroupName: 'rg',
        ...rules,
      });
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(message), kv);
      warn.mockRestore();
    });

    it('does not warn when the node subnet is allowed', () => {
      const warn = jest.spyOn(pulumi.log, 'warn');
      new KeyVault('kv-subnet-ok', {
        resourceGroupName: 'rg',
        networkDefaultAction: KeyVaultNetworkDefaultAction.DENY,
        allowedSubnetIds: [subnet],
      });
      expect(warn).not.toHaveBeenCalled();
      warn.mockRestore();
    });
  });
});
