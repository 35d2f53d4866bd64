import {
  KeyVaultObject,
  KeyVaultObjectType,
  ObjectEncoding,
  ObjectFormat,
  parseObjectsParameter,
  renderSecretProviderClass,
  SecretProviderClassProps,
  SecretType,
} from '../../lib/core';
import { CLIENT, seedSpcProps, TENANT } from './fixtures';

const base: SecretProviderClassProps = { name: 'azure-sync', namespace: 'team-a', ...seedSpcProps };

const withObjects = (...objects: KeyVaultObject[]): SecretProviderClassProps => ({
  ...base,
  objects,
  secretObjects: undefined,
});

describe('renderSecretProviderClass', () => {
  test('renders the seed sync example with workload identity', () => {
    const spc = renderSecretProviderClass(base);
    expect(spc).toMatchSnapshot();
    expect(spc).toMatchObject({
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: 'azure-sync', namespace: 'team-a' },
      spec: {
        provider: 'azure',
        parameters: {
          usePodIdentity: 'false',
          useVMManagedIdentity: 'false',
          clientID: CLIENT,
          keyvaultName: 'kv-team-a',
          tenantId: TENANT,
        },
        secretObjects: [
          { secretName: 'foosecret', type: 'Opaque', data: [{ objectName: 'foo1', key: 'username' }] },
        ],
      },
    });
  });

  test('every parameter is a string and objects parses back', () => {
    const spec = renderSecretProviderClass(base).spec as { parameters: Record<string, unknown> };
    for (const value of Object.values(spec.parameters)) expect(typeof value).toBe('string');
    expect(parseObjectsParameter(spec.parameters.objects as string)).toHaveLength(1);
  });

  test('omits secretObjects, namespace, labels when not given and defaults type to Opaque', () => {
    const spc = renderSecretProviderClass({ ...base, namespace: undefined, secretObjects: undefined });
    expect(spc.metadata).toEqual({ name: 'azure-sync' });
    expect(spc.spec).not.toHaveProperty('secretObjects');
    const typed = renderSecretProviderClass({
      ...base,
      secretObjects: [{ secretName: 's', data: [{ objectName: 'foo1', key: 'k' }], labels: { app: 'x' } }],
    });
    expect((typed.spec as { secretObjects: unknown[] }).secretObjects[0]).toEqual({
      secretName: 's',
      type: 'Opaque',
      labels: { app: 'x' },
      data: [{ objectName: 'foo1', key: 'k' }],
    });
  });

  test('accepts aliases and history files in secretObjects; the driver splits a TLS secret itself', () => {
    expect(() =>
      renderSecretProviderClass({
        ...base,
        objects: [
          { objectName: 'tls-cert', objectType: KeyVaultObjectType.SECRET, objectAlias: 'tls' },
          { objectName: 'db', objectType: KeyVaultObjectType.SECRET, objectVersionHistory: 3 },
        ],
        secretObjects: [
          {
            secretName: 'ingress-tls',
            type: SecretType.TLS,
            data: [
              { objectName: 'tls', key: 'tls.key' },
              { objectName: 'tls', key: 'tls.crt' },
            ],
          },
          {
            secretName: 'db',
            data: [
              { objectName: 'db/0', key: 'current' },
              { objectName: 'db/1', key: 'previous' },
            ],
          },
        ],
      }),
    ).not.toThrow();
  });
});

