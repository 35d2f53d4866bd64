// Every error string of reference azure-provider §1 (plus our documented additions), through the
// real gRPC client on the provider's real unix socket, in the upstream order of checks. None of these
// needs Key Vault: they all fail before the first request.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { mountRequest, objectsYaml } from './support/mount-request';
import { startInProcessProvider, InProcessProvider } from './support/in-process-provider';
import { ProviderClient } from './support/provider-client';

const SP = { clientid: 'app-client-id', clientsecret: 'never-printed-secret-value' };
const BASE = {
  keyvaultName: 'kv1',
  tenantID: 'tenant-1',
  objects: objectsYaml([{ objectName: 'secret1', objectType: 'secret' }]),
};
const obj = (fields: Record<string, string | number>) =>
  objectsYaml([{ objectName: 'secret1', objectType: 'secret', ...fields }]);

let dir: string;
let running: InProcessProvider;
let client: ProviderClient;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provider-errors-'));
  running = await startInProcessProvider(dir);
  client = running.client;
});

afterAll(async () => {
  await running?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Case {
  readonly name: string;
  readonly parameters: Record<string, string>;
  readonly secrets?: Record<string, string>;
  readonly withPodInfo?: boolean;
  readonly permission?: string;
  readonly raw?: { attributes?: string; secrets?: string };
  /** Exact message, or a prefix when `prefix` is set. */
  readonly message: string;
  readonly prefix?: boolean;
}

const wrapped = (text: string) => `failed to mount objects, error: ${text}`;
const objErr = (text: string, name = 'secret1', type = 'secret') =>
  wrapped(`failed to get objectType:${type}, objectName:${name}, objectVersion:: ${text}`);

const cases: Case[] = [
  {
    name: 'attributes not JSON',
    parameters: {},
    raw: { attributes: '{' },
    message: 'failed to unmarshal attributes, error: ',
    prefix: true,
  },
  {
    name: 'secrets not JSON',
    parameters: BASE,
    raw: { secrets: 'nope' },
    message: 'failed to unmarshal secrets, error: ',
    prefix: true,
  },
  {
    name: 'permission not a number',
    parameters: BASE,
    permission: '"0644"',
    message: 'failed to unmarshal file permission, error: ',
    prefix: true,
  },
  { name: 'no pod name', parameters: BASE, withPodInfo: false, message: wrapped('pod name is not provided') },
  {
    name: 'no pod namespace',
    parameters: { ...BASE, 'csi.storage.k8s.io/pod.name': 'p' },
    withPodInfo: false,
    message: wrapped('pod namespace is not provided'),
  },
  {
    name: 'usePodIdentity not a Go bool',
    parameters: { ...BASE, usePodIdentity: 'tru' },
    message: wrapped(
      'failed to parse usePodIdentity flag, error: strconv.ParseBool: parsing "tru": invalid syntax',
    ),
  },
  {
    name: 'useVMManagedIdentity not a Go bool',
    parameters: { ...BASE, useVMManagedIdentity: 'yes' },
    message: wrapped(
      'failed to parse useVMManagedIdentity flag, error: strconv.ParseBool: parsing "yes": invalid syntax',
    ),
  },
  {
    name: 'useAzureTokenProxy not a Go bool',
    parameters: { ...BASE, useAzureTokenProxy: 'on' },
    message: wrapped(
      'failed to parse useAzureTokenProxy flag, error: strconv.ParseBool: parsing "on": invalid syntax',
    ),
  },
  {
    name: 'two identity modes',
    parameters: { ...BASE, usePodIdentity: 'T', useVMManagedIdentity: ' 1 ' },
    message: wrapped(
      'only one identity mode can be enabled at a time: usePodIdentity, useVMManagedIdentity, or useAzureTokenProxy',
    ),
  },
  {
    name: 'no keyvaultName (whitespace only)',
    parameters: { ...BASE, keyvaultName: '   ' },
    message: wrapped('keyvaultName is not provided'),
  },
  { name: 'no tenant', parameters: { ...BASE, tenantID: '' }, message: wrapped('tenantId is not provided') },
  {
    name: 'unknown cloud',
    parameters: { ...BASE, cloudName: 'AzureMoonCloud' },
    secrets: SP,
    message: wrapped(
      'cloudName AzureMoonCloud is not valid, error: autorest/azure: There is no cloud environment matching the name "AZUREMOONCLOUD"',
    ),
  },
  {
    // Our addition (docs/security.md): without --cloud-env-file-dir no request names a file to read.
    name: 'AzureStackCloud with cloudEnvFileName on a provider without --cloud-env-file-dir',
    parameters: { ...BASE, cloudName: 'azurestackcloud', cloudEnvFileName: '/nonexistent/cloud.json' },
    secrets: SP,
    message: wrapped(
      'cloudName azurestackcloud is not valid, error: cloudEnvFileName is not accepted by this provider: it reads cloud environment files only from the directory its --cloud-env-file-dir flag names, and that flag is not set; ask the node administrator to set it (or to set AZURE_ENVIRONMENT_FILEPATH for the whole node) and remove cloudEnvFileName otherwise',
    ),
  },
  {
    name: 'service principal without nodePublishSecretRef',
    parameters: BASE,
    message: wrapped(
      'failed to build auth config for mode None: failed to get credentials, nodePublishSecretRef secret is not set',
    ),
  },
  {
    name: 'service principal without clientid',
    parameters: BASE,
    secrets: {},
    message: wrapped('failed to build auth config for mode None: could not find clientid in secrets'),
  },
  {
    name: 'service principal without clientsecret',
    parameters: BASE,
    secrets: { ClientID: 'x' },
    message: wrapped('failed to build auth config for mode None: could not find clientsecret in secrets'),
  },
  {
    name: 'workload identity without tokens',
    parameters: { ...BASE, clientID: 'wi-client' },
    message: wrapped(
      'failed to build auth config for mode None: failed to parse workload identity tokens, error: service account tokens not found',
    ),
  },
  {
    name: 'workload identity with unparsable tokens',
    parameters: { ...BASE, clientID: 'wi-client', 'csi.storage.k8s.io/serviceAccount.tokens': '{not json' },
    message: wrapped(
      'failed to build auth config for mode None: failed to parse workload identity tokens, error: failed to unmarshal service account tokens, error: ',
    ),
    prefix: true,
  },
  {
    name: 'workload identity without the exchange audience',
    parameters: {
      ...BASE,
      clientID: 'wi-client',
      'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({
        'api://other': { token: 'x', expirationTimestamp: '2030-01-01T00:00:00Z' },
      }),
    },
    message: wrapped(
      'failed to build auth config for mode None: failed to parse workload identity tokens, error: token for audience api://AzureADTokenExchange not found',
    ),
  },
  {
    name: 'VM managed identity with clientID still needs the token (upstream quirk)',
    parameters: { ...BASE, useVMManagedIdentity: 'true', clientID: 'x' },
    message: wrapped(
      'failed to build auth config for mode VMManagedIdentity: failed to parse workload identity tokens, error: service account tokens not found',
    ),
  },
  {
    name: 'identity binding without clientID',
    parameters: { ...BASE, useAzureTokenProxy: 'true' },
    message: wrapped(
      'failed to build auth config for mode AzureTokenProxy: clientID is required for identity binding',
    ),
  },
  {
    name: 'identity binding without tokens',
    parameters: { ...BASE, useAzureTokenProxy: 'true', clientID: 'x' },
    message: wrapped(
      'failed to build auth config for mode AzureTokenProxy: service account tokens are required for identity binding',
    ),
  },
  {
    name: 'no objects',
    parameters: { ...BASE, objects: ' ' },
    secrets: SP,
    message: wrapped('objects is not set'),
  },
  {
    name: 'objects without array:',
    parameters: { ...BASE, objects: '- objectName: a' },
    secrets: SP,
    message: wrapped('failed to yaml unmarshal objects, error: yaml: unmarshal errors:'),
    prefix: true,
  },
  {
    name: 'object that is not a YAML map',
    parameters: { ...BASE, objects: 'array:\n  - |\n    just text\n' },
    secrets: SP,
    message: wrapped('unmarshal failed for keyVaultObjects at index 0, error: yaml: unmarshal errors:'),
    prefix: true,
  },
  {
    name: 'invalid objectFormat',
    parameters: { ...BASE, objects: obj({ objectFormat: 'pkcs' }) },
    secrets: SP,
    message: objErr('invalid objectFormat: pkcs, should be PEM or PFX'),
  },
  {
    name: 'pfx on a key',
    parameters: {
      ...BASE,
      objects: objectsYaml([{ objectName: 'k1', objectType: 'key', objectFormat: 'pfx' }]),
    },
    secrets: SP,
    message: objErr('PFX format only supported for objectType: secret', 'k1', 'key'),
  },
  {
    name: 'objectEncoding on a cert',
    parameters: {
      ...BASE,
      objects: objectsYaml([{ objectName: 'c1', objectType: 'cert', objectEncoding: 'base64' }]),
    },
    secrets: SP,
    message: objErr('objectEncoding only supported for objectType: secret', 'c1', 'cert'),
  },
  {
    name: 'invalid objectEncoding',
    parameters: { ...BASE, objects: obj({ objectEncoding: 'rot13' }) },
    secrets: SP,
    message: objErr('invalid objectEncoding: rot13, should be hex, base64 or utf-8'),
  },
  {
    name: 'alias ../x',
    parameters: { ...BASE, objects: obj({ objectAlias: '../x' }) },
    secrets: SP,
    message: objErr("file name must not contain '..'"),
  },
  {
    name: 'alias /abs',
    parameters: { ...BASE, objects: obj({ objectAlias: '/abs' }) },
    secrets: SP,
    message: objErr('file name must be a relative path'),
  },
  {
    name: 'alias a/../../b',
    parameters: { ...BASE, objects: obj({ objectAlias: 'a/../../b' }) },
    secrets: SP,
    message: objErr("file name must not contain '..'"),
  },
  {
    name: 'alias ..data',
    parameters: { ...BASE, objects: obj({ objectAlias: '..data' }) },
    secrets: SP,
    message: objErr("file name must not contain '..'"),
  },
  {
    name: 'object name ..',
    parameters: { ...BASE, objects: objectsYaml([{ objectName: '..', objectType: 'secret' }]) },
    secrets: SP,
    message: objErr("file name must not contain '..'", '..'),
  },
  {
    name: 'vault name too short',
    parameters: { ...BASE, keyvaultName: 'kv' },
    secrets: SP,
    message: wrapped('failed to get vault: Invalid vault name: "kv", must be between 3 and 24 chars'),
  },
  {
    name: 'vault name with _',
    parameters: { ...BASE, keyvaultName: 'my_vault' },
    secrets: SP,
    message: wrapped('failed to get vault: Invalid vault name: "my_vault", must match [-a-zA-Z0-9]{3,24}'),
  },
  {
    name: 'unknown objectType',
    parameters: { ...BASE, objects: objectsYaml([{ objectName: 's', objectType: 'Secret' }]) },
    secrets: SP,
    message: objErr('Invalid vaultObjectTypes. Should be secret, key, or cert', 's', 'Secret'),
  },
  {
    // Upstream decodes and validates one item at a time, so item 0's check fails before item 1 is decoded.
    name: 'two bad objects: item 0 fails its checks before item 1 fails to decode',
    parameters: {
      ...BASE,
      objects:
        'array:\n  - |\n    objectName: s0\n    objectType: secret\n    objectFormat: pkcs\n  - |\n    just text\n',
    },
    secrets: SP,
    message: objErr('invalid objectFormat: pkcs, should be PEM or PFX', 's0'),
  },
  // Our additions (docs/compatibility.md): upstream silently writes mode 0 / fails later in the driver.
  {
    name: 'invalid filePermission names the object',
    parameters: { ...BASE, objects: obj({ filePermission: '0900' }) },
    secrets: SP,
    message: objErr(
      'invalid filePermission "0900": use an octal file mode between 0000 and 0777, e.g. "0644" or "0400"',
    ),
  },
  {
    // Upstream never checks filePermission, so every error it does report comes first.
    name: "an invalid filePermission comes after another object's upstream check",
    parameters: {
      ...BASE,
      objects: objectsYaml([
        { objectName: 's0', objectType: 'secret', filePermission: '0900' },
        { objectName: 's1', objectType: 'secret', objectEncoding: 'rot13' },
      ]),
    },
    secrets: SP,
    message: objErr('invalid objectEncoding: rot13, should be hex, base64 or utf-8', 's1'),
  },
  {
    name: 'empty objects array',
    parameters: { ...BASE, objects: 'array: []' },
    secrets: SP,
    message: wrapped(
      'the objects parameter lists no objects (array is empty); add at least one object to the SecretProviderClass',
    ),
  },
];

