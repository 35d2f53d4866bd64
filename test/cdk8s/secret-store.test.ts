import { Chart, Testing } from 'cdk8s';
import * as kplus from '../../lib/cdk8s/plus';
import { KeyVaultObjectType, SecretType } from '../../lib/core';
import {
  envFromSyncedSecret,
  mountSecretsStore,
  restartOnRotation,
  SecretProviderClass,
  SecretProviderClassProps,
  SecretStore,
  SecretsStoreVolume,
  useWorkloadIdentity,
  WorkloadIdentityServiceAccount,
} from '../../lib/cdk8s';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '00000000-1111-2222-3333-444444444444';

const spcProps: SecretProviderClassProps = {
  keyVaultName: 'kv-team-a',
  tenantId: TENANT,
  workloadIdentityClientId: CLIENT,
  objects: [{ objectName: 'foo1', objectType: KeyVaultObjectType.SECRET }],
  secretObjects: [
    { secretName: 'foosecret', type: SecretType.OPAQUE, data: [{ objectName: 'foo1', key: 'username' }] },
  ],
};

type Manifest = {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- synthesized manifests are untyped JSON
  spec?: any;
};
const byKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind);

describe('SecretProviderClass construct', () => {
  test('renders the core object with the id as name and the chart namespace', () => {
    const chart = Testing.chart();
    const spc = new SecretProviderClass(chart, 'azure-sync', { ...spcProps, namespace: 'team-a' });
    const [out] = Testing.synth(chart) as Manifest[];
    expect(spc.name).toBe('azure-sync');
    expect(out).toMatchObject({
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: 'azure-sync', namespace: 'team-a' },
      spec: { provider: 'azure', parameters: { keyvaultName: 'kv-team-a', clientID: CLIENT } },
    });
    expect(out.spec.parameters.objects).toBe('array:\n  - |\n    objectName: foo1\n    objectType: secret\n');
  });

  test('takes the namespace of a namespaced chart', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c', { namespace: 'team-b' });
    const spc = new SecretProviderClass(chart, 'Spc', { ...spcProps, name: 'app-secrets' });
    expect(spc.namespace).toBe('team-b');
    expect((Testing.synth(chart) as Manifest[])[0].metadata).toEqual({
      name: 'app-secrets',
      namespace: 'team-b',
    });
  });

  test('fails on a second SPC with the same name and namespace anywhere in the app', () => {
    const app = Testing.app();
    new SecretProviderClass(new Chart(app, 'one', { namespace: 'team-a' }), 'app-secrets', spcProps);
    const other = new Chart(app, 'two', { namespace: 'team-a' });
    expect(() => new SecretProviderClass(other, 'app-secrets', spcProps)).toThrow(
      'name: SecretProviderClass "app-secrets" in namespace "team-a" is already defined at one/app-secrets',
    );
    expect(
      () =>
        new SecretProviderClass(new Chart(app, 'three', { namespace: 'team-b' }), 'app-secrets', spcProps),
    ).not.toThrow();
  });

  test('fails at construction with the core validation message', () => {
    const chart = Testing.chart();
    expect(() => new SecretProviderClass(chart, 'AppSecrets', spcProps)).toThrow(
      /^name: "AppSecrets" is not a valid Kubernetes name/,
    );
    expect(() => new SecretProviderClass(chart, 's', { ...spcProps, keyVaultName: 'kv' })).toThrow(
      /^keyVaultName: "kv"/,
    );
  });
});

