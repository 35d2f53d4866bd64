import {
  byUrn,
  MOCK_TENANT_ID,
  mockClientId,
  mockPrincipalId,
  one,
  recorded,
  registered,
  settled,
} from './mocks';
import { errorOf } from './error-of';
import { KeyVaultObjectType } from '../../lib/core/key-vault-objects';
import { identityBindingRbac } from '../../lib/core/identity-binding';
import { renderSecretProviderClass } from '../../lib/core/secret-provider-class';
import { SecretStore, SecretStoreArgs } from '../../lib/pulumi/secret-store';
import { SelfHostedInstall } from '../../lib/pulumi/self-hosted-install';

// AKS identity binding in the Pulumi SecretStore (issue 15, item 3): the store's user-assigned identity,
// bound to the cluster by azure-native's containerservice.IdentityBinding (no federated credential of
// ours), granted the roles, the ClusterRole/ClusterRoleBinding the core renders, and the SPC the core
// renders for identityBindingClientId; the install's CSIDriver requests the api://AKSIdentityBinding token.

const VAULT_ID = '/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-team-b';
const base: SecretStoreArgs = {
  namespace: 'team-b',
  vaultId: VAULT_ID,
  tenantId: MOCK_TENANT_ID,
  resourceGroupName: 'rg-identities',
  identityBinding: { clusterName: 'aks-prod', clusterResourceGroupName: 'rg-aks' },
  objects: [{ objectName: 'db-password', objectType: KeyVaultObjectType.SECRET }],
};

describe('SecretStore with identity binding', () => {
  const store = new SecretStore('billing', { ...base, serviceAccountName: 'billing-app' });
  const childrenOf = (component: string) =>
    recorded.filter((r) => r.parent && byUrn(r.parent)?.name === component).map((r) => r.type);
  beforeAll(() => settled(store));

  it('binds a user-assigned identity to the cluster with an AKS IdentityBinding, without federated credentials', () => {
    const identity = one('azure-native:managedidentity:UserAssignedIdentity', 'billing');
    expect(identity.inputs).toMatchObject({ resourceGroupName: 'rg-identities' });
    const binding = one('azure-native:containerservice:IdentityBinding', 'billing');
    expect(binding.inputs).toEqual({
      resourceGroupName: 'rg-aks',
      resourceName: 'aks-prod',
      properties: {
        managedIdentity: { resourceId: expect.stringMatching(/UserAssignedIdentity\/billing$/) },
      },
    });
    expect(childrenOf('billing')).not.toContain('azure-native:managedidentity:FederatedIdentityCredential');
    expect(store.federatedCredentials).toEqual([]);
  });

  it('grants the identity the roles for its object types', () => {
    const role = one('azure-native:authorization:RoleAssignment', 'billing-secrets-user');
    expect(role.inputs).toMatchObject({
      principalId: mockPrincipalId('billing'),
      principalType: 'ServicePrincipal',
    });
  });

  it("lets the store's ServiceAccount use the identity with the core's ClusterRole and ClusterRoleBinding", () => {
    const [role, roleBinding] = identityBindingRbac({
      clientId: mockClientId('billing'),
      namespace: 'team-b',
      serviceAccountName: 'billing-app',
    });
    const clusterRole = one('kubernetes:rbac.authorization.k8s.io/v1:ClusterRole', 'billing-use-identity');
    expect(clusterRole.inputs).toMatchObject({ metadata: role.metadata, rules: role.rules });
    const clusterRoleBinding = one(
      'kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding',
      'billing-use-identity',
    );
    expect(clusterRoleBinding.inputs).toMatchObject({
      metadata: roleBinding.metadata,
      roleRef: roleBinding.roleRef,
      subjects: [{ kind: 'ServiceAccount', name: 'billing-app', namespace: 'team-b' }],
    });
    // The ServiceAccount carries no workload identity annotation: AKS authorises it through the RBAC.
    const sa = one('kubernetes:core/v1:ServiceAccount', 'billing');
    expect(sa.inputs.metadata).toEqual({ name: 'billing-app', namespace: 'team-b' });
  });

  it("renders the core's identity-binding SecretProviderClass, after the roles and the binding exist", () => {
    const spc = one('kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass', 'billing');
    const expected = renderSecretProviderClass({
      name: 'billing',
      namespace: 'team-b',
      keyVaultName: 'kv-team-b',
      tenantId: MOCK_TENANT_ID,
      identityBindingClientId: mockClientId('billing'),
      objects: base.objects,
    });
    expect(spc.inputs.spec).toEqual(expected.spec);
    expect(spc.inputs.spec.parameters).toMatchObject({
      useAzureTokenProxy: 'true',
      clientID: mockClientId('billing'),
    });
    const after = spc.dependsOn.map((urn) => byUrn(urn)?.type);
    expect(after).toEqual(
      expect.arrayContaining([
        'azure-native:authorization:RoleAssignment',
        'azure-native:containerservice:IdentityBinding',
        'kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding',
      ]),
    );
  });

  it('gives pods no workload identity label', () => {
    expect(store.wiring().podLabels).toEqual({});
    expect(store.wiring().serviceAccountName).toBe('billing-app');
  });
});

describe('SecretStore identity binding input errors', () => {
  it.each([
    [
      'with issuerUrl',
      { issuerUrl: 'https://oidc.example/' },
      'identityBinding: is set together with issuerUrl, but a SecretProviderClass uses one identity; keep issuerUrl for workload identity or identityBinding for identity binding (AKS federates the identity itself)',
    ],
    [
      'with addonIdentityClientId',
      { addonIdentityClientId: '0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f' },
      'identityBinding: is set together with addonIdentityClientId, but a SecretProviderClass uses one identity; keep one of them',
    ],
    [
      'with federatedCredentials',
      { federatedCredentials: [{ name: 'second' }] },
      "federatedCredentials: are for workload identity; with identityBinding AKS keeps the identity's one federated credential itself, so remove federatedCredentials",
    ],
    [
      'without resourceGroupName',
      { resourceGroupName: undefined },
      'resourceGroupName: is required for identity binding: the managed identity is created there',
    ],
    [
      'with a ServiceAccount name too long for the ClusterRole name',
      { serviceAccountName: 'a'.repeat(200) },
      'serviceAccountName: "' + 'a'.repeat(200) + '" makes the ClusterRole name',
    ],
  ])('refuses identity binding %s at construction', (_name, extra, message) => {
    expect(errorOf(() => new SecretStore('bad-ib', { ...base, ...extra }))).toContain(message);
  });
});

describe('SelfHostedInstall with identityBinding', () => {
  const install = new SelfHostedInstall('ib-install', { identityBinding: true });
  beforeAll(() => registered(...install.resources()));

  it('requests the api://AKSIdentityBinding token in the CSIDriver', () => {
    const driver = recorded.find(
      (r) =>
        r.type === 'kubernetes:storage.k8s.io/v1:CSIDriver' &&
        r.parent &&
        byUrn(r.parent)?.name === 'ib-install',
    )!;
    expect(driver.inputs.spec.tokenRequests).toEqual([
      { audience: 'api://AzureADTokenExchange' },
      { audience: 'api://AKSIdentityBinding' },
    ]);
  });
});