describe('renderSecretProviderClass validation (each fails with a message naming field and fix)', () => {
  const fails = (props: SecretProviderClassProps, message: string | RegExp) =>
    expect(() => renderSecretProviderClass(props)).toThrow(message);

  test('fails on a vault name that is too short or too long', () => {
    fails(
      { ...base, keyVaultName: 'kv' },
      /^keyVaultName: "kv" is not a valid Key Vault name; Azure requires 3–24 characters/,
    );
    fails({ ...base, keyVaultName: 'a'.repeat(25) }, /keyVaultName: "a{25}" is not a valid Key Vault name/);
  });

  test('fails on a vault name with bad characters, a URL, a leading digit, "--" or a trailing hyphen', () => {
    fails({ ...base, keyVaultName: 'kv_team' }, 'keyVaultName: "kv_team" is not a valid Key Vault name');
    fails({ ...base, keyVaultName: 'https://kv.vault.azure.net' }, /Use the vault's name, not its URL/);
    fails({ ...base, keyVaultName: '1kv-team' }, /starting with a letter/);
    fails({ ...base, keyVaultName: 'kv--team' }, /no consecutive hyphens/);
    fails({ ...base, keyVaultName: 'kv-team-' }, /ending with a letter or digit/);
  });

  test('fails on an invalid Key Vault object name', () => {
    fails(
      withObjects({ objectName: 'db_password', objectType: KeyVaultObjectType.SECRET }),
      /^objects\[0\]\.objectName: "db_password" is not a valid Key Vault object name; use 1–127 letters, digits and '-'.*set objectAlias/,
    );
    fails(
      withObjects({ objectName: 'x'.repeat(128), objectType: KeyVaultObjectType.SECRET }),
      /objects\[0\]\.objectName/,
    );
    fails(
      withObjects({ objectName: '', objectType: KeyVaultObjectType.SECRET }),
      /objects\[0\]\.objectName: ""/,
    );
  });

  test('fails on an unknown object type (e.g. from JavaScript)', () => {
    fails(
      withObjects({ objectName: 'a', objectType: 'Secret' as KeyVaultObjectType }),
      'objects[0].objectType: "Secret" is not an object type; use one of "secret", "key", "cert"',
    );
  });

  test('fails when two objects write the same file', () => {
    fails(
      withObjects(
        { objectName: 'a', objectType: KeyVaultObjectType.SECRET, objectAlias: 'db' },
        { objectName: 'db', objectType: KeyVaultObjectType.KEY },
      ),
      'objects[1].objectAlias: objects[0] ("db") and objects[1] ("db") would both write "db"; give one of them a different objectAlias',
    );
  });

  test('fails when a history directory overlaps another object', () => {
    fails(
      withObjects(
        { objectName: 'db', objectType: KeyVaultObjectType.SECRET, objectVersionHistory: 3 },
        { objectName: 'other', objectType: KeyVaultObjectType.CERT, objectAlias: 'db/1' },
      ),
      /objects\[1\]\.objectAlias: .* need "db" to be both a file and a directory \(objectVersionHistory > 1 writes a directory of versions\)/,
    );
  });

  test('fails when an object collides with the .crt/.key split of a secret', () => {
    fails(
      withObjects(
        { objectName: 'tls', objectType: KeyVaultObjectType.SECRET },
        { objectName: 'tls-cert', objectType: KeyVaultObjectType.CERT, objectAlias: 'tls.crt' },
      ),
      /would both write "tls\.crt" \(a certificate-backed secret also writes <name>\.crt and <name>\.key/,
    );
  });

  test('fails on an absolute alias or one containing ".."', () => {
    fails(
      withObjects({ objectName: 'a', objectType: KeyVaultObjectType.SECRET, objectAlias: '/etc/secret' }),
      'objects[0].objectAlias: "/etc/secret": file name must be a relative path; use a relative path inside the mount',
    );
    fails(
      withObjects({ objectName: 'a', objectType: KeyVaultObjectType.SECRET, objectAlias: '../escape' }),
      `objects[0].objectAlias: "../escape": file name must not contain '..'`,
    );
    fails(
      withObjects({ objectName: 'a', objectType: KeyVaultObjectType.SECRET, objectAlias: '' }),
      'objects[0].objectAlias: "": file name must not be empty',
    );
  });

  test('fails on an alias the provider would change or cannot write', () => {
    fails(
      withObjects({ objectName: 'a', objectType: KeyVaultObjectType.SECRET, objectAlias: ' db ' }),
      'objects[0].objectAlias: " db " has leading or trailing whitespace, which the provider trims',
    );
    for (const bad of ['certs/', 'a//b', 'a\\b']) {
      fails(
        withObjects({ objectName: 'a', objectType: KeyVaultObjectType.SECRET, objectAlias: bad }),
        `objects[0].objectAlias: "${bad}" is not a file path`,
      );
    }
  });

  test('fails when a secretObjects objectName matches no object alias-or-name (the seed note)', () => {
    fails(
      {
        ...base,
        objects: [{ objectName: 'foo1', objectType: KeyVaultObjectType.SECRET, objectAlias: 'USERNAME' }],
      },
      'secretObjects[0].data[0].objectName: "foo1" matches no mounted file; it must equal an object\'s objectAlias (or its objectName when it has no alias). Mounted files: "USERNAME"',
    );
  });

  test('fails on a .crt/.key split file, which our install never mounts, listing only the mounted files', () => {
    fails(
      {
        ...base,
        objects: [{ objectName: 'tls-cert', objectType: KeyVaultObjectType.SECRET, objectAlias: 'tls' }],
        secretObjects: [{ secretName: 's', data: [{ objectName: 'tls.crt', key: 'cert' }] }],
      },
      'secretObjects[0].data[0].objectName: "tls.crt" matches no mounted file; it must equal an object\'s objectAlias (or its objectName when it has no alias). Mounted files: "tls"',
    );
  });

  test('fails on a kubernetes.io/tls Secret synced from a cert or key object, which has no private key', () => {
    for (const objectType of [KeyVaultObjectType.CERT, KeyVaultObjectType.KEY]) {
      fails(
        {
          ...base,
          objects: [{ objectName: 'ingress', objectType }],
          secretObjects: [
            {
              secretName: 'ingress-tls',
              type: SecretType.TLS,
              data: [
                { objectName: 'ingress', key: 'tls.crt' },
                { objectName: 'ingress', key: 'tls.key' },
              ],
            },
          ],
        },
        `secretObjects[0].data[0].objectName: "ingress" is a ${objectType} object, which mounts only public material (no private key), so the driver cannot fill the kubernetes.io/tls Secret "ingress-tls" and its sync fails at mount; read the certificate through its secret instead: objectType "secret" with the certificate's name (objectFormat "pem")`,
      );
    }
  });

  test('fails on tls secrets with other keys or a missing key', () => {
    const tlsObjects: KeyVaultObject[] = [{ objectName: 'cert', objectType: KeyVaultObjectType.SECRET }];
    fails(
      {
        ...base,
        objects: tlsObjects,
        secretObjects: [
          { secretName: 'tls', type: SecretType.TLS, data: [{ objectName: 'cert', key: 'cert.pem' }] },
        ],
      },
      `secretObjects[0].data[0].key: "cert.pem" is not allowed in a kubernetes.io/tls Secret; the driver only supports the keys "tls.crt" and "tls.key"`,
    );
    fails(
      {
        ...base,
        objects: tlsObjects,
        secretObjects: [
          { secretName: 'tls', type: SecretType.TLS, data: [{ objectName: 'cert', key: 'tls.crt' }] },
        ],
      },
      'secretObjects[0].data: Secret "tls" of type kubernetes.io/tls needs the key(s) "tls.key"; add a data entry for each',
    );
  });

  test('fails on other typed Secrets without their required keys', () => {
    const secretsOf = (type: SecretType, key: string): SecretProviderClassProps => ({
      ...base,
      secretObjects: [{ secretName: 's', type, data: [{ objectName: 'foo1', key }] }],
    });
    fails(secretsOf(SecretType.DOCKER_CONFIG_JSON, 'config'), /needs the key\(s\) "\.dockerconfigjson"/);
    fails(secretsOf(SecretType.BASIC_AUTH, 'user'), /needs at least one of the keys "username", "password"/);
    fails(secretsOf(SecretType.SSH_AUTH, 'key'), /needs the key\(s\) "ssh-privatekey"/);
    expect(() => renderSecretProviderClass(secretsOf(SecretType.BASIC_AUTH, 'password'))).not.toThrow();
  });

  test('fails on pfx or encoding on a non-secret object', () => {
    fails(
      withObjects({ objectName: 'c', objectType: KeyVaultObjectType.CERT, objectFormat: ObjectFormat.PFX }),
      /^objects\[0\]\.objectFormat: "pfx" only works with objectType "secret"/,
    );
    fails(
      withObjects({
        objectName: 'k',
        objectType: KeyVaultObjectType.KEY,
        objectEncoding: ObjectEncoding.BASE64,
      }),
      /^objects\[0\]\.objectEncoding: "base64" only works with objectType "secret".*remove objectEncoding/,
    );
    fails(
      withObjects({
        objectName: 'k',
        objectType: KeyVaultObjectType.SECRET,
        objectEncoding: 'utf8' as ObjectEncoding,
      }),
      'objects[0].objectEncoding: "utf8" is not an encoding; use one of "utf-8", "hex", "base64"',
    );
    fails(
      withObjects({
        objectName: 'k',
        objectType: KeyVaultObjectType.SECRET,
        objectFormat: 'PEM' as ObjectFormat,
      }),
      'objects[0].objectFormat: "PEM" is not a format; use one of "pem", "pfx"',
    );
  });

  test('fails on a filePermission that is not octal 0–0777', () => {
    for (const bad of ['0900', '8', '0o755', 'rw-r--r--', '01000', '']) {
      fails(
        withObjects({ objectName: 'a', objectType: KeyVaultObjectType.SECRET, filePermission: bad }),
        `objects[0].filePermission: "${bad}" is not an octal file mode; use octal digits from "0000" to "0777"`,
      );
    }
    expect(() =>
      renderSecretProviderClass(
        withObjects({ objectName: 'a', objectType: KeyVaultObjectType.SECRET, filePermission: '0440' }),
      ),
    ).not.toThrow();
  });

  test('fails on a negative or fractional objectVersionHistory', () => {
    for (const bad of [-1, 2.5, Number.NaN]) {
      fails(
        withObjects({ objectName: 'a', objectType: KeyVaultObjectType.SECRET, objectVersionHistory: bad }),
        `objects[0].objectVersionHistory: ${bad} is not a whole number of versions`,
      );
    }
  });

  test('fails on an objectVersion that is not a Key Vault version id', () => {
    fails(
      withObjects({ objectName: 'a', objectType: KeyVaultObjectType.SECRET, objectVersion: 'v2' }),
      /^objects\[0\]\.objectVersion: "v2" is not a Key Vault version id/,
    );
    fails(
      withObjects({ objectName: 'a', objectType: KeyVaultObjectType.SECRET, objectVersion: 'latest' }),
      /"latest"/,
    );
    expect(() =>
      renderSecretProviderClass(
        withObjects({
          objectName: 'a',
          objectType: KeyVaultObjectType.SECRET,
          objectVersion: 'latest',
          objectVersionHistory: 2,
        }),
      ),
    ).not.toThrow();
  });

  test('fails on a duplicate secretName', () => {
    fails(
      {
        ...base,
        secretObjects: [
          { secretName: 'app', data: [{ objectName: 'foo1', key: 'a' }] },
          { secretName: 'app', data: [{ objectName: 'foo1', key: 'b' }] },
        ],
      },
      'secretObjects[1].secretName: "app" is also used by secretObjects[0]',
    );
  });

  test('fails on Kubernetes names that are not DNS-1123', () => {
    fails({ ...base, name: 'Azure_Sync' }, /^name: "Azure_Sync" is not a valid Kubernetes name/);
    fails({ ...base, namespace: 'team.a' }, /^namespace: "team.a" is not a valid Kubernetes namespace/);
    fails(
      { ...base, secretObjects: [{ secretName: 'FooSecret', data: [{ objectName: 'foo1', key: 'u' }] }] },
      /^secretObjects\[0\]\.secretName: "FooSecret" is not a valid Kubernetes name/,
    );
  });

  test('fails on bad Secret data keys, duplicate keys and empty data', () => {
    fails(
      { ...base, secretObjects: [{ secretName: 's', data: [{ objectName: 'foo1', key: 'user name' }] }] },
      /^secretObjects\[0\]\.data\[0\]\.key: "user name" is not a valid Secret data key/,
    );
    fails(
      {
        ...base,
        secretObjects: [
          {
            secretName: 's',
            data: [
              { objectName: 'foo1', key: 'u' },
              { objectName: 'foo1', key: 'u' },
            ],
          },
        ],
      },
      'secretObjects[0].data[1].key: "u" appears twice in Secret "s"',
    );
    fails(
      { ...base, secretObjects: [{ secretName: 's', data: [] }] },
      /^secretObjects\[0\]\.data: Secret "s" has no data entries/,
    );
  });

  test('fails on invalid labels', () => {
    fails({ ...base, labels: { 'bad key!': 'x' } }, /^labels\["bad key!"\]: label key "bad key!" is invalid/);
    fails({ ...base, labels: { team: 'a b' } }, /^labels\["team"\]: label value "a b" is invalid/);
  });

  test('fails with not exactly one identity mode', () => {
    fails({ ...base, workloadIdentityClientId: undefined }, /^identity: no identity mode is set/);
    fails(
      { ...base, vmManagedIdentity: true },
      /^identity: workloadIdentityClientId and vmManagedIdentity are both set/,
    );
  });

  test('fails on an empty objects list', () => {
    fails(
      withObjects(),
      'objects: the list is empty, so the volume would mount no files; add at least one Key Vault object',
    );
  });
});
