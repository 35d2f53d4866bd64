// Shared fixtures for the core and the cdk8s construct tests: the seed's SecretProviderClass
// (one secret, synced to the Opaque Secret "foosecret"), without name and namespace.
import { KeyVaultObjectType, SecretProviderClassProps, SecretType } from '../../lib/core';

export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const CLIENT = '00000000-1111-2222-3333-444444444444';

export const seedSpcProps: Omit<SecretProviderClassProps, 'name' | 'namespace'> = {
  keyVaultName: 'kv-team-a',
  tenantId: TENANT,
  workloadIdentityClientId: CLIENT,
  objects: [{ objectName: 'foo1', objectType: KeyVaultObjectType.SECRET }],
  secretObjects: [
    { secretName: 'foosecret', type: SecretType.OPAQUE, data: [{ objectName: 'foo1', key: 'username' }] },
  ],
};
