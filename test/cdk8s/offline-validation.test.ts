import Ajv from 'ajv';
import { Chart, Testing } from 'cdk8s';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Pod, ServiceAccount } from 'kubernetes-models/v1';
import { SecretStore, SecretsStoreVolume, mountSecretsStore, SecretProviderClass } from '../../lib/cdk8s';
import * as kplus from '../../lib/cdk8s/plus';
import {
  crdVersionSchema,
  KeyVaultObjectType,
  ObjectEncoding,
  ObjectFormat,
  secretProviderClassCrd,
  SecretType,
} from '../../lib/core';

// Every object the constructs synthesize is checked offline: Kubernetes kinds with kubernetes-models,
// SecretProviderClass instances with ajv against the CRD schema of our install model.

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '00000000-1111-2222-3333-444444444444';

function synthAll(): Record<string, unknown>[] {
  const app = Testing.app();
  const chart = new Chart(app, 'team-a', { namespace: 'team-a' });
  const store = new SecretStore(chart, 'app-secrets', {
    keyVaultName: 'kv-team-a',
    tenantId: TENANT,
    workloadIdentityClientId: CLIENT,
    objects: [
      {
        objectName: 'db-user',
        objectType: KeyVaultObjectType.SECRET,
        objectAlias: 'DB_USER',
        filePermission: '0440',
      },
      { objectName: 'ingress', objectType: KeyVaultObjectType.SECRET, objectFormat: ObjectFormat.PEM },
      {
        objectName: 'bundle',
        objectType: KeyVaultObjectType.SECRET,
        objectAlias: 'bundle.pfx',
        objectFormat: ObjectFormat.PFX,
        objectEncoding: ObjectEncoding.BASE64,
      },
      { objectName: 'signing', objectType: KeyVaultObjectType.KEY },
      { objectName: 'ca', objectType: KeyVaultObjectType.CERT, objectVersionHistory: 2 },
    ],
    secretObjects: [
      { secretName: 'db', data: [{ objectName: 'DB_USER', key: 'username' }], labels: { team: 'a' } },
      {
        secretName: 'ingress-tls',
        type: SecretType.TLS,
        data: [
          { objectName: 'ingress', key: 'tls.key' },
          { objectName: 'ingress', key: 'tls.crt' },
        ],
      },
    ],
  });
  const deployment = new kplus.Deployment(chart, 'web', {
    serviceAccount: store.serviceAccount,
    containers: [{ image: 'nginx' }],
  });
  store.wire(deployment, {
    env: { DB_USER: { secretName: 'db', key: 'username' } },
    restartOnRotation: true,
  });

  const sp = new SecretProviderClass(chart, 'sp-class', {
    keyVaultName: 'kv-team-a',
    tenantId: TENANT,
    servicePrincipalSecretName: 'secrets-store-creds',
    objects: [{ objectName: 'x', objectType: KeyVaultObjectType.SECRET }],
  });
  const pod = new kplus.Pod(chart, 'sp-pod');
  mountSecretsStore(pod.addContainer({ image: 'busybox' }), SecretsStoreVolume.fromSecretProviderClass(sp));
  return Testing.synth(chart) as Record<string, unknown>[];
}

describe('offline validation of synthesized objects', () => {
  const manifests = synthAll();

  test('SecretProviderClasses match the CRD schema (v1)', () => {
    const validate = new Ajv({ strict: false }).compile(crdVersionSchema(secretProviderClassCrd(), 'v1'));
    const spcs = manifests.filter((m) => m.kind === 'SecretProviderClass');
    expect(spcs).toHaveLength(2);
    for (const spc of spcs) {
      expect({ ok: validate(spc), errors: validate.errors }).toEqual({ ok: true, errors: null });
    }
  });

  test('the schema check bites: a non-string parameter is rejected', () => {
    const validate = new Ajv({ strict: false }).compile(crdVersionSchema(secretProviderClassCrd(), 'v1'));
    const spc = manifests.find((m) => m.kind === 'SecretProviderClass') as { spec: { parameters: object } };
    expect(
      validate({
        ...spc,
        spec: { ...spc.spec, parameters: { ...spc.spec.parameters, usePodIdentity: false } },
      }),
    ).toBe(false);
  });

  test('Kubernetes kinds validate with kubernetes-models', () => {
    const kinds = { Deployment, Pod, ServiceAccount } as const;
    const checked = manifests.filter((m) => m.kind !== 'SecretProviderClass');
    expect(checked.map((m) => m.kind).sort()).toEqual(['Deployment', 'Pod', 'ServiceAccount']);
    for (const manifest of checked) {
      const Model = kinds[manifest.kind as keyof typeof kinds];
      expect(() => new Model(manifest as never).validate()).not.toThrow();
    }
  });
});
