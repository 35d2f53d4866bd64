import {
  KeyVaultObjectType,
  ObjectEncoding,
  ObjectFormat,
  renderSecretProviderClass,
  SecretProviderClassProps,
  SecretType,
} from '../../lib/core';
import { TENANT } from './fixtures';

// Object types, formats, encodings, Secret types and clouds take their literal text as well as the
// named constant, as every runtime message tells the user to write "pem" (type-checked by tsc --noEmit),
// and a misspelt literal is still a type error.

describe('literal-friendly types', () => {
  test('the literal text and the named constant are the same value and render the same', () => {
    const literal: SecretProviderClassProps = {
      name: 'app',
      keyVaultName: 'kv-team-a',
      tenantId: TENANT,
      vmManagedIdentity: true,
      cloudName: 'AzurePublicCloud',
      objects: [
        { objectName: 'tls', objectType: 'secret', objectFormat: 'pem' },
        { objectName: 'blob', objectType: 'secret', objectEncoding: 'base64' },
        { objectName: 'cert', objectType: 'cert' },
      ],
      secretObjects: [
        {
          secretName: 'tls',
          type: 'kubernetes.io/tls',
          data: [
            { objectName: 'tls', key: 'tls.crt' },
            { objectName: 'tls', key: 'tls.key' },
          ],
        },
      ],
    };
    const named: SecretProviderClassProps = {
      ...literal,
      objects: [
        { objectName: 'tls', objectType: KeyVaultObjectType.SECRET, objectFormat: ObjectFormat.PEM },
        { objectName: 'blob', objectType: KeyVaultObjectType.SECRET, objectEncoding: ObjectEncoding.BASE64 },
        { objectName: 'cert', objectType: KeyVaultObjectType.CERT },
      ],
      secretObjects: [{ ...literal.secretObjects![0], type: SecretType.TLS }],
    };
    expect(renderSecretProviderClass(literal)).toEqual(renderSecretProviderClass(named));
  });

  test('a misspelt literal is refused by the compiler and, from JavaScript, at synth', () => {
    const objects: SecretProviderClassProps['objects'] = [
      // @ts-expect-error 'Secret' is not an object type (the values are lower-case)
      { objectName: 'a', objectType: 'Secret' },
    ];
    const props = {
      name: 'app',
      keyVaultName: 'kv-team-a',
      tenantId: TENANT,
      vmManagedIdentity: true,
      objects,
    };
    expect(() => renderSecretProviderClass(props)).toThrow(
      'objects[0].objectType: "Secret" is not an object type; use one of "secret", "key", "cert" (KeyVaultObjectType)',
    );
  });
});
