import {
  byUrn,
  MOCK_TENANT_ID,
  mockClientId,
  mockPrincipalId,
  one,
  recorded,
  settled,
  valueOf,
} from './mocks';
import { errorOf } from './error-of';
import { KeyVaultObjectType } from '../../lib/core/key-vault-objects';
import { parseObjectsParameter } from '../../lib/core/key-vault-objects';
import { renderSecretProviderClass } from '../../lib/core/secret-provider-class';
import { SecretType } from '../../lib/core/synced-secrets';
import * as pulumi from '@pulumi/pulumi';
import { validateDns1123Label } from '../../lib/core/validation/kube-names';
import { RoleAssignmentScope } from '../../lib/pulumi/key-vault-role-assignments';
import { checkedInput } from '../../lib/pulumi/known-inputs';
import { keyVaultNameOf } from '../../lib/pulumi/vault-id';
import { combineSecretStoreWirings, SecretStore, SecretStoreArgs } from '../../lib/pulumi/secret-store';
import { App, Chart } from 'cdk8s';
import { SecretProviderClass as Cdk8sSecretProviderClass } from '../../lib/cdk8s/secret-provider-class';
import { envFromSyncedSecret } from '../../lib/cdk8s/synced-secret-env';

const SPC = 'kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass';
const VAULT_ID = '/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-team-a';

