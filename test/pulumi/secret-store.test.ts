import {
  byUrn,
  MOCK_TENANT_ID,
  mockClientId,
  mockPrincipalId,
  one,
  recorded,
  registered,
  valueOf,
} from './mocks';
import { errorOf } from './error-of';
import { KeyVaultObjectType } from '../../lib/core/key-vault-objects';
import { parseObjectsParameter } from '../../lib/core/key-vault-objects';
import { renderSecretProviderClass } from '../../lib/core/secret-provider-class';
import { SecretType } from '../../lib/core/synced-secrets';
import { SecretStore, SecretStoreArgs } from '../../lib/pulumi/secret-store';
import { App, Chart } from 'cdk8s';
import { SecretProviderClass as Cdk8sSecretProviderClass } from '../../lib/cdk8s/secret-provider-class';
import { envFromSyncedSecret } from '../../lib/cdk8s/workload';

const SPC = 'kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass';
const VAULT_ID = '/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-team-a';

const base: SecretStoreArgs = {
  namespace: 'team-a',
  keyVaultName: 'kv-team-a',
  vaultId: VAULT_ID,
  tenantId: MOCK_TENANT_ID,
  resourceGroupName: 'rg',
  issuerUrl: 'https://oidc.example/aks/',
  subscriptionId: 'sub-1',
  objects: [
    { objectName: 'db-password', objectType: KeyVaultObjectType.SECRET },
    { objectName: 'api-cert', objectType: KeyVaultObjectType.CERT, objectAlias: 'api.pem' },
  ],
  secretObjects: [
    {
      secretName: 'orders-db',
      type: SecretType.OPAQUE,
      data: [{ objectName: 'db-password', key: 'password' }],
    },
  ],
};

/** The SecretProviderClass props the 'orders' store below stands for, for the core and the cdk8s construct. */
const ordersSpcProps = {
  name: 'orders',
  namespace: 'team-a',
  keyVaultName: 'kv-team-a',
  tenantId: MOCK_TENANT_ID,
  workloadIdentityClientId: mockClientId('orders'),
  objects: base.objects,
  secretObjects: base.secretObjects,
};

describe('SecretStore with workload identity (the default)', () => {
  const store = new SecretStore('orders', { ...base, serviceAccountName: 'orders-app' });
  beforeAll(() =>
    registered(
      store.secretProviderClass,
      store.serviceAccount,
      ...store.workloadIdentity!.federatedCredentials,
    ),
  );

  it('federates an identity with the team ServiceAccount', () => {
    const fic = one('azure-native:managedidentity:FederatedIdentityCredential', 'orders-fic-0');
    expect(fic.inputs).toMatchObject({
      subject: 'system:serviceaccount:team-a:orders-app',
      issuer: 'https://oidc.example/aks/',
      audiences: ['api://AzureADTokenExchange'],
    });
    const sa = one('kubernetes:core/v1:ServiceAccount', 'orders');
    expect(sa.inputs.metadata).toMatchObject({
      name: 'orders-app',
      namespace: 'team-a',
      annotations: { 'azure.workload.identity/client-id': mockClientId('orders') },
    });
  });

  it('grants the identity the roles for its object types', () => {
    const secretsUser = one('azure-native:authorization:RoleAssignment', 'orders-secrets-user');
    const reader = one('azure-native:authorization:RoleAssignment', 'orders-reader');
    for (const ra of [secretsUser, reader]) {
      expect(ra.inputs).toMatchObject({
        principalId: mockPrincipalId('orders'),
        principalType: 'ServicePrincipal',
        scope: VAULT_ID,
      });
    }
    expect(secretsUser.inputs.roleDefinitionId).toBe(
      '/subscriptions/sub-1/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6',
    );
  });

  it('renders the SecretProviderClass with the shared core, after the role assignments', () => {
    const spc = one(SPC, 'orders');
    const expected = renderSecretProviderClass(ordersSpcProps);
    expect(spc.inputs).toEqual({
      apiVersion: expected.apiVersion,
      kind: expected.kind,
      metadata: { name: 'orders', namespace: 'team-a' },
      spec: expected.spec,
    });
    expect(spc.inputs.spec.parameters).toMatchObject({
      clientID: mockClientId('orders'),
      keyvaultName: 'kv-team-a',
      tenantId: MOCK_TENANT_ID,
    });
    expect(parseObjectsParameter(spc.inputs.spec.parameters.objects).map((o) => o.objectName)).toEqual([
      'db-password',
      'api-cert',
    ]);
    const raUrns = recorded
      .filter((r) => r.type === 'azure-native:authorization:RoleAssignment' && r.name.startsWith('orders-'))
      .map((r) => r.urn);
    expect(spc.dependsOn).toEqual(expect.arrayContaining(raUrns));
    expect(byUrn(spc.parent!)?.type).toBe('aks-secrets-store:index:SecretStore');
  });

  it('outputs the SPC name, ServiceAccount name and client id', async () => {
    expect(await valueOf(store.secretProviderClassName)).toBe('orders');
    expect(await valueOf(store.serviceAccountName)).toBe('orders-app');
    expect(await valueOf(store.clientId)).toBe(mockClientId('orders'));
  });

  it('gives the pod-spec entries of a Deployment', () => {
    expect(
      store.wiring({ env: [{ name: 'DB_PASSWORD', secretName: 'orders-db', key: 'password' }] }),
    ).toEqual({
      serviceAccountName: 'orders-app',
      podLabels: { 'azure.workload.identity/use': 'true' },
      volume: {
        name: 'secrets-store-orders',
        csi: {
          driver: 'secrets-store.csi.k8s.io',
          readOnly: true,
          volumeAttributes: { secretProviderClass: 'orders' },
        },
      },
      volumeMount: { name: 'secrets-store-orders', mountPath: '/mnt/secrets-store', readOnly: true },
      env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'orders-db', key: 'password' } } }],
    });
  });

  it('fails to wire an env var from a Secret or key the store does not sync, naming the field', () => {
    expect(() => store.wiring({ env: [{ name: 'X', secretName: 'other', key: 'password' }] })).toThrow(
      /^env\[0\]\.secretName: "other" is not synced by SecretProviderClass "orders" \(its secretObjects: "orders-db"\)/,
    );
    expect(() => store.wiring({ env: [{ name: 'X', secretName: 'orders-db', key: 'pw' }] })).toThrow(
      /^env\[0\]\.key: "pw" is not a key of synced Secret "orders-db"/,
    );
    // ...and the same words as the cdk8s helper for the same SPC, behind the position of the env var.
    const chart = new Chart(new App(), 'env-parity');
    const spc = new Cdk8sSecretProviderClass(chart, 'orders', ordersSpcProps);
    expect(errorOf(() => store.wiring({ env: [{ name: 'X', secretName: 'orders-db', key: 'pw' }] }))).toBe(
      `env[0].${errorOf(() => envFromSyncedSecret(spc, 'orders-db', 'pw'))}`,
    );
  });

  it('refuses a mount path Kubernetes would reject, naming mountPath', () => {
    expect(() => store.wiring({ mountPath: '/mnt/a:b' })).toThrow(
      'mountPath: "/mnt/a:b" is not an absolute path without \':\'; mount the secrets store at e.g. "/mnt/secrets-store"',
    );
  });
});