describe('workload helpers', () => {
  test('volume + read-only mount + env from synced Secret, as in the seed', () => {
    const chart = Testing.chart();
    const spc = new SecretProviderClass(chart, 'azure-sync', spcProps);
    const pod = new kplus.Pod(chart, 'busybox', { metadata: { name: 'busybox-secrets-store-inline' } });
    const container = pod.addContainer({
      name: 'busybox',
      image: 'registry.k8s.io/e2e-test-images/busybox:1.29-1',
    });
    mountSecretsStore(
      container,
      SecretsStoreVolume.fromSecretProviderClass(spc, { name: 'secrets-store01-inline' }),
    );
    container.env.addVariable('SECRET_USERNAME', envFromSyncedSecret(spc, 'foosecret', 'username'));
    const podOut = byKind(Testing.synth(chart) as Manifest[], 'Pod')[0];
    expect(podOut.spec.volumes).toEqual([
      {
        name: 'secrets-store01-inline',
        csi: {
          driver: 'secrets-store.csi.k8s.io',
          readOnly: true,
          volumeAttributes: { secretProviderClass: 'azure-sync' },
        },
      },
    ]);
    expect(podOut.spec.containers[0].volumeMounts).toEqual([
      { name: 'secrets-store01-inline', mountPath: '/mnt/secrets-store', readOnly: true },
    ]);
    expect(podOut.spec.containers[0].env).toEqual([
      { name: 'SECRET_USERNAME', valueFrom: { secretKeyRef: { name: 'foosecret', key: 'username' } } },
    ]);
  });

  test('service principal mode adds nodePublishSecretRef to the volume', () => {
    const chart = Testing.chart();
    const spc = new SecretProviderClass(chart, 'sp', {
      ...spcProps,
      workloadIdentityClientId: undefined,
      servicePrincipalSecretName: 'secrets-store-creds',
    });
    const pod = new kplus.Pod(chart, 'p');
    mountSecretsStore(pod.addContainer({ image: 'nginx' }), SecretsStoreVolume.fromSecretProviderClass(spc));
    const podOut = byKind(Testing.synth(chart) as Manifest[], 'Pod')[0];
    expect(podOut.spec.volumes[0].csi).toEqual({
      driver: 'secrets-store.csi.k8s.io',
      readOnly: true,
      volumeAttributes: { secretProviderClass: 'sp' },
      nodePublishSecretRef: { name: 'secrets-store-creds' },
    });
  });

  test('volume names are DNS labels: dots in the SPC name are replaced, bad names refused', () => {
    const chart = Testing.chart();
    const spc = new SecretProviderClass(chart, 'app.secrets', spcProps);
    expect(SecretsStoreVolume.fromSecretProviderClass(spc).name).toBe('secrets-store-app-secrets');
    expect(() => SecretsStoreVolume.fromSecretProviderClass(spc, { name: 'Secrets_Store' })).toThrow(
      'name: "Secrets_Store" is not a valid volume name',
    );
  });

  test('envFromSyncedSecret fails for an undeclared Secret or key', () => {
    const chart = Testing.chart();
    const spc = new SecretProviderClass(chart, 'azure-sync', spcProps);
    expect(() => envFromSyncedSecret(spc, 'other', 'username')).toThrow(
      'secretName: "other" is not synced by SecretProviderClass "azure-sync" (its secretObjects: "foosecret")',
    );
    expect(() => envFromSyncedSecret(spc, 'foosecret', 'password')).toThrow(
      'key: "password" is not a key of synced Secret "foosecret" (keys: "username")',
    );
  });

  test('workload identity ServiceAccount and pod label', () => {
    const chart = Testing.chart();
    const sa = new WorkloadIdentityServiceAccount(chart, 'app', { clientId: CLIENT, tenantId: TENANT });
    const deployment = new kplus.Deployment(chart, 'd', { serviceAccount: sa.serviceAccount });
    deployment.addContainer({ image: 'nginx' });
    useWorkloadIdentity(deployment);
    const out = Testing.synth(chart) as Manifest[];
    expect(byKind(out, 'ServiceAccount')[0].metadata.annotations).toEqual({
      'azure.workload.identity/client-id': CLIENT,
      'azure.workload.identity/tenant-id': TENANT,
    });
    const dep = byKind(out, 'Deployment')[0];
    expect(dep.spec.template.metadata.labels['azure.workload.identity/use']).toBe('true');
    expect(dep.spec.template.spec.serviceAccountName).toBe('app');
    expect(() => new WorkloadIdentityServiceAccount(chart, 'x', { clientId: 'my-app' })).toThrow(
      'clientId: "my-app" is not a GUID',
    );
  });

  test('restartOnRotation annotates for Reloader, merging names, and refuses bare Pods', () => {
    const chart = Testing.chart();
    const deployment = new kplus.Deployment(chart, 'd');
    deployment.addContainer({ image: 'nginx' });
    restartOnRotation(deployment, ['a']);
    restartOnRotation(deployment, ['b', 'a']);
    const dep = byKind(Testing.synth(chart) as Manifest[], 'Deployment')[0];
    expect(dep.metadata.annotations).toEqual({ 'secret.reloader.stakater.com/reload': 'a,b' });
    const pod = new kplus.Pod(chart, 'p');
    expect(() => restartOnRotation(pod, ['a'])).toThrow(/^restartOnRotation: Reloader restarts Deployments/);
  });
});

