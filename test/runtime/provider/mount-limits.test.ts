// The bounds our provider puts on what a pod author controls (docs/security.md): cloudEnvFileName only
// inside --cloud-env-file-dir, as a regular file of at most 64 KiB whose bytes no error shows; the
// sizes of the request, its parameters and its objects; names, versions and file names Key Vault and
// the driver can take; one file per object. Over the real socket; nothing here reaches Key Vault.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startProvider } from '../../../runtime/provider/main';
import { mountRequest, objectsYaml, POD_ATTRIBUTES } from './support/mount-request';
import { InProcessProvider, startInProcessProvider } from './support/in-process-provider';
import { ProviderClient } from './support/provider-client';

const SP = { clientid: 'app-client-id', clientsecret: 'never-printed-secret-value' };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provider-limits-'));
const clouds = path.join(dir, 'clouds');
const BASE = {
  keyvaultName: 'kv1',
  tenantID: 'tenant-1',
  objects: objectsYaml([{ objectName: 'secret1', objectType: 'secret' }]),
};
const STACK = { ...BASE, cloudName: 'AzureStackCloud' };
const wrapped = (text: string) => `failed to mount objects, error: ${text}`;
const cloudError = (text: string) => wrapped(`cloudName AzureStackCloud is not valid, error: ${text}`);
const objErr = (text: string, name = 'secret1', version = '') =>
  wrapped(`failed to get objectType:secret, objectName:${name}, objectVersion:${version}: ${text}`);
const outside = (requested: string) =>
  cloudError(
    `cloudEnvFileName ${JSON.stringify(requested)} is not inside ${clouds}, the directory this provider reads cloud environment files from (--cloud-env-file-dir); name a file in it`,
  );

let running: InProcessProvider;
let client: ProviderClient;