describe('Mount errors over the socket', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const request = mountRequest({
      parameters: c.parameters,
      secrets: c.secrets,
      withPodInfo: c.withPodInfo,
      permission: c.permission,
    });
    const err = await client.mountError({ ...request, ...(c.raw ?? {}) });
    // Upstream returns plain Go errors, which grpc-go sends as status Unknown.
    expect(err.code).toBe(grpc.status.UNKNOWN);
    if (c.prefix) expect(err.details.startsWith(c.message)).toBe(true);
    else expect(err.details).toBe(c.message);
  });

  it('reads tenantID before the deprecated tenantId, and accepts tenantId alone', async () => {
    const both = await client.mountError(
      mountRequest({
        parameters: { ...BASE, tenantID: ' ', tenantId: 'legacy', keyvaultName: 'kv' },
        secrets: SP,
      }),
    );
    expect(both.details).toContain('Invalid vault name');
  });

  it('matches nodePublishSecretRef keys case-insensitively', async () => {
    const err = await client.mountError(
      mountRequest({
        parameters: { ...BASE, keyvaultName: 'kv' },
        secrets: { ClientId: 'a', CLIENTSECRET: 'b-secret-value' },
      }),
    );
    expect(err.details).toContain('Invalid vault name');
  });

  it('never prints the client secret in a log line or an error', async () => {
    await client.mountError(
      mountRequest({ parameters: { ...BASE, objects: obj({ objectAlias: '/abs' }) }, secrets: SP }),
    );
    expect(running.logs.length).toBeGreaterThan(0);
    expect(running.logs.join('\n')).not.toContain(SP.clientsecret);
    const metrics = await fetchText(`http://127.0.0.1:${running.provider.metricsPort}/metrics`);
    expect(metrics).toContain(
      'grpc_request_count{os_type="linux",provider="azure",grpc_method="/v1alpha1.CSIDriverProvider/Mount",grpc_code="Unknown"',
    );
    expect(metrics).not.toContain(SP.clientsecret);
  });
});

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url);
  return res.text();
}
