import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Pod } from 'kubernetes-models/v1/Pod';
import { synthExamples } from '../../examples/cdk8s/app';
import { settingsFromEnv } from '../../examples/cdk8s/settings';
import {
  checkParsedObject,
  crdVersionSchema,
  isClusterScopedKind,
  KubeObject,
  parseObjectsParameter,
  secretProviderClassCrd,
} from '../../lib/core';
import { compileCrdSchema, validateKubeObject } from '../core/install/offline-validation';

// The main job (`npm run synth`) on its embedded defaults: what it writes, that every object is valid
// offline, and the facts a newcomer relies on. The rig suite applies the same output to a real apiserver.

type Manifest = KubeObject & { spec?: Record<string, unknown> };

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'aks-ss-synth-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

function readVariant(variant: 'self-hosted' | 'addon'): { files: string[]; objects: Manifest[] } {
  const dir = path.join(outdir, variant);
  const files = fs.readdirSync(dir).sort();
  const objects = files.flatMap((file) => Yaml.load(path.join(dir, file)) as Manifest[]);
  return { files, objects };
}

synthExamples(outdir, settingsFromEnv({}));
const selfHosted = readVariant('self-hosted');
const addon = readVariant('addon');

const find = (objects: Manifest[], kind: string, name?: string): Manifest[] =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

