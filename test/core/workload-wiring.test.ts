import {
  checkSecretsStoreMountsApart,
  defaultSecretsStoreMountPath,
  SecretType,
  secretsStoreVolumeName,
  serviceAccountSubject,
  validateSecretsStoreMountPath,
  validateSyncedSecretKey,
} from '../../lib/core';

// The wiring rules both front ends (cdk8s SecretStore/workload helpers, Pulumi SecretStore.wiring) call.

const synced = [
  { secretName: 'db', type: SecretType.OPAQUE, data: [{ objectName: 'db-user', key: 'username' }] },
  { secretName: 'tls', type: SecretType.TLS, data: [{ objectName: 'cert', key: 'tls.crt' }] },
];

describe('validateSyncedSecretKey', () => {
  test('accepts a declared Secret and key', () => {
    expect(() => validateSyncedSecretKey(synced, 'db', 'username', 'team')).not.toThrow();
  });

  test('names the undeclared Secret, the SPC and the Secrets it does sync', () => {
    expect(() => validateSyncedSecretKey(synced, 'other', 'username', 'team')).toThrow(
      'secretName: "other" is not synced by SecretProviderClass "team" (its secretObjects: "db", "tls"); add a secretObjects entry with this secretName or use one of those',
    );
    expect(() => validateSyncedSecretKey([], 'other', 'username', 'team')).toThrow(
      '(its secretObjects: none)',
    );
  });

  test('names the missing key and the keys the Secret has', () => {
    expect(() => validateSyncedSecretKey(synced, 'db', 'password', 'team')).toThrow(
      'key: "password" is not a key of synced Secret "db" (keys: "username"); add a data entry { objectName, key: "password" } or use one of those',
    );
  });

  test('prefixes the field with the caller position', () => {
    expect(() => validateSyncedSecretKey(synced, 'db', 'password', 'team', 'env[2].')).toThrow(
      /^env\[2\]\.key: /,
    );
  });
});

describe('validateSecretsStoreMountPath', () => {
  test('accepts an absolute path', () => {
    expect(() => validateSecretsStoreMountPath('/mnt/secrets-store', 'path')).not.toThrow();
  });

  test.each(['mnt/secrets', '/mnt/a:b'])(
    'refuses %s, which Kubernetes rejects as a volumeMount path',
    (path) => {
      expect(() => validateSecretsStoreMountPath(path, 'mountPath')).toThrow(
        `mountPath: "${path}" is not an absolute path without ':'; mount the secrets store at e.g. "/mnt/secrets-store"`,
      );
    },
  );
});

describe('secretsStoreVolumeName', () => {
  test('is a DNS-1123 label: dots replaced, cut at 63 characters without a trailing dash', () => {
    expect(secretsStoreVolumeName('app.secrets')).toBe('secrets-store-app-secrets');
    const long = secretsStoreVolumeName(`${'a'.repeat(48)}-b`);
    expect(long).toBe(`secrets-store-${'a'.repeat(48)}`);
    expect(long.length).toBeLessThanOrEqual(63);
  });
});

test('serviceAccountSubject is the subject of a projected ServiceAccount token', () => {
  expect(serviceAccountSubject('team', 'app')).toBe('system:serviceaccount:team:app');
});

describe('secrets-store mounts of one container', () => {
  it('gives each store its own default directory', () => {
    expect(defaultSecretsStoreMountPath('orders')).toBe('/mnt/secrets-store/orders');
    expect(() =>
      checkSecretsStoreMountsApart(
        [
          { store: 'orders', path: defaultSecretsStoreMountPath('orders') },
          { store: 'billing', path: defaultSecretsStoreMountPath('billing') },
        ],
        'containers[0]',
      ),
    ).not.toThrow();
  });

  it('fails for two stores at one path, naming both stores', () => {
    expect(() =>
      checkSecretsStoreMountsApart(
        [
          { store: 'orders', path: '/mnt/secrets-store' },
          { store: 'billing', path: '/mnt/secrets-store/' },
        ],
        'containers[0]',
      ),
    ).toThrow(
      'containers[0]: stores "orders" and "billing" clash in one container: both mount at "/mnt/secrets-store"; give each store its own directory (the default is /mnt/secrets-store/<store>)',
    );
  });

  it('fails for a store mounted inside another, naming both', () => {
    expect(() =>
      checkSecretsStoreMountsApart(
        [
          { store: 'orders', path: '/mnt/secrets-store/orders' },
          { store: 'billing', path: '/mnt/secrets-store' },
        ],
        'mounts',
      ),
    ).toThrow(
      /stores "orders" and "billing" clash in one container: "\/mnt\/secrets-store\/orders" lies inside "\/mnt\/secrets-store"/,
    );
    // A sibling whose name starts with the other's is not inside it.
    expect(() =>
      checkSecretsStoreMountsApart(
        [
          { store: 'a', path: '/mnt/s' },
          { store: 'b', path: '/mnt/s2' },
        ],
        'mounts',
      ),
    ).not.toThrow();
  });
});
