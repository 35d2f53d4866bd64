// Shared fixtures for the cdk8s construct tests.
import { SecretProviderClassProps } from '../../lib/cdk8s';
import { KeyVaultObjectType, SecretType } from '../../lib/core';

export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const CLIENT = '00000000-1111-2222-3333-444444444444';

export const spcProps: SecretProviderClassProps = {
  keyVaultName: 'kv-team-a',
  tenantId: TENANT,
  workloadIdentityClientId: CLIENT,
  objects: [{ objectName: 'foo1', objectType: KeyVaultObjectType.SECRET }],
  secretObjects: [
    { secretName: 'foosecret', type: SecretType.OPAQUE, data: [{ objectName: 'foo1', key: 'username' }] },
  ],
};

export type Manifest = {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- synthesized manifests are untyped JSON
  spec?: any;
};
export const byKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind);