describe('npm run synth (examples/cdk8s)', () => {
  test('writes both variants, one file per chart, in apply order', () => {
    expect(selfHosted.files).toEqual([
      '0000-secrets-store-install.k8s.yaml',
      '0001-seed-sync.k8s.yaml',
      '0002-namespaces.k8s.yaml',
      '0003-team-orders.k8s.yaml',
    ]);
    expect(addon.files).toEqual([
      '0000-secrets-store-addon.k8s.yaml',
      '0001-seed-sync.k8s.yaml',
      '0002-namespaces.k8s.yaml',
      '0003-team-orders.k8s.yaml',
    ]);
  });

  test('self-hosted: CSIDriver, both DaemonSets, both CRDs and the admission policy', () => {
    const [driver] = find(selfHosted.objects, 'CSIDriver', 'secrets-store.csi.k8s.io');
    expect(driver.spec).toMatchObject({
      podInfoOnMount: true,
      attachRequired: false,
      volumeLifecycleModes: ['Ephemeral'],
      requiresRepublish: true,
      tokenRequests: [{ audience: 'api://AzureADTokenExchange' }],
    });
    expect(find(selfHosted.objects, 'DaemonSet')).toHaveLength(2);
    expect(
      find(selfHosted.objects, 'CustomResourceDefinition')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual([
      'secretproviderclasses.secrets-store.csi.x-k8s.io',
      'secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io',
    ]);
    expect(find(selfHosted.objects, 'ValidatingAdmissionPolicy')).toHaveLength(1);
    expect(find(selfHosted.objects, 'ValidatingAdmissionPolicyBinding')).toHaveLength(1);
  });

  test('self-hosted: the rotation interval of the seed ("custom rotation interval") reaches the driver', () => {
    const text = JSON.stringify(find(selfHosted.objects, 'DaemonSet'));
    expect(text).toContain('--enable-secret-rotation=true');
    expect(text).toContain('--rotation-poll-interval=5m');
  });

  test('add-on variant installs no driver, only the admission policy and the workloads', () => {
    expect(find(addon.objects, 'DaemonSet')).toHaveLength(0);
    expect(find(addon.objects, 'CSIDriver')).toHaveLength(0);
    expect(find(addon.objects, 'CustomResourceDefinition')).toHaveLength(0);
    expect(find(addon.objects, 'ValidatingAdmissionPolicy')).toHaveLength(1);
    expect(find(addon.objects, 'SecretProviderClass')).toHaveLength(2);
  });

  test.each([
    ['self-hosted', selfHosted],
    ['addon', addon],
  ])(
    '%s: every SecretProviderClass is for provider azure with objects the provider parses',
    (_v, variant) => {
      const spcs = find(variant.objects, 'SecretProviderClass');
      expect(spcs.map((o) => o.metadata.name).sort()).toEqual(['azure-sync', 'orders-secrets']);
      for (const spc of spcs) {
        const spec = spc.spec as { provider: string; parameters: Record<string, string> };
        expect(spec.provider).toBe('azure');
        const objects = parseObjectsParameter(spec.parameters.objects);
        expect(objects.length).toBeGreaterThan(0);
        objects.forEach(checkParsedObject);
      }
    },
  );

  test('the seed pod: read-only CSI volume and SECRET_USERNAME from the synced Secret foosecret', () => {
    const [pod] = find(selfHosted.objects, 'Pod', 'busybox-secrets-store-inline');
    expect(pod.spec).toMatchObject({
      volumes: [
        {
          name: 'secrets-store01-inline',
          csi: {
            driver: 'secrets-store.csi.k8s.io',
            readOnly: true,
            volumeAttributes: { secretProviderClass: 'azure-sync' },
          },
        },
      ],
      containers: [
        {
          name: 'busybox',
          volumeMounts: [{ name: 'secrets-store01-inline', mountPath: '/mnt/secrets-store', readOnly: true }],
          env: [
            { name: 'SECRET_USERNAME', valueFrom: { secretKeyRef: { name: 'foosecret', key: 'username' } } },
          ],
        },
      ],
    });
    const [spc] = find(selfHosted.objects, 'SecretProviderClass', 'azure-sync');
    expect(spc.spec).toMatchObject({
      secretObjects: [
        { secretName: 'foosecret', type: 'Opaque', data: [{ objectName: 'foo1', key: 'username' }] },
      ],
    });
  });

  test('the team Deployment: workload identity, env from the synced Secret, Reloader annotation', () => {
    const [sa] = find(selfHosted.objects, 'ServiceAccount', 'orders');
    expect(sa.metadata.annotations).toMatchObject({
      'azure.workload.identity/client-id': expect.any(String),
    });
    const [deployment] = find(selfHosted.objects, 'Deployment', 'orders');
    expect(deployment.metadata.annotations).toEqual({ 'secret.reloader.stakater.com/reload': 'orders-db' });
    const template = (deployment.spec as { template: { metadata: { labels: object }; spec: object } })
      .template;
    expect(template.metadata.labels).toMatchObject({ 'azure.workload.identity/use': 'true' });
    expect(template.spec).toMatchObject({
      serviceAccountName: 'orders',
      containers: [
        {
          env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'orders-db', key: 'password' } } }],
          volumeMounts: [{ mountPath: '/mnt/secrets-store/orders-secrets', readOnly: true }],
        },
      ],
    });
  });

  test.each([
    ['self-hosted', selfHosted],
    ['addon', addon],
  ])('%s: every object is valid offline and cluster-scoped kinds carry no namespace', (_v, variant) => {
    const spcSchema = compileCrdSchema(crdVersionSchema(secretProviderClassCrd(), 'v1'));
    const workloadModels: Record<string, new (data: never) => { validate(): void }> = {
      'v1/Pod': Pod as never,
      'apps/v1/Deployment': Deployment as never,
    };
    for (const object of variant.objects) {
      const key = `${object.apiVersion}/${object.kind}`;
      if (object.kind === 'SecretProviderClass') {
        expect({ name: object.metadata.name, valid: spcSchema(object), errors: spcSchema.errors }).toEqual({
          name: object.metadata.name,
          valid: true,
          errors: null,
        });
      } else if (workloadModels[key]) {
        expect(() =>
          new workloadModels[key](JSON.parse(JSON.stringify(object)) as never).validate(),
        ).not.toThrow();
      } else {
        expect(() => validateKubeObject(object)).not.toThrow();
      }
      if (isClusterScopedKind(object.kind)) expect(object.metadata.namespace).toBeUndefined();
      else expect(object.metadata.namespace).toEqual(expect.any(String));
    }
  });

  test('snapshot (no secret material: the example has only names and placeholder ids)', () => {
    expect({ selfHosted: selfHosted.objects, addon: addon.objects }).toMatchSnapshot();
  });
});

describe('bad input a new user would write fails at synth, naming the field', () => {
  const base = settingsFromEnv({});
  const synthInto = (overrides: Partial<ReturnType<typeof settingsFromEnv>>) => () =>
    synthExamples(fs.mkdtempSync(path.join(outdir, 'bad-')), { ...base, ...overrides });

  test.each([
    [
      'a vault URL instead of its name',
      { keyVaultName: 'https://example-kv.vault.azure.net' },
      /keyVaultName/,
    ],
    ['a vault name that is too long', { keyVaultName: 'this-vault-name-is-far-too-long' }, /keyVaultName/],
    [
      'a rotation interval without a unit',
      { rotationPollInterval: '5' },
      /rotationPollInterval: "5" is not a duration/,
    ],
    ['a tenant that is not a GUID', { tenantId: 'contoso.onmicrosoft.com' }, /tenantId/],
    ['a client id that is not a GUID', { workloadIdentityClientId: 'orders-identity' }, /[cC]lientId/],
  ])('%s', (_what, overrides, message) => {
    expect(synthInto(overrides)).toThrow(message);
  });
});
