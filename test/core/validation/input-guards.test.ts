import {
  KeyVaultObjectType,
  renderAddonProfile,
  renderSecretProviderClass,
  SecretProviderClassProps,
} from '../../../lib/core';

// Mistakes TypeScript catches but JavaScript/YAML-fed callers make; each must fail naming the field.
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const base: SecretProviderClassProps = {
  name: 'app',
  keyVaultName: 'kv-team-a',
  tenantId: TENANT,
  vmManagedIdentity: true,
  objects: [{ objectName: 'a', objectType: KeyVaultObjectType.SECRET }],
};
const untyped = (patch: Record<string, unknown>) =>
  ({ ...base, ...patch }) as unknown as SecretProviderClassProps;

describe('untyped input', () => {
  test('fails on filePermission given as a number (0o644 === 420 would become mode 0420)', () => {
    expect(() =>
      renderSecretProviderClass(
        untyped({ objects: [{ objectName: 'a', objectType: 'secret', filePermission: 0o644 }] }),
      ),
    ).toThrow(
      'objects[0].filePermission: must be a string but is number 420; write it in quotes, e.g. "0644"',
    );
  });

  test('fails on a missing keyVaultName instead of rendering "undefined"', () => {
    expect(() => renderSecretProviderClass(untyped({ keyVaultName: undefined }))).toThrow(
      'keyVaultName: must be a string but is missing',
    );
  });

  test('fails on objects that are not a list', () => {
    expect(() => renderSecretProviderClass(untyped({ objects: { objectName: 'a' } }))).toThrow(
      /^objects: must be a list but is object/,
    );
    expect(() => renderSecretProviderClass(untyped({ objects: ['a'] }))).toThrow(
      /^objects\[0\]: must be an object/,
    );
  });

  test('fails on booleans given as strings', () => {
    expect(() => renderSecretProviderClass(untyped({ vmManagedIdentity: 'true' }))).toThrow(
      'vmManagedIdentity: must be true or false but is the string "true"',
    );
    expect(() => renderAddonProfile({ enableSecretRotation: 'false' as unknown as boolean })).toThrow(
      'enableSecretRotation: must be true or false but is the string "false"',
    );
  });

  test('fails on a rotation interval given as a number of seconds', () => {
    expect(() =>
      renderAddonProfile({ enableSecretRotation: true, rotationPollInterval: 120 as unknown as string }),
    ).toThrow('rotationPollInterval: must be a string but is number 120; write it in quotes, e.g. "2m"');
  });

  test('fails on objectVersionHistory given as a string', () => {
    expect(() =>
      renderSecretProviderClass(
        untyped({ objects: [{ objectName: 'a', objectType: 'secret', objectVersionHistory: '3' }] }),
      ),
    ).toThrow('objects[0].objectVersionHistory: "3" is not a whole number of versions');
  });

  test('fails on secretObjects data that is missing', () => {
    expect(() => renderSecretProviderClass(untyped({ secretObjects: [{ secretName: 's' }] }))).toThrow(
      /^secretObjects\[0\]\.data: must be a list but is missing/,
    );
  });
});