describe('SecretStore with the add-on identity', () => {
  it('uses the add-on identity client id and creates no identity or role assignment', async () => {
    const { issuerUrl: _issuer, resourceGroupName: _rg, ...rest } = base;
    const store = new SecretStore('billing', {
      ...rest,
      namespace: 'billing',
      addonIdentityClientId: '11111111-2222-4333-8444-555555555555',
    });
    await registered(store.secretProviderClass, store.serviceAccount);
    expect(store.workloadIdentity).toBeUndefined();
    expect(
      recorded.filter((r) => r.name.startsWith('billing') && r.type.startsWith('azure-native:')),
    ).toEqual([]);
    const params = one(SPC, 'billing').inputs.spec.parameters;
    expect(params).toMatchObject({
      useVMManagedIdentity: 'true',
      userAssignedIdentityID: '11111111-2222-4333-8444-555555555555',
    });
    expect(params.clientID).toBeUndefined();
    expect(one('kubernetes:core/v1:ServiceAccount', 'billing').inputs.metadata).toEqual({
      name: 'billing',
      namespace: 'billing',
    });
    expect(store.wiring().podLabels).toEqual({});
  });
});

describe('SecretStore validation (shared with the cdk8s side)', () => {
  it.each([
    [
      'an alias escaping the mount',
      { objects: [{ objectName: 'db', objectType: KeyVaultObjectType.SECRET, objectAlias: '../db' }] },
    ],
    [
      'an invalid object name',
      { objects: [{ objectName: 'db_password', objectType: KeyVaultObjectType.SECRET }] },
    ],
    ['no objects', { objects: [] }],
    [
      'a synced key from no object',
      { secretObjects: [{ secretName: 's', data: [{ objectName: 'nope', key: 'k' }] }] },
    ],
    ['a tenant that is not a GUID', { tenantId: 'contoso.onmicrosoft.com' }],
  ])('fails for %s with the same message as renderSecretProviderClass', (_what, override) => {
    const args = { ...base, ...override } as SecretStoreArgs;
    const message = errorOf(() => new SecretStore('bad-store', args));
    // The same input as SecretProviderClass props, for the core and the cdk8s construct.
    const spcProps = {
      name: 'bad-store',
      namespace: 'team-a',
      keyVaultName: 'kv-team-a',
      tenantId: args.tenantId as string,
      workloadIdentityClientId: '00000000-0000-0000-0000-000000000000',
      objects: args.objects,
      secretObjects: args.secretObjects,
    };
    const core = errorOf(() => renderSecretProviderClass(spcProps));
    expect(message).toBe(core);
    expect(message).toMatch(/^[a-zA-Z[\].0-9]+: /);
    // ...and the same as the cdk8s construct says for the same input.
    const chart = new Chart(new App(), 'parity');
    const cdk8sMessage = errorOf(() => new Cdk8sSecretProviderClass(chart, 'bad-store', spcProps));
    expect(message).toBe(cdk8sMessage);
  });

  it('fails without issuerUrl in workload identity mode, and with both identities', () => {
    const { issuerUrl: _issuer, ...noIssuer } = base;
    expect(() => new SecretStore('no-issuer', noIssuer)).toThrow(
      /^issuerUrl: is required for workload identity/,
    );
    expect(() => new SecretStore('two-ids', { ...base, addonIdentityClientId: 'x' })).toThrow(
      /^addonIdentityClientId: is set together with issuerUrl/,
    );
  });

  it('fails for a credential subject in another namespace, naming the field', () => {
    expect(
      () =>
        new SecretStore('ns-mismatch', {
          ...base,
          federatedCredentials: [{ subject: 'system:serviceaccount:team-b:ns-mismatch' }],
        }),
    ).toThrow(/^federatedCredentials\[0\]\.subject: namespace "team-b" does not match/);
  });
});
