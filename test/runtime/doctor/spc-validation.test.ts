// A live SecretProviderClass read back into lib/core's model: lib/core's rules find the problems, and
// each is named by the field of the object the user wrote, in its words.
import type { SecretProviderClass } from '../../../runtime/driver/cluster/kube/kube-types';
import { readSecretProviderClass, spcDetailOf, spcFieldOf } from '../../../runtime/doctor/spc-validation';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '5a0c9d3e-1111-4e0e-9d1b-1c2d3e4f5a6b';
const OBJECTS = 'array:\n  - |\n    objectName: db-password\n    objectType: secret\n    objectAlias: DB\n';

function spc(parameters: Record<string, string>, secretObjects?: unknown[]): SecretProviderClass {
  return {
    metadata: { name: 'app', namespace: 'team-a' },
    spec: { provider: 'azure', parameters, ...(secretObjects ? { secretObjects } : {}) },
  } as SecretProviderClass;
}

const POD = { known: true };

test('a valid workload identity SPC: no problems, its identity, vault, objects and file names', () => {
  const reading = readSecretProviderClass(
    spc({ keyvaultName: 'kv-a', tenantId: TENANT, clientID: ` ${CLIENT} `, objects: OBJECTS }, [
      { secretName: 'db', type: 'Opaque', data: [{ objectName: 'DB', key: 'password' }] },
    ]),
    POD,
  );
  expect(reading.problems).toEqual([]);
  expect(reading.identity).toEqual({ mode: 'workload-identity', clientId: CLIENT, tenantId: TENANT });
  expect(reading.vault).toBe('kv-a');
  expect(reading.fileNames).toEqual(['DB']);
  expect(reading.syncedSecrets).toEqual([{ secretName: 'db', keys: ['password'] }]);
});

test("lib/core's problems are named by the SPC's fields, all at once", () => {
  const reading = readSecretProviderClass(
    spc(
      {
        keyvaultName: 'https://kv-a.vault.azure.net',
        tenantID: 'contoso',
        clientID: CLIENT,
        objects: OBJECTS.replace('secret', 'Secret'),
      },
      [{ secretName: 'db', data: [{ objectName: 'db-password', key: 'password' }] }],
    ),
    POD,
  );
  expect(reading.problems.map((p) => p.field)).toEqual([
    'spec.secretObjects[0].type',
    'spec.parameters.keyvaultName',
    'spec.parameters.tenantID',
    'spec.parameters.objects array[0].objectType',
  ]);
  expect(reading.problems[3].detail).toBe(
    '"Secret" is not an object type; use one of "secret", "key", "cert"',
  );
});

test('two identity modes, and none', () => {
  const both = readSecretProviderClass(
    spc({
      keyvaultName: 'kv-a',
      tenantId: TENANT,
      clientID: CLIENT,
      useVMManagedIdentity: 'true',
      objects: OBJECTS,
    }),
    POD,
  );
  expect(both.problems).toEqual([
    {
      field: 'spec.parameters (identity)',
      detail: expect.stringContaining(
        'clientID and useVMManagedIdentity are both set, but the provider uses one identity mode at a time',
      ),
    },
  ]);
  const none = readSecretProviderClass(
    spc({ keyvaultName: 'kv-a', tenantId: TENANT, userAssignedIdentityID: CLIENT, objects: OBJECTS }),
    POD,
  );
  expect(none.identity.mode).toBe('none');
  expect(none.problems.map((p) => p.field)).toEqual([
    'spec.parameters.useVMManagedIdentity',
    'spec.parameters (identity)',
  ]);
  // Without a pod (the SPC alone) service principal mode is possible: the pod's volume decides.
  expect(
    readSecretProviderClass(spc({ keyvaultName: 'kv-a', tenantId: TENANT, objects: OBJECTS }), {
      known: false,
    }).problems,
  ).toEqual([]);
});

test('bad booleans, several true flags, pod identity', () => {
  const reading = readSecretProviderClass(
    spc({
      keyvaultName: 'kv-a',
      tenantId: TENANT,
      usePodIdentity: 'true',
      useVMManagedIdentity: 'tru',
      objects: OBJECTS,
    }),
    POD,
  );
  expect(reading.identity.mode).toBe('pod-identity');
  expect(reading.problems).toEqual([
    {
      field: 'spec.parameters.useVMManagedIdentity',
      detail: '"tru" is not a boolean the Azure provider reads; write "true" or "false"',
    },
  ]);
  const many = readSecretProviderClass(
    spc({
      keyvaultName: 'kv-a',
      tenantId: TENANT,
      usePodIdentity: 'True',
      useAzureTokenProxy: '1',
      clientID: CLIENT,
      objects: OBJECTS,
    }),
    POD,
  );
  expect(many.problems[0]).toEqual({
    field: 'spec.parameters',
    detail: expect.stringContaining('usePodIdentity and useAzureTokenProxy are all "true"'),
  });
});

test('an objects parameter the provider cannot decode is one problem with its upstream text', () => {
  const reading = readSecretProviderClass(
    spc({ keyvaultName: 'kv-a', tenantId: TENANT, clientID: CLIENT, objects: '- objectName: a' }),
    POD,
  );
  expect(reading.problems).toEqual([
    { field: 'spec.parameters.objects', detail: expect.stringMatching(/^failed to yaml unmarshal objects/) },
  ]);
});

test('another provider is not read as Azure', () => {
  expect(
    readSecretProviderClass(
      {
        metadata: { name: 'v' },
        spec: { provider: 'vault', parameters: { roleName: 'x' } },
      } as SecretProviderClass,
      POD,
    ),
  ).toMatchObject({
    azure: false,
    problems: [],
  });
});

test('field and word mapping', () => {
  expect(spcFieldOf('workloadIdentityClientId', 'tenantId')).toBe('spec.parameters.clientID');
  expect(spcFieldOf('tenantId', 'tenantID')).toBe('spec.parameters.tenantID');
  expect(spcFieldOf('objects[1].objectAlias', 'tenantId')).toBe(
    'spec.parameters.objects array[1].objectAlias',
  );
  expect(spcFieldOf('secretObjects[0].data[1].key', 'tenantId')).toBe('spec.secretObjects[0].data[1].key');
  expect(spcDetailOf('set objectType to KeyVaultObjectType.SECRET or remove objectFormat')).toBe(
    'set objectType to secret or remove objectFormat',
  );
  expect(spcDetailOf('use one of "pem", "pfx" (ObjectFormat)')).toBe('use one of "pem", "pfx"');
});
