import { byType, mockAddonClientId, mockAddonObjectId, one, registered, valueOf } from './mocks';
import { errorOf } from './error-of';
import * as containerservice from '@pulumi/azure-native/containerservice';
import { renderAddonProfile } from '../../lib/core/addon-profile';
import { KeyVaultObjectType } from '../../lib/core/key-vault-objects';
import { AddonIdentityAccess, addonIdentityOf } from '../../lib/pulumi/addon-identity-access';
import {
  disabledKeyVaultSecretsProviderAddon,
  keyVaultSecretsProviderAddon,
} from '../../lib/pulumi/addon-profile';

const RA = 'azure-native:authorization:RoleAssignment';

describe('keyVaultSecretsProviderAddon', () => {
  it('defaults to the add-on defaults: rotation off, 2m', () => {
    expect(keyVaultSecretsProviderAddon()).toEqual({
      azureKeyvaultSecretsProvider: {
        enabled: true,
        config: { enableSecretRotation: 'false', rotationPollInterval: '2m' },
      },
    });
  });

  it('renders rotation with a custom interval as strings', () => {
    expect(keyVaultSecretsProviderAddon({ enableSecretRotation: true, rotationPollInterval: '5m' })).toEqual({
      azureKeyvaultSecretsProvider: {
        enabled: true,
        config: { enableSecretRotation: 'true', rotationPollInterval: '5m' },
      },
    });
  });

  it('renders the disabled entry', () => {
    expect(disabledKeyVaultSecretsProviderAddon()).toEqual({
      azureKeyvaultSecretsProvider: { enabled: false },
    });
  });

  it.each(['5 minutes', '5', '-1m', '0s'])(
    'fails for the interval %p with the shared core message naming the field',
    (interval) => {
      const opts = { enableSecretRotation: true, rotationPollInterval: interval };
      const message = errorOf(() => keyVaultSecretsProviderAddon(opts));
      expect(message).toMatch(/^rotationPollInterval: /);
      expect(message).toBe(errorOf(() => renderAddonProfile(opts)));
    },
  );

  it('lands in the cluster addonProfiles unchanged', async () => {
    const cluster = new containerservice.ManagedCluster('aks-addon-only', {
      resourceGroupName: 'rg',
      agentPoolProfiles: [{ name: 'system', count: 1, vmSize: 'Standard_D2s_v5', mode: 'System' }],
      dnsPrefix: 'aks',
      addonProfiles: {
        ...keyVaultSecretsProviderAddon({ enableSecretRotation: true, rotationPollInterval: '5m' }),
      },
    });
    await registered(cluster);
    expect(
      one('azure-native:containerservice:ManagedCluster', 'aks-addon-only').inputs.addonProfiles,
    ).toEqual({
      azureKeyvaultSecretsProvider: {
        enabled: true,
        config: { enableSecretRotation: 'true', rotationPollInterval: '5m' },
      },
    });
  });
});

describe('AddonIdentityAccess', () => {
  const cluster = new containerservice.ManagedCluster('aks-access', {
    resourceGroupName: 'rg',
    agentPoolProfiles: [{ name: 'system', count: 1, vmSize: 'Standard_D2s_v5', mode: 'System' }],
    dnsPrefix: 'aks',
    addonProfiles: keyVaultSecretsProviderAddon({ enableSecretRotation: true }),
  });

  it('grants the add-on identity (objectId) Secrets User on the vault as a ServicePrincipal', async () => {
    const access = new AddonIdentityAccess('addon-kv', {
      cluster,
      vaultId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv',
    });
    await registered(...access.assignments);
    const ra = one(RA, 'addon-kv-secrets-user');
    expect(ra.inputs).toMatchObject({
      principalId: mockAddonObjectId('aks-access'),
      principalType: 'ServicePrincipal',
      scope: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv',
      roleDefinitionId: `/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
    });
    expect(ra.inputs.roleAssignmentName).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(await valueOf(access.addonIdentityClientId)).toBe(mockAddonClientId('aks-access'));
  });

  it('adds Reader for cert and key objects', async () => {
    const access = new AddonIdentityAccess('addon-kv-certs', {
      cluster,
      vaultId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv',
      objectTypes: [KeyVaultObjectType.CERT, KeyVaultObjectType.SECRET, KeyVaultObjectType.KEY],
    });
    await registered(...access.assignments);
    const names = byType(RA)
      .filter((r) => r.name.startsWith('addon-kv-certs-'))
      .map((r) => r.name);
    expect(names.sort()).toEqual(['addon-kv-certs-reader', 'addon-kv-certs-secrets-user']);
    expect(one(RA, 'addon-kv-certs-reader').inputs.roleDefinitionId).toMatch(
      /\/roleDefinitions\/21090545-7ca7-4776-b22c-e363652d74d2$/,
    );
  });

  it('explains a cluster without the add-on, naming the field', () => {
    expect(() => addonIdentityOf({ azureKeyvaultSecretsProvider: { identity: undefined } })).toThrow(
      /^cluster\.addonProfiles\.azureKeyvaultSecretsProvider\.identity: is missing, so the add-on is not enabled/,
    );
    expect(() => addonIdentityOf(undefined)).toThrow(/is missing/);
    expect(
      addonIdentityOf({ azureKeyvaultSecretsProvider: { identity: { clientId: 'c', objectId: 'o' } } }),
    ).toEqual({ clientId: 'c', objectId: 'o' });
  });

  it.each(['azureKeyVaultSecretsProvider', 'AzureKeyvaultSecretsProvider', 'azurekeyvaultsecretsprovider'])(
    'finds the add-on under the key %s, as ARM and the az CLI do (issue 13, defect 3)',
    (key) => {
      const profiles = {
        omsagent: { identity: { clientId: 'x', objectId: 'y' } },
        [key]: { identity: { clientId: 'c', objectId: 'o' } },
      };
      expect(addonIdentityOf(profiles)).toEqual({ clientId: 'c', objectId: 'o' });
    },
  );

  it('grants the add-on identity per object when given its objects (issue 13, defect 6)', async () => {
    const vaultId = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv';
    const access = new AddonIdentityAccess('addon-kv-objects', {
      cluster,
      vaultId,
      objects: [{ objectName: 'node-cert', objectType: KeyVaultObjectType.SECRET }],
    });
    await registered(...access.assignments);
    expect(
      byType(RA)
        .filter((r) => r.name.startsWith('addon-kv-objects-'))
        .map((r) => r.inputs.scope),
    ).toEqual([`${vaultId}/secrets/node-cert`]);
  });

  it('fails for an empty object type list, naming the field', () => {
    expect(() => new AddonIdentityAccess('addon-none', { cluster, vaultId: 'v', objectTypes: [] })).toThrow(
      /^objectTypes: grants no role/,
    );
  });
});