beforeAll(async () => {
  fs.mkdirSync(path.join(clouds, 'a-directory'), { recursive: true });
  fs.writeFileSync(path.join(clouds, 'not-json.json'), 'tenant-a-file-content {');
  fs.writeFileSync(path.join(clouds, 'big.json'), `{"name":"${'x'.repeat(70 * 1024)}"}`);
  fs.writeFileSync(
    path.join(clouds, 'stack.json'),
    JSON.stringify({
      name: 'AzureStackCloud',
      activeDirectoryEndpoint: 'https://login.limits.invalid/',
      keyVaultEndpoint: 'https://vault.limits.invalid/',
      keyVaultDNSSuffix: 'vault.limits.invalid',
    }),
  );
  fs.symlinkSync('/etc/passwd', path.join(clouds, 'passwd-link.json'));
  execFileSync('mkfifo', [path.join(clouds, 'fifo.json')]);
  running = await startInProcessProvider(dir, [`--cloud-env-file-dir=${clouds}`, '--keyvault-max-retries=0']);
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
  readonly message: string;
}

const longName = 'n'.repeat(128);
const cases: Case[] = [
  {
    name: 'a path outside the directory',
    parameters: { ...STACK, cloudEnvFileName: '/etc/passwd' },
    message: outside('/etc/passwd'),
  },
  {
    name: '/dev/zero',
    parameters: { ...STACK, cloudEnvFileName: '/dev/zero' },
    message: outside('/dev/zero'),
  },
  {
    name: '/proc/self/environ',
    parameters: { ...STACK, cloudEnvFileName: '/proc/self/environ' },
    message: outside('/proc/self/environ'),
  },
  {
    name: 'a relative path climbing out',
    parameters: { ...STACK, cloudEnvFileName: '../azure.sock' },
    message: outside('../azure.sock'),
  },
  {
    name: 'the directory itself',
    parameters: { ...STACK, cloudEnvFileName: clouds },
    message: outside(clouds),
  },
  {
    name: 'a symbolic link inside pointing out',
    parameters: { ...STACK, cloudEnvFileName: 'passwd-link.json' },
    message: outside('passwd-link.json'),
  },
  {
    name: 'a FIFO inside (refused without blocking)',
    parameters: { ...STACK, cloudEnvFileName: 'fifo.json' },
    message: cloudError('cloud environment file fifo.json is not a regular file'),
  },
  {
    name: 'a directory inside',
    parameters: { ...STACK, cloudEnvFileName: 'a-directory' },
    message: cloudError('read a-directory: is a directory'),
  },
  {
    name: 'a file over 64 KiB',
    parameters: { ...STACK, cloudEnvFileName: path.join(clouds, 'big.json') },
    message: cloudError(
      `cloud environment file ${path.join(clouds, 'big.json')} is 71691 bytes, more than the 65536 a cloud environment file may have`,
    ),
  },
  {
    name: 'a file that is not JSON: no byte of it is shown',
    parameters: { ...STACK, cloudEnvFileName: 'not-json.json' },
    message: cloudError('cloud environment file not-json.json is not valid JSON'),
  },
  {
    name: 'a missing file inside: upstream words',
    parameters: { ...STACK, cloudEnvFileName: 'missing.json' },
    message: cloudError('open missing.json: no such file or directory'),
  },
  {
    name: 'attributes over 1 MiB',
    parameters: { ...BASE, padding: 'p'.repeat(1024 * 1024) },
    message: wrapped(
      `the attributes JSON is ${JSON.stringify({ ...BASE, padding: 'p'.repeat(1024 * 1024), ...POD_ATTRIBUTES }).length} bytes, more than the 1048576 this provider accepts; shrink the SecretProviderClass parameters`,
    ),
  },
  {
    name: 'objects over 128 KiB',
    parameters: { ...BASE, objects: `array: []\n#${'c'.repeat(128 * 1024)}` },
    message: wrapped(
      'parameter objects is 131083 bytes, more than the 131072 this provider accepts; split the objects over several SecretProviderClasses',
    ),
  },
  {
    name: 'service-account tokens over 16 KiB',
    parameters: { ...BASE, 'csi.storage.k8s.io/serviceAccount.tokens': 't'.repeat(17 * 1024) },
    message: wrapped(
      'parameter csi.storage.k8s.io/serviceAccount.tokens is 17408 bytes, more than the 16384 this provider accepts; check the SecretProviderClass parameters',
    ),
  },
  {
    name: 'a clientID over 256 bytes',
    parameters: { ...BASE, clientID: 'c'.repeat(300) },
    message: wrapped(
      'parameter clientID is 300 bytes, more than the 256 this provider accepts; check the SecretProviderClass parameters',
    ),
  },
  {
    name: 'a cloudName over 1 KiB (never echoed)',
    parameters: { ...BASE, cloudName: 'x'.repeat(5000) },
    message: wrapped(
      'parameter cloudName is 5000 bytes, more than the 1024 this provider accepts; check the SecretProviderClass parameters',
    ),
  },
  {
    name: 'a client secret over 4 KiB',
    parameters: BASE,
    secrets: { clientid: 'a', clientsecret: 's'.repeat(5000) },
    message: wrapped(
      'clientsecret in the nodePublishSecretRef secret is 5000 bytes, more than the 4096 this provider accepts; put the service principal client id and secret there',
    ),
  },
  {
    name: 'an objectFormat over 1 KiB (never echoed)',
    parameters: {
      ...BASE,
      objects: objectsYaml([{ objectName: 's', objectType: 'secret', objectFormat: 'f'.repeat(2000) }]),
    },
    message: wrapped(
      'objectFormat of object 0 of the objects parameter is 2000 bytes, more than the 1024 this provider accepts; Key Vault names are at most 127 characters',
    ),
  },
  {
    name: 'an objectName that is a path',
    parameters: { ...BASE, objects: objectsYaml([{ objectName: 'a/b', objectType: 'secret' }]) },
    message: objErr(
      'objectName must be 1-127 letters, digits and dashes (the Key Vault rule for object names)',
      'a/b',
    ),
  },
  {
    name: 'an objectName with a query string',
    parameters: {
      ...BASE,
      objects: objectsYaml([{ objectName: '"s1?api-version=1.0"', objectType: 'secret' }]),
    },
    message: objErr(
      'objectName must be 1-127 letters, digits and dashes (the Key Vault rule for object names)',
      's1?api-version=1.0',
    ),
  },
  {
    name: 'an objectName of 128 characters',
    parameters: { ...BASE, objects: objectsYaml([{ objectName: longName, objectType: 'secret' }]) },
    message: objErr(
      'objectName must be 1-127 letters, digits and dashes (the Key Vault rule for object names)',
      longName,
    ),
  },
  {
    name: 'an objectVersion that is a path',
    parameters: {
      ...BASE,
      objects: objectsYaml([{ objectName: 'secret1', objectType: 'secret', objectVersion: 'v1/../x' }]),
    },
    message: objErr("file name must not contain '..'", 'secret1', 'v1/../x').replace(
      "file name must not contain '..'",
      'objectVersion must be empty, "latest" or a Key Vault version id (32 letters and digits)',
    ),
  },
  {
    name: 'an alias with a control character',
    parameters: {
      ...BASE,
      objects: 'array:\n  - |\n    objectName: secret1\n    objectType: secret\n    objectAlias: "a\\x07b"\n',
    },
    message: objErr('file name must not contain control characters (U+0007 at position 1)'),
  },
  {
    name: 'an alias with an empty path element',
    parameters: {
      ...BASE,
      objects: objectsYaml([{ objectName: 'secret1', objectType: 'secret', objectAlias: 'a//b' }]),
    },
    message: objErr("file name must not have empty or '.' path elements (a//b, a/./b, a trailing /)"),
  },
  {
    name: "an alias with a '.' path element",
    parameters: {
      ...BASE,
      objects: objectsYaml([{ objectName: 'secret1', objectType: 'secret', objectAlias: 'a/./b' }]),
    },
    message: objErr("file name must not have empty or '.' path elements (a//b, a/./b, a trailing /)"),
  },
  {
    name: 'an alias element over 255 bytes',
    parameters: {
      ...BASE,
      objects: objectsYaml([
        { objectName: 'secret1', objectType: 'secret', objectAlias: `d/${'e'.repeat(256)}` },
      ]),
    },
    message: objErr('each path element of a file name must be at most 255 bytes'),
  },
  {
    name: 'two objects with one alias',
    parameters: {
      ...BASE,
      objects: objectsYaml([
        { objectName: 'one', objectType: 'secret', objectAlias: 'same' },
        { objectName: 'two', objectType: 'secret', objectAlias: 'same' },
      ]),
    },
    message: wrapped(
      'objects secret/one and secret/two both write "same"; give one of them another objectAlias',
    ),
  },
  {
    name: "an alias inside another object's file",
    parameters: {
      ...BASE,
      objects: objectsYaml([
        { objectName: 'one', objectType: 'secret', objectAlias: 'conf' },
        { objectName: 'two', objectType: 'secret', objectAlias: 'conf/inner' },
      ]),
    },
    message: wrapped(
      'object secret/two writes "conf/inner" inside the file "conf" of object secret/one; give one of them another objectAlias',
    ),
  },
  {
    name: 'more object versions than one Mount fetches',
    parameters: {
      ...BASE,
      objects: objectsYaml(
        ['a', 'b', 'c'].map((name) => ({
          objectName: name,
          objectType: 'secret',
          objectVersionHistory: 400,
        })),
      ),
    },
    message: wrapped(
      'the objects ask for 1200 object versions (one per object, N per objectVersionHistory N), more than the 1000 one Mount fetches; lower objectVersionHistory or split the objects over several SecretProviderClasses',
    ),
  },
  {
    name: 'more than 1000 objects',
    parameters: {
      ...BASE,
      objects: objectsYaml(
        Array.from({ length: 1001 }, (_, i) => ({ objectName: `s${i}`, objectType: 'secret' })),
      ),
    },
    message: wrapped(
      'failed to yaml unmarshal objects, error: the array lists 1001 objects, more than the 1000 one SecretProviderClass may mount; split them over several SecretProviderClasses',
    ),
  },
  {
    name: 'deeply nested YAML',
    parameters: { ...BASE, objects: `array: ${'['.repeat(10_000)}${']'.repeat(10_000)}` },
    message: wrapped(
      'failed to yaml unmarshal objects, error: yaml: line 1: flow collections nested deeper than 64 levels, the most this parser reads',
    ),
  },
];

describe('limits on what a pod author sends', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const err = await client.mountError(mountRequest({ parameters: c.parameters, secrets: c.secrets ?? SP }));
    expect(err.details).toBe(c.message);
    // The provider keeps serving.
    await expect(client.version()).resolves.toEqual(expect.objectContaining({ version: 'v1alpha1' }));
  });

  it('reads a cloud file inside the directory, by a relative or an absolute name', async () => {
    for (const name of ['stack.json', path.join(clouds, 'stack.json')]) {
      const err = await client.mountError(
        mountRequest({ parameters: { ...STACK, cloudEnvFileName: name }, secrets: SP }),
      );
      // Past the cloud: the vault host of the file's suffix does not resolve.
      expect(err.details).toMatch(
        /^failed to mount objects, error: failed to get objectType:secret, objectName:secret1/,
      );
      expect(err.details).toContain('vault.limits.invalid');
    }
  });

  it('ignores cloudEnvFileName for a built-in cloud, as before', async () => {
    const err = await client.mountError(
      mountRequest({
        parameters: {
          ...BASE,
          keyvaultName: 'kv',
          cloudName: 'AzurePublicCloud',
          cloudEnvFileName: '/dev/zero',
        },
        secrets: SP,
      }),
    );
    expect(err.details).toContain('Invalid vault name: "kv"');
  });

  it('refuses a negative --cache-max-age or --rotation-cache-max-age', async () => {
    for (const flag of ['cache-max-age', 'rotation-cache-max-age'])
      await expect(startProvider([`--endpoint=unix://${dir}/other.sock`, `--${flag}=-2s`])).rejects.toThrow(
        `invalid value "-2s" for flag --${flag}: "-2s" is not a duration`,
      );
  });

  it('refuses --cloud-env-file-dir that is not an absolute directory', async () => {
    await expect(
      startProvider([`--endpoint=unix://${dir}/other.sock`, '--cloud-env-file-dir=clouds']),
    ).rejects.toThrow(
      'invalid value "clouds" for flag --cloud-env-file-dir: must be the absolute path of a directory',
    );
  });
});