const base: SecretStoreArgs = {
  namespace: 'team-a',
  vaultId: VAULT_ID,
  tenantId: MOCK_TENANT_ID,
  resourceGroupName: 'rg',
  issuerUrl: 'https://oidc.example/aks/',
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
  beforeAll(() => settled(store));

  it('federates an identity with the team ServiceAccount', () => {
    const fic = one('azure-native:managedidentity:FederatedIdentityCredential', 'orders-fic-primary');
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
      store: 'orders',
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
      volumeMount: { name: 'secrets-store-orders', mountPath: '/mnt/secrets-store/orders', readOnly: true },
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
    // (the cdk8s message starts with the construct path, which a Pulumi component does not have)
    expect(errorOf(() => store.wiring({ env: [{ name: 'X', secretName: 'orders-db', key: 'pw' }] }))).toBe(
      `env[0].${errorOf(() => envFromSyncedSecret(spc, 'orders-db', 'pw')).replace('[env-parity/orders] ', '')}`,
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
    await settled(store);
    expect(store.identity).toBeUndefined();
    expect(store.roleAssignments).toEqual([]);
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
    expect(cdk8sMessage).toBe(`[parity/bad-store] ${message}`);
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

/** The rejection of an Output whose value fails a check (Outputs are otherwise opaque). */
function rejectionOf(output: pulumi.Output<unknown>): Promise<string> {
  const internals = output as unknown as Record<'isKnown' | 'isSecret', Promise<unknown>> & {
    promise(): Promise<unknown>;
    allResources?: () => Promise<unknown>;
  };
  // Every promise of the Output rejects with the check's error; all are observed, as the engine would.
  for (const p of [internals.isKnown, internals.isSecret, internals.allResources?.()])
    p?.catch(() => undefined);
  return internals.promise().then(
    () => 'resolved',
    (e: Error) => e.message,
  );
}

describe('two SecretStores in one workload (issue 13, defect 2)', () => {
  const { issuerUrl: _issuer, resourceGroupName: _rg, ...addon } = base;
  const first = new SecretStore('pay-a', {
    ...addon,
    namespace: 'pay',
    serviceAccountName: 'pay-app',
    addonIdentityClientId: '11111111-2222-4333-8444-555555555555',
  });
  const second = new SecretStore('pay-b', {
    ...base,
    namespace: 'pay',
    serviceAccountName: 'pay-app',
    createServiceAccount: false,
  });
  beforeAll(() => Promise.all([settled(first), settled(second)]));

  it('mounts each store in its own directory by default and shares one ServiceAccount', () => {
    const combined = combineSecretStoreWirings([first.wiring(), second.wiring()]);
    expect(combined.volumeMounts.map((m) => m.mountPath)).toEqual([
      '/mnt/secrets-store/pay-a',
      '/mnt/secrets-store/pay-b',
    ]);
    expect(combined.volumes.map((v) => v.name)).toEqual(['secrets-store-pay-a', 'secrets-store-pay-b']);
    expect(combined.serviceAccountName).toBe('pay-app');
    expect(combined.podLabels).toEqual({ 'azure.workload.identity/use': 'true' });
    // One ServiceAccount object named pay-app, not two resources fighting over one name.
    expect(
      recorded.filter((r) => r.type === 'kubernetes:core/v1:ServiceAccount' && r.name.startsWith('pay-')),
    ).toHaveLength(1);
    expect(second.serviceAccount).toBeUndefined();
    // The second store's identity is still federated with the shared ServiceAccount.
    expect(
      one('azure-native:managedidentity:FederatedIdentityCredential', 'pay-b-fic-primary').inputs.subject,
    ).toBe('system:serviceaccount:pay:pay-app');
  });

  it('fails for two stores at one mount path, naming both stores', () => {
    expect(() =>
      combineSecretStoreWirings([
        first.wiring({ mountPath: '/mnt/secrets-store' }),
        second.wiring({ mountPath: '/mnt/secrets-store' }),
      ]),
    ).toThrow(
      'volumeMounts: stores "pay-a" and "pay-b" clash in one container: both mount at "/mnt/secrets-store"; give each store its own directory (the default is /mnt/secrets-store/<store>)',
    );
  });

  it('fails for stores that want different ServiceAccounts, saying how to share one', () => {
    const other = new SecretStore('pay-c', {
      ...addon,
      namespace: 'pay',
      addonIdentityClientId: first.clientId,
    });
    expect(() => combineSecretStoreWirings([first.wiring(), other.wiring()])).toThrow(
      'serviceAccountName: stores "pay-a" and "pay-c" want ServiceAccounts "pay-app" and "pay-c", but a pod runs as one; create "pay-c" with createServiceAccount: false and serviceAccountName: "pay-app"',
    );
  });
});

describe('SecretStore identity modes share one ServiceAccount owner (issue 13, defect 4)', () => {
  it('parents the ServiceAccount to the store in workload identity mode too, so a mode switch is an update', async () => {
    const store = new SecretStore('mode-wi', { ...base, namespace: 'modes' });
    await settled(store);
    const sa = one('kubernetes:core/v1:ServiceAccount', 'mode-wi');
    expect(byUrn(sa.parent!)?.type).toBe('aks-secrets-store:index:SecretStore');
    expect(sa.urn).toBe(
      'urn:pulumi:test::aks-secrets-store-example::aks-secrets-store:index:SecretStore$kubernetes:core/v1:ServiceAccount::mode-wi',
    );
    expect(sa.inputs.metadata.annotations).toEqual({
      'azure.workload.identity/client-id': mockClientId('mode-wi'),
    });
  });
});

describe('SecretStore vault arguments (issue 13, defect 5)', () => {
  it('takes the vault name from vaultId', async () => {
    const { keyVaultName: _name, ...noName } = base;
    const store = new SecretStore('vault-from-id', noName);
    await settled(store);
    expect(await valueOf(store.keyVaultName)).toBe('kv-team-a');
    expect(one(SPC, 'vault-from-id').inputs.spec.parameters.keyvaultName).toBe('kv-team-a');
  });

  it('fails when keyVaultName and vaultId name different vaults', () => {
    expect(() => new SecretStore('vault-mismatch', { ...base, keyVaultName: 'kv-team-b' })).toThrow(
      'keyVaultName: "kv-team-b" is not the vault of vaultId ("kv-team-a"); pass one vault\'s KeyVault.vaultId, and leave keyVaultName unset (it is taken from vaultId)',
    );
  });

  it('fails when they disagree once resolved (what fails the SPC at up)', async () => {
    const late = keyVaultNameOf(VAULT_ID, pulumi.output('kv-team-b')) as pulumi.Output<string>;
    expect(await rejectionOf(late)).toMatch(/^keyVaultName: "kv-team-b" is not the vault of vaultId/);
    const fromId = keyVaultNameOf(pulumi.output(VAULT_ID), undefined) as pulumi.Output<string>;
    expect(await valueOf(fromId)).toBe('kv-team-a');
  });

  it("uses the role definitions of the vault's subscription, parsed from vaultId", async () => {
    const store = new SecretStore('vault-sub', {
      ...base,
      vaultId: '/subscriptions/other-sub/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-team-a',
    });
    await settled(store);
    expect(
      one('azure-native:authorization:RoleAssignment', 'vault-sub-secrets-user').inputs.roleDefinitionId,
    ).toBe(
      '/subscriptions/other-sub/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6',
    );
  });

  it('fails for a vaultId that is not a vault resource id', () => {
    expect(() => new SecretStore('vault-bad-id', { ...base, vaultId: 'kv-team-a' })).toThrow(
      /^vaultId: "kv-team-a" is not a Key Vault resource id/,
    );
  });
});

describe('SecretStore per-object role assignments (issue 13, defect 6)', () => {
  it('grants each object its role on that object only', async () => {
    const store = new SecretStore('scoped', { ...base, roleAssignmentScope: RoleAssignmentScope.OBJECT });
    await settled(store);
    const assignments = recorded.filter(
      (r) => r.type === 'azure-native:authorization:RoleAssignment' && r.name.startsWith('scoped-'),
    );
    expect(assignments.map((a) => [a.name, a.inputs.scope])).toEqual([
      ['scoped-secrets-user-secrets-db-password', `${VAULT_ID}/secrets/db-password`],
      ['scoped-reader-certificates-api-cert', `${VAULT_ID}/certificates/api-cert`],
    ]);
    expect(store.roleAssignments).toHaveLength(2);
  });
});

describe('SecretStore Kubernetes names as Inputs (issue 13, defect 7)', () => {
  it('accepts the namespace, ServiceAccount and SPC names as Outputs', async () => {
    const store = new SecretStore('late-names', {
      ...base,
      namespace: pulumi.output('team-late'),
      serviceAccountName: pulumi.output('late-app'),
      secretProviderClassName: pulumi.output('late-spc'),
    });
    await settled(store);
    expect(one(SPC, 'late-names').inputs.metadata).toEqual({ name: 'late-spc', namespace: 'team-late' });
    expect(one('kubernetes:core/v1:ServiceAccount', 'late-names').inputs.metadata.name).toBe('late-app');
    expect(
      one('azure-native:managedidentity:FederatedIdentityCredential', 'late-names-fic-primary').inputs
        .subject,
    ).toBe('system:serviceaccount:team-late:late-app');
    // Plain names are needed for the volume and the default path: the component name stands in.
    expect(store.wiring().volumeMount.mountPath).toBe('/mnt/secrets-store/late-names');
  });

  it('checks a known name at construction and a late one once it resolves', async () => {
    expect(() => new SecretStore('bad-ns', { ...base, namespace: 'Team_A' })).toThrow(/^namespace: /);
    // What the store does with a namespace Output: the SPC, ServiceAccount and credential take this checked value.
    const check = (ns: string) => validateDns1123Label(ns, 'namespace');
    const late = checkedInput(pulumi.output('Team_A'), check) as pulumi.Output<string>;
    expect(await rejectionOf(late)).toMatch(/^namespace: /);
    const fine = checkedInput(pulumi.output('team-a'), check) as pulumi.Output<string>;
    expect(await valueOf(fine)).toBe('team-a');
  });
});