describe('SecretStore', () => {
  const build = () => {
    const app = Testing.app();
    const chart = new Chart(app, 'team-a', { namespace: 'team-a' });
    const store = new SecretStore(chart, 'app-secrets', spcProps);
    return { chart, store };
  };

  test('wires SPC, ServiceAccount and a Deployment (snapshot)', () => {
    const { chart, store } = build();
    const deployment = new kplus.Deployment(chart, 'web', {
      metadata: { name: 'web' },
      serviceAccount: store.serviceAccount,
      containers: [{ name: 'app', image: 'nginx', portNumber: 8080 }],
    });
    store.wire(deployment, {
      env: { DB_USER: { secretName: 'foosecret', key: 'username' } },
      restartOnRotation: true,
    });
    const out = Testing.synth(chart) as Manifest[];
    expect(out).toMatchSnapshot();
    expect(out.map((m) => m.kind).sort()).toEqual(['Deployment', 'SecretProviderClass', 'ServiceAccount']);
    const dep = byKind(out, 'Deployment')[0];
    expect(dep.metadata.annotations).toEqual({ 'secret.reloader.stakater.com/reload': 'foosecret' });
    const podSpec = dep.spec.template.spec;
    expect(podSpec.serviceAccountName).toBe('app-secrets');
    expect(podSpec.volumes[0].csi).toMatchObject({
      readOnly: true,
      volumeAttributes: { secretProviderClass: 'app-secrets' },
    });
    expect(podSpec.containers[0].volumeMounts[0]).toMatchObject({
      mountPath: '/mnt/secrets-store',
      readOnly: true,
    });
    expect(podSpec.containers[0].env).toEqual([
      { name: 'DB_USER', valueFrom: { secretKeyRef: { name: 'foosecret', key: 'username' } } },
    ]);
    expect(byKind(out, 'ServiceAccount')[0].metadata).toMatchObject({
      name: 'app-secrets',
      namespace: 'team-a',
      annotations: { 'azure.workload.identity/client-id': CLIENT },
    });
  });

  test('two workloads share one volume definition', () => {
    const { chart, store } = build();
    for (const name of ['a', 'b']) {
      const d = new kplus.Deployment(chart, name, {
        serviceAccount: store.serviceAccount,
        containers: [{ image: 'nginx' }],
      });
      store.wire(d);
    }
    const deps = byKind(Testing.synth(chart) as Manifest[], 'Deployment');
    expect(deps.map((d) => d.spec.template.spec.volumes[0].name)).toEqual([
      'secrets-store-app-secrets',
      'secrets-store-app-secrets',
    ]);
  });

  test('VM managed identity: plain ServiceAccount, no workload identity label', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c', { namespace: 'team-a' });
    const store = new SecretStore(chart, 'addon', {
      ...spcProps,
      workloadIdentityClientId: undefined,
      userAssignedIdentityClientId: CLIENT,
    });
    const d = new kplus.Deployment(chart, 'd', {
      serviceAccount: store.serviceAccount,
      containers: [{ image: 'nginx' }],
    });
    store.wire(d);
    const out = Testing.synth(chart) as Manifest[];
    expect(byKind(out, 'ServiceAccount')[0].metadata.annotations).toBeUndefined();
    expect(byKind(out, 'Deployment')[0].spec.template.metadata.labels).not.toHaveProperty(
      'azure.workload.identity/use',
    );
    expect(byKind(out, 'SecretProviderClass')[0].spec.parameters).toMatchObject({
      useVMManagedIdentity: 'true',
      userAssignedIdentityID: CLIENT,
    });
  });

  test('fails to wire a workload that does not run as the store ServiceAccount', () => {
    const { chart, store } = build();
    const d = new kplus.Deployment(chart, 'd', { containers: [{ image: 'nginx' }] });
    expect(() => store.wire(d)).toThrow(
      /^workload.serviceAccount: ".*" runs as the default ServiceAccount, not the store's "app-secrets"; create it with serviceAccount: store.serviceAccount/,
    );
  });

  test('fails to wire a workload in another namespace', () => {
    const { chart, store } = build();
    const d = new kplus.Deployment(chart, 'd', {
      metadata: { namespace: 'team-b' },
      serviceAccount: store.serviceAccount,
      containers: [{ image: 'nginx' }],
    });
    expect(() => store.wire(d)).toThrow(
      /^workload: ".*" is in namespace "team-b" but SecretProviderClass "app-secrets" is in "team-a"/,
    );
  });

  test('fails to wire env from an undeclared synced Secret and a workload without containers', () => {
    const { chart, store } = build();
    const d = new kplus.Deployment(chart, 'd', {
      serviceAccount: store.serviceAccount,
      containers: [{ image: 'nginx' }],
    });
    expect(() => store.wire(d, { env: { X: { secretName: 'nope', key: 'k' } } })).toThrow(
      /^secretName: "nope" is not synced/,
    );
    const empty = new kplus.Deployment(chart, 'e', { serviceAccount: store.serviceAccount });
    expect(() => store.wire(empty)).toThrow(/^containers: ".*" has no containers/);
  });
});
