import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  AzureCloud,
  KeyVaultObjectType,
  renderSecretProviderClassParameters,
  SecretProviderClassProps,
} from '../../lib/core';
import { buildOracle, requireOracleInCi, runOracle } from './go-oracle/oracle';

// Every identity mode and cloud we render is accepted by the real upstream provider v1.8.2 up to the
// point where it would call Azure: parameters parsed, identity mode chosen, cloud resolved, auth
// config built. (`objects` is replaced by an empty array so the provider stops before the network;
// the objects text itself is covered by objects-oracle.test.ts.)

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '00000000-1111-2222-3333-444444444444';
const POD = { 'csi.storage.k8s.io/pod.name': 'web-0', 'csi.storage.k8s.io/pod.namespace': 'team-a' };
// What the driver adds for workload identity (CSIDriver tokenRequests); the token is never verified here.
const SA_TOKENS = {
  'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({
    'api://AzureADTokenExchange': {
      token: 'header.payload.signature',
      expirationTimestamp: '2030-01-01T00:00:00Z',
    },
  }),
};
const SP_SECRETS = { clientid: CLIENT, clientsecret: 'not-a-real-secret' };

const base: SecretProviderClassProps = {
  name: 'app',
  keyVaultName: 'kv-team-a',
  tenantId: TENANT,
  objects: [{ objectName: 'db-password', objectType: KeyVaultObjectType.SECRET }],
};

describe('rendered SPC parameters vs the upstream Go provider (oracle)', () => {
  let unavailable: string | undefined;
  let dir: string;

  beforeAll(() => {
    unavailable = buildOracle();
    requireOracleInCi(unavailable);
    dir = mkdtempSync(join(tmpdir(), 'spc-oracle-'));
  }, 600_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('every identity mode and cloud is accepted; missing pieces are refused', () => {
    if (unavailable) {
      console.warn(`spc-parameters-oracle: skipped outside CI: ${unavailable}`);
      return;
    }
    const stackFile = join(dir, 'azurestackcloud.json');
    writeFileSync(
      stackFile,
      JSON.stringify({
        name: 'AzureStackCloud',
        activeDirectoryEndpoint: 'https://adfs.local.azurestack.external/',
        keyVaultEndpoint: 'https://vault.local.azurestack.external/',
        keyVaultDNSSuffix: 'vault.local.azurestack.external',
        resourceManagerEndpoint: 'https://management.local.azurestack.external/',
      }),
    );
    const cases: { name: string; props: SecretProviderClassProps; extra?: object; secrets?: object }[] = [
      { name: 'workload identity', props: { ...base, workloadIdentityClientId: CLIENT }, extra: SA_TOKENS },
      { name: 'system-assigned VM identity', props: { ...base, vmManagedIdentity: true } },
      { name: 'user-assigned (add-on) identity', props: { ...base, userAssignedIdentityClientId: CLIENT } },
      {
        name: 'service principal',
        props: { ...base, servicePrincipalSecretName: 'creds' },
        secrets: SP_SECRETS,
      },
      ...[AzureCloud.PUBLIC, AzureCloud.US_GOVERNMENT, AzureCloud.CHINA].map((cloudName) => ({
        name: cloudName,
        props: { ...base, vmManagedIdentity: true, cloudName },
      })),
      {
        name: 'Azure Stack with AD FS',
        props: {
          ...base,
          tenantId: 'adfs',
          vmManagedIdentity: true,
          cloudName: AzureCloud.STACK,
          cloudEnvFileName: stackFile,
        },
      },
    ];
    const inputs = cases.map(({ props, extra, secrets }) => ({
      attributes: { ...renderSecretProviderClassParameters(props), objects: 'array: []', ...POD, ...extra },
      secrets: secrets ?? {},
    }));
    // Controls: the oracle does refuse what upstream refuses.
    const wi = inputs[0].attributes;
    const withoutTokens = { ...wi } as Record<string, string>;
    delete withoutTokens['csi.storage.k8s.io/serviceAccount.tokens'];
    const withoutTenant = { ...inputs[1].attributes } as Record<string, string>;
    delete withoutTenant.tenantId;
    const controls = [
      { attributes: withoutTokens, secrets: {} },
      { attributes: withoutTenant, secrets: {} },
      { attributes: inputs[3].attributes, secrets: {} },
    ];

    const results = runOracle('mount', [...inputs, ...controls]);
    expect(Object.fromEntries(cases.map((c, i) => [c.name, results[i]]))).toEqual(
      Object.fromEntries(cases.map((c) => [c.name, {}])),
    );
    expect(results.slice(cases.length).map((r) => r.error)).toEqual([
      'failed to build auth config for mode None: failed to parse workload identity tokens, error: service account tokens not found',
      'tenantId is not provided',
      'failed to build auth config for mode None: could not find clientid in secrets',
    ]);
  });
});
