import {
  IdentityMode,
  identityBindingRbac,
  installCapabilityProblems,
  renderSecretProviderClass,
  resolveIdentity,
  resolveInstallOptions,
} from '../../lib/core';
import { validateKubeObject } from './install/offline-validation';

// AKS identity binding (azure-provider §3.3): `useAzureTokenProxy: "true"` + `clientID` of a
// user-assigned identity, the token audience api://AKSIdentityBinding, and RBAC that lets the pod's
// ServiceAccount use the identity. Upstream's texts where the provider has one.

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const UAMI = '0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f';

describe('identity binding in the SecretProviderClass model', () => {
  test('renders useAzureTokenProxy and clientID, as upstream documents the SPC', () => {
    expect(resolveIdentity({ tenantId: TENANT, identityBindingClientId: UAMI })).toEqual({
      mode: IdentityMode.IDENTITY_BINDING,
      parameters: {
        usePodIdentity: 'false',
        useVMManagedIdentity: 'false',
        useAzureTokenProxy: 'true',
        clientID: UAMI,
        tenantId: TENANT,
      },
    });
  });

  test("is exclusive with every other identity mode, with upstream's words where the provider has them", () => {
    expect(() =>
      resolveIdentity({ tenantId: TENANT, identityBindingClientId: UAMI, vmManagedIdentity: true }),
    ).toThrow(
      'identity: identityBindingClientId and vmManagedIdentity are both set, but the provider uses one identity mode at a time ("only one identity mode can be enabled at a time: usePodIdentity, useVMManagedIdentity, or useAzureTokenProxy"); keep exactly one of',
    );
    expect(() =>
      resolveIdentity({ tenantId: TENANT, identityBindingClientId: UAMI, workloadIdentityClientId: UAMI }),
    ).toThrow(/^identity: workloadIdentityClientId and identityBindingClientId are both set/);
    expect(() =>
      resolveIdentity({ tenantId: TENANT, identityBindingClientId: UAMI, servicePrincipalSecretName: 'sp' }),
    ).toThrow(/^identity: identityBindingClientId and servicePrincipalSecretName are both set/);
  });

  test('needs the client id of a user-assigned identity', () => {
    expect(() => resolveIdentity({ tenantId: TENANT, identityBindingClientId: '' })).toThrow(
      'identityBindingClientId: is empty, and the provider refuses identity binding without it ("clientID is required for identity binding")',
    );
    expect(() => resolveIdentity({ tenantId: TENANT, identityBindingClientId: 'my-identity' })).toThrow(
      'identityBindingClientId: "my-identity" is not a GUID; use the client id of the user-assigned managed identity the AKS IdentityBinding names',
    );
    expect(() =>
      resolveIdentity({ tenantId: TENANT, identityBindingClientId: 42 as unknown as string }),
    ).toThrow('identityBindingClientId: must be a string but is number 42');
  });

  test('renders a whole SecretProviderClass', () => {
    const spc = renderSecretProviderClass({
      name: 'orders',
      keyVaultName: 'kv-orders',
      tenantId: TENANT,
      identityBindingClientId: UAMI,
      objects: [{ objectName: 'db-password', objectType: 'secret' }],
    });
    expect((spc.spec as { parameters: Record<string, string> }).parameters).toMatchObject({
      useAzureTokenProxy: 'true',
      clientID: UAMI,
      keyvaultName: 'kv-orders',
    });
  });
});

describe('the install an identity-binding SPC needs', () => {
  const needs = { identityMode: IdentityMode.IDENTITY_BINDING, syncedSecretNames: [] };

  test('is refused without the api://AKSIdentityBinding token request', () => {
    expect(installCapabilityProblems(needs, resolveInstallOptions({}), 'platform/install')).toEqual([
      {
        field: 'identityBindingClientId',
        detail:
          'identity binding needs a service-account token for api://AKSIdentityBinding, but the install platform/install has identityBinding: false, so its CSIDriver requests none and every mount would fail ("service account tokens are required for identity binding"); set identityBinding: true on the install or use another identity mode',
      },
    ]);
  });

  test('is served with identityBinding: true, even without workload identity', () => {
    const install = resolveInstallOptions({ identityBinding: true, workloadIdentity: false });
    expect(installCapabilityProblems(needs, install, 'install')).toEqual([]);
  });
});

describe('identityBindingRbac', () => {
  const objects = identityBindingRbac({ clientId: UAMI, namespace: 'orders', serviceAccountName: 'orders' });

  test('lets exactly this ServiceAccount use exactly this identity', () => {
    const name = `use-managed-identity:orders:orders:${UAMI}`;
    expect(objects).toEqual([
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name },
        rules: [{ apiGroups: ['cid.wi.aks.azure.com'], resources: [UAMI], verbs: ['use-managed-identity'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [{ kind: 'ServiceAccount', name: 'orders', namespace: 'orders' }],
      },
    ]);
    for (const object of objects) expect(() => validateKubeObject(object)).not.toThrow();
  });

  test('fails on a client id that is not a GUID or names Kubernetes would refuse', () => {
    expect(() =>
      identityBindingRbac({ clientId: 'x', namespace: 'orders', serviceAccountName: 'o' }),
    ).toThrow(/^clientId: "x" is not a GUID/);
    expect(() =>
      identityBindingRbac({ clientId: UAMI, namespace: 'Orders', serviceAccountName: 'o' }),
    ).toThrow(/^namespace: "Orders" is not a valid Kubernetes namespace/);
    expect(() =>
      identityBindingRbac({ clientId: UAMI, namespace: 'orders', serviceAccountName: 'a'.repeat(200) }),
    ).toThrow(
      /^serviceAccountName: "a{200}" makes the ClusterRole name .* longer than Kubernetes' 253 characters/,
    );
  });
});
