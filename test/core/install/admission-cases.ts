// SecretProviderClasses and what the Azure SPC admission policy must say about each. Shared test data:
// the unit test checks the policy's shape; engineer D's rig test applies each case to a real
// kube-apiserver and expects `allowed` or a denial whose message contains `denied`.
import { KubeObject } from '../../../lib/core/kube-object';

export interface AdmissionCase {
  readonly name: string;
  readonly spc: KubeObject;
  /** Undefined when the apiserver must accept the object; else a substring of the denial message. */
  readonly denied?: string;
}

const OBJECTS = 'array:\n  - |\n    objectName: secret1\n    objectType: secret\n';
const GOOD_PARAMETERS: Record<string, string> = {
  keyvaultName: 'kvname',
  tenantId: '00000000-0000-0000-0000-000000000002',
  clientID: '00000000-0000-0000-0000-000000000001',
  objects: OBJECTS,
};

function spc(name: string, parameters: Record<string, string> | undefined, provider = 'azure'): KubeObject {
  return {
    apiVersion: 'secrets-store.csi.x-k8s.io/v1',
    kind: 'SecretProviderClass',
    metadata: { name, namespace: 'default' },
    spec: { provider, ...(parameters ? { parameters } : {}) },
  };
}

const without = (key: string) =>
  Object.fromEntries(Object.entries(GOOD_PARAMETERS).filter(([k]) => k !== key));

export const AZURE_SPC_ADMISSION_CASES: readonly AdmissionCase[] = [
  { name: 'workload identity, complete', spc: spc('ok-wi', GOOD_PARAMETERS) },
  {
    name: 'tenantID spelling',
    spc: spc('ok-tenant-id-upper', { ...without('tenantId'), tenantID: 'tenant' }),
  },
  {
    name: 'VM managed identity with explicit false for the others',
    spc: spc('ok-vmmi', {
      ...GOOD_PARAMETERS,
      useVMManagedIdentity: 'true',
      usePodIdentity: 'False',
      useAzureTokenProxy: '0',
    }),
  },
  {
    name: 'identity binding with its client id',
    spc: spc('ok-idb', { ...GOOD_PARAMETERS, useAzureTokenProxy: 'true' }),
  },
  {
    name: 'identity binding without a client id',
    spc: spc('idb-no-client', { ...without('clientID'), useAzureTokenProxy: 'True' }),
    denied: 'clientID is required for identity binding',
  },
  {
    name: 'identity binding with a blank client id',
    spc: spc('idb-blank-client', { ...GOOD_PARAMETERS, clientID: ' ', useAzureTokenProxy: '1' }),
    denied: 'spec.parameters.clientID',
  },
  { name: 'another provider is not checked', spc: spc('ok-vault', {}, 'vault') },
  {
    name: 'missing keyvaultName',
    spc: spc('no-vault', without('keyvaultName')),
    denied: 'spec.parameters.keyvaultName',
  },
  {
    name: 'blank keyvaultName',
    spc: spc('blank-vault', { ...GOOD_PARAMETERS, keyvaultName: '  ' }),
    denied: 'spec.parameters.keyvaultName',
  },
  {
    name: 'vault URL instead of name',
    spc: spc('vault-url', { ...GOOD_PARAMETERS, keyvaultName: 'https://kvname.vault.azure.net/' }),
    denied: 'spec.parameters.keyvaultName is not a Key Vault name',
  },
  {
    name: 'vault name too short',
    spc: spc('vault-short', { ...GOOD_PARAMETERS, keyvaultName: 'kv' }),
    denied: 'spec.parameters.keyvaultName is not a Key Vault name',
  },
  {
    name: 'vault name with padding is trimmed like the provider',
    spc: spc('vault-padded', { ...GOOD_PARAMETERS, keyvaultName: ' kvname ' }),
  },
  {
    name: 'missing tenantId',
    spc: spc('no-tenant', without('tenantId')),
    denied: 'spec.parameters.tenantId',
  },
  { name: 'missing objects', spc: spc('no-objects', without('objects')), denied: 'spec.parameters.objects' },
  {
    name: 'no parameters at all',
    spc: spc('no-parameters', undefined),
    denied: 'spec.parameters.keyvaultName',
  },
  {
    name: 'two identity modes',
    spc: spc('two-modes', { ...GOOD_PARAMETERS, usePodIdentity: 'true', useVMManagedIdentity: 'T' }),
    denied: 'more than one identity mode',
  },
  {
    name: 'three identity modes, ParseBool spellings',
    spc: spc('three-modes', {
      ...GOOD_PARAMETERS,
      usePodIdentity: '1',
      useVMManagedIdentity: 'TRUE',
      useAzureTokenProxy: ' True ',
    }),
    denied: 'more than one identity mode',
  },
  {
    name: 'unparseable identity flag',
    spc: spc('yes-flag', { ...GOOD_PARAMETERS, useVMManagedIdentity: 'yes' }),
    denied: 'spec.parameters.useVMManagedIdentity is not a boolean',
  },
  {
    name: 'serveLastKnownContentOnOutage true',
    spc: spc('ok-last-known', { ...GOOD_PARAMETERS, serveLastKnownContentOnOutage: 'true' }),
  },
  {
    name: 'unparseable serveLastKnownContentOnOutage',
    spc: spc('yes-last-known', { ...GOOD_PARAMETERS, serveLastKnownContentOnOutage: 'yes' }),
    denied: 'spec.parameters.serveLastKnownContentOnOutage is not a boolean',
  },
];
