import {
  crdVersionSchema,
  secretProviderClassCrd,
  secretProviderClassPodStatusCrd,
  V1ALPHA1_DEPRECATION_WARNING,
} from '../../../lib/core/install/crds';
import { compileCrdSchema, validateKubeObject } from './offline-validation';

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  subresources?: unknown;
  additionalPrinterColumns?: unknown;
}
const specOf = (crd: ReturnType<typeof secretProviderClassCrd>) =>
  crd.spec as { group: string; scope: string; names: Record<string, string>; versions: CrdVersion[] };

const goodSpc = {
  apiVersion: 'secrets-store.csi.x-k8s.io/v1',
  kind: 'SecretProviderClass',
  metadata: { name: 'azure-kvname', namespace: 'default' },
  spec: {
    provider: 'azure',
    parameters: {
      usePodIdentity: 'false',
      clientID: '00000000-0000-0000-0000-000000000001',
      keyvaultName: 'kvname',
      tenantId: '00000000-0000-0000-0000-000000000002',
      objects: 'array:\n  - |\n    objectName: secret1\n    objectType: secret\n',
    },
    secretObjects: [
      {
        secretName: 'foosecret',
        type: 'Opaque',
        labels: { environment: 'test' },
        annotations: { owner: 'team-a' },
        data: [{ objectName: 'secret1', key: 'username' }],
      },
    ],
  },
};

describe('SecretProviderClass CRD', () => {
  const crd = secretProviderClassCrd();

  it('matches the snapshot', () => {
    expect(crd).toMatchSnapshot();
  });

  it('is a valid CustomResourceDefinition (kubernetes-models)', () => {
    expect(() => validateKubeObject(crd)).not.toThrow();
  });

  it('has the upstream group, names, scope and versions', () => {
    const spec = specOf(crd);
    expect(crd.metadata.name).toBe('secretproviderclasses.secrets-store.csi.x-k8s.io');
    expect(crd.metadata.namespace).toBeUndefined();
    expect(spec.group).toBe('secrets-store.csi.x-k8s.io');
    expect(spec.scope).toBe('Namespaced');
    expect(spec.names).toEqual({
      kind: 'SecretProviderClass',
      listKind: 'SecretProviderClassList',
      plural: 'secretproviderclasses',
      singular: 'secretproviderclass',
    });
    const [v1, v1alpha1] = spec.versions;
    expect(v1).toMatchObject({ name: 'v1', served: true, storage: true });
    expect(v1.deprecated).toBeUndefined();
    expect(v1alpha1).toMatchObject({ name: 'v1alpha1', served: true, storage: false, deprecated: true });
    expect(v1alpha1.deprecationWarning).toBe(
      'secrets-store.csi.x-k8s.io/v1alpha1 is deprecated. Use secrets-store.csi.x-k8s.io/v1 instead.',
    );
    expect(v1alpha1.deprecationWarning).toBe(V1ALPHA1_DEPRECATION_WARNING);
  });

  it('has no subresources or printer columns, like upstream', () => {
    for (const version of specOf(crd).versions) {
      expect(version.subresources).toBeUndefined();
      expect(version.additionalPrinterColumns).toBeUndefined();
    }
  });

  it.each(['v1', 'v1alpha1'] as const)('%s schema accepts a well-formed Azure SPC', (version) => {
    const validate = compileCrdSchema(crdVersionSchema(crd, version));
    const spc = { ...goodSpc, apiVersion: `secrets-store.csi.x-k8s.io/${version}` };
    expect(validate(spc)).toBe(true);
  });

  it.each(['v1', 'v1alpha1'] as const)(
    '%s schema rejects a boolean parameter (usePodIdentity: false)',
    (version) => {
      const validate = compileCrdSchema(crdVersionSchema(crd, version));
      const spc = {
        ...goodSpc,
        spec: { ...goodSpc.spec, parameters: { ...goodSpc.spec.parameters, usePodIdentity: false } },
      };
      expect(validate(spc)).toBe(false);
      expect(validate.errors?.map((e) => `${e.instancePath} ${e.message}`)).toContain(
        '/spec/parameters/usePodIdentity must be string',
      );
    },
  );

  it('rejects a non-string secretName and a data entry that is not an object', () => {
    const validate = compileCrdSchema(crdVersionSchema(crd, 'v1'));
    const spc = {
      ...goodSpc,
      spec: { ...goodSpc.spec, secretObjects: [{ secretName: 42, type: 'Opaque', data: ['username'] }] },
    };
    expect(validate(spc)).toBe(false);
    const messages = validate.errors?.map((e) => `${e.instancePath} ${e.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        '/spec/secretObjects/0/secretName must be string',
        '/spec/secretObjects/0/data/0 must be object',
      ]),
    );
  });

  it('rejects a provider that is not a string', () => {
    const validate = compileCrdSchema(crdVersionSchema(crd, 'v1'));
    expect(validate({ ...goodSpc, spec: { ...goodSpc.spec, provider: ['azure'] } })).toBe(false);
  });
});

describe('SecretProviderClassPodStatus CRD', () => {
  const crd = secretProviderClassPodStatusCrd();
  const goodStatus = {
    apiVersion: 'secrets-store.csi.x-k8s.io/v1',
    kind: 'SecretProviderClassPodStatus',
    metadata: { name: 'web-0-default-azure-kvname', namespace: 'default' },
    status: {
      podName: 'web-0',
      secretProviderClassName: 'azure-kvname',
      mounted: true,
      targetPath: '/var/lib/kubelet/pods/uid/volumes/kubernetes.io~csi/secrets/mount',
      objects: [{ id: 'secret/secret1', version: 'abc' }],
    },
  };

  it('matches the snapshot', () => {
    expect(crd).toMatchSnapshot();
  });

  it('is a valid CustomResourceDefinition (kubernetes-models)', () => {
    expect(() => validateKubeObject(crd)).not.toThrow();
  });

  it('has the upstream names, v1 storage and deprecated v1alpha1', () => {
    const spec = specOf(crd);
    expect(crd.metadata.name).toBe('secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io');
    expect(spec.names.plural).toBe('secretproviderclasspodstatuses');
    expect(spec.names.kind).toBe('SecretProviderClassPodStatus');
    expect(spec.scope).toBe('Namespaced');
    expect(spec.versions.map((v) => [v.name, v.served, v.storage, v.deprecated ?? false])).toEqual([
      ['v1', true, true, false],
      ['v1alpha1', true, false, true],
    ]);
    // status is written with a plain update by the driver: no status subresource upstream.
    for (const version of spec.versions) expect(version.subresources).toBeUndefined();
  });

  it('schema accepts the status the driver writes and has no spec', () => {
    const schema = crdVersionSchema(crd, 'v1') as { properties: Record<string, unknown> };
    expect(schema.properties.spec).toBeUndefined();
    expect(compileCrdSchema(schema)(goodStatus)).toBe(true);
  });

  it('schema rejects mounted as a string and an object version that is not a string', () => {
    const validate = compileCrdSchema(crdVersionSchema(crd, 'v1'));
    const bad = {
      ...goodStatus,
      status: { ...goodStatus.status, mounted: 'true', objects: [{ id: 'x', version: 1 }] },
    };
    expect(validate(bad)).toBe(false);
    expect(validate.errors?.map((e) => `${e.instancePath} ${e.message}`)).toEqual(
      expect.arrayContaining(['/status/mounted must be boolean', '/status/objects/0/version must be string']),
    );
  });
});
