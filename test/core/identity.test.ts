import { AzureCloud, IdentityMode, resolveIdentity } from '../../lib/core';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '00000000-1111-2222-3333-444444444444';

describe('resolveIdentity', () => {
  test('workload identity renders clientID and no VM identity', () => {
    expect(resolveIdentity({ tenantId: TENANT, workloadIdentityClientId: CLIENT })).toEqual({
      mode: IdentityMode.WORKLOAD_IDENTITY,
      parameters: {
        usePodIdentity: 'false',
        useVMManagedIdentity: 'false',
        clientID: CLIENT,
        tenantId: TENANT,
      },
    });
  });

  test('system-assigned VM identity renders an empty userAssignedIdentityID', () => {
    expect(resolveIdentity({ tenantId: TENANT, vmManagedIdentity: true }).parameters).toEqual({
      usePodIdentity: 'false',
      useVMManagedIdentity: 'true',
      userAssignedIdentityID: '',
      tenantId: TENANT,
    });
  });

  test('a user-assigned client id (e.g. the add-on identity) implies VM managed identity', () => {
    const resolved = resolveIdentity({ tenantId: TENANT, userAssignedIdentityClientId: CLIENT });
    expect(resolved.mode).toBe(IdentityMode.VM_MANAGED_IDENTITY);
    expect(resolved.parameters.useVMManagedIdentity).toBe('true');
    expect(resolved.parameters.userAssignedIdentityID).toBe(CLIENT);
  });

  test('service principal mode exposes the nodePublishSecretRef name', () => {
    const resolved = resolveIdentity({ tenantId: TENANT, servicePrincipalSecretName: 'secrets-store-creds' });
    expect(resolved.mode).toBe(IdentityMode.SERVICE_PRINCIPAL);
    expect(resolved.nodePublishSecretName).toBe('secrets-store-creds');
    expect(resolved.parameters).toEqual({
      usePodIdentity: 'false',
      useVMManagedIdentity: 'false',
      tenantId: TENANT,
    });
  });

  test('cloud and Azure Stack environment file are rendered', () => {
    expect(
      resolveIdentity({
        tenantId: 'adfs',
        vmManagedIdentity: true,
        cloudName: AzureCloud.STACK,
        cloudEnvFileName: '/etc/kubernetes/azurestackcloud.json',
      }).parameters,
    ).toMatchObject({
      tenantId: 'adfs',
      cloudName: 'AzureStackCloud',
      cloudEnvFileName: '/etc/kubernetes/azurestackcloud.json',
    });
  });

  test('fails with no identity mode', () => {
    expect(() => resolveIdentity({ tenantId: TENANT })).toThrow(
      'identity: no identity mode is set; set exactly one of workloadIdentityClientId, identityBindingClientId, vmManagedIdentity (optionally with userAssignedIdentityClientId) or servicePrincipalSecretName',
    );
  });

  test('fails with two identity modes, naming both', () => {
    expect(() =>
      resolveIdentity({
        tenantId: TENANT,
        workloadIdentityClientId: CLIENT,
        servicePrincipalSecretName: 'creds',
      }),
    ).toThrow(
      /^identity: workloadIdentityClientId and servicePrincipalSecretName are both set.*keep exactly one/,
    );
    expect(() =>
      resolveIdentity({ tenantId: TENANT, workloadIdentityClientId: CLIENT, vmManagedIdentity: true }),
    ).toThrow(/workloadIdentityClientId and vmManagedIdentity/);
  });

  test('fails when vmManagedIdentity is false but a user-assigned id is given', () => {
    expect(() =>
      resolveIdentity({ tenantId: TENANT, vmManagedIdentity: false, userAssignedIdentityClientId: CLIENT }),
    ).toThrow(/^vmManagedIdentity: is false but userAssignedIdentityClientId is set/);
  });

  test('fails on a missing or malformed tenant id', () => {
    expect(() => resolveIdentity({ tenantId: '', vmManagedIdentity: true })).toThrow(
      /^tenantId: is required/,
    );
    expect(() => resolveIdentity({ tenantId: 'contoso.onmicrosoft.com', vmManagedIdentity: true })).toThrow(
      'tenantId: "contoso.onmicrosoft.com" is not a GUID',
    );
  });

  test('fails on a client id that is not a GUID (e.g. a resource id)', () => {
    expect(() => resolveIdentity({ tenantId: TENANT, workloadIdentityClientId: 'my-app' })).toThrow(
      'workloadIdentityClientId: "my-app" is not a GUID',
    );
    expect(() =>
      resolveIdentity({
        tenantId: TENANT,
        userAssignedIdentityClientId: '/subscriptions/x/resourceGroups/y',
      }),
    ).toThrow(/^userAssignedIdentityClientId: .* client id \(not the object or resource id\)/);
  });

  test('fails on an unknown cloud and on Azure Stack without its environment file', () => {
    expect(() =>
      resolveIdentity({
        tenantId: TENANT,
        vmManagedIdentity: true,
        cloudName: 'AzureGermanCloud' as AzureCloud,
      }),
    ).toThrow(/^cloudName: "AzureGermanCloud" is not a supported cloud; use one of AzurePublicCloud/);
    expect(() =>
      resolveIdentity({ tenantId: TENANT, vmManagedIdentity: true, cloudName: AzureCloud.STACK }),
    ).toThrow(/^cloudEnvFileName: is required for cloudName AzureStackCloud/);
    expect(() =>
      resolveIdentity({ tenantId: TENANT, vmManagedIdentity: true, cloudEnvFileName: '/x.json' }),
    ).toThrow(/^cloudEnvFileName: "\/x.json" is only read for cloudName AzureStackCloud/);
  });

  test('fails on an invalid service principal Secret name', () => {
    expect(() => resolveIdentity({ tenantId: TENANT, servicePrincipalSecretName: 'Creds_1' })).toThrow(
      'servicePrincipalSecretName: "Creds_1" is not a valid Secret name',
    );
  });
});
