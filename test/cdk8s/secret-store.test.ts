import { Chart, Testing } from 'cdk8s';
import * as kplus from '../../lib/cdk8s/plus';
import { SecretStore } from '../../lib/cdk8s';
import { byKind, CLIENT, Manifest, spcProps } from './fixtures';

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
    // The node identity does not depend on the pod's ServiceAccount, so another one is fine.
    const other = new kplus.Deployment(chart, 'other', { containers: [{ image: 'nginx' }] });
    expect(() => store.wire(other)).not.toThrow();
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
      /^\[team-a\/d\] workload.serviceAccount: ".*" runs as the default ServiceAccount, not the store's "app-secrets"; create it with serviceAccount: store.serviceAccount/,
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
      /^\[team-a\/d\] workload: ".*" is in namespace "team-b" but SecretProviderClass "app-secrets" is in "team-a"/,
    );
  });

  test('fails to wire env from an undeclared synced Secret and a workload without containers', () => {
    const { chart, store } = build();
    const d = new kplus.Deployment(chart, 'd', {
      serviceAccount: store.serviceAccount,
      containers: [{ image: 'nginx' }],
    });
    expect(() => store.wire(d, { env: { X: { secretName: 'nope', key: 'k' } } })).toThrow(
      /^\[team-a\/app-secrets\/SecretProviderClass\] secretName: "nope" is not synced/,
    );
    const empty = new kplus.Deployment(chart, 'e', { serviceAccount: store.serviceAccount });
    expect(() => store.wire(empty)).toThrow(/^\[team-a\/e\] containers: ".*" has no containers/);
  });
});
