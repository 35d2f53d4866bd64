import { Chart, Testing } from 'cdk8s';
import * as kplus from '../../lib/cdk8s/plus';
import { mountSecretsStore, SecretStore } from '../../lib/cdk8s';
import { byKind, CLIENT, errorOf, Manifest, spcProps } from './fixtures';

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
      mountPath: '/mnt/secrets-store/app-secrets',
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

describe('two SecretStores in one workload (issue 13, defect 2)', () => {
  const OTHER_CLIENT = '22222222-2222-2222-2222-222222222222';
  const build = () => {
    const app = Testing.app();
    const chart = new Chart(app, 'team-a', { namespace: 'team-a' });
    const orders = new SecretStore(chart, 'orders', spcProps);
    const billing = new SecretStore(chart, 'billing', {
      ...spcProps,
      workloadIdentityClientId: OTHER_CLIENT,
      serviceAccountName: orders.serviceAccount.name,
      createServiceAccount: false,
    });
    const deployment = new kplus.Deployment(chart, 'web', {
      metadata: { name: 'web' },
      serviceAccount: orders.serviceAccount,
      containers: [{ name: 'app', image: 'nginx' }],
    });
    return { chart, orders, billing, deployment };
  };

  test('each store mounts in its own directory, and the pod runs as the one ServiceAccount', () => {
    const { chart, orders, billing, deployment } = build();
    orders.wire(deployment);
    billing.wire(deployment);
    const out = Testing.synth(chart) as Manifest[];
    expect(byKind(out, 'ServiceAccount').map((sa) => sa.metadata.name)).toEqual(['orders']);
    const spec = byKind(out, 'Deployment')[0].spec.template.spec;
    expect(spec.serviceAccountName).toBe('orders');
    expect(spec.containers[0].volumeMounts).toEqual([
      { name: 'secrets-store-orders', mountPath: '/mnt/secrets-store/orders', readOnly: true },
      { name: 'secrets-store-billing', mountPath: '/mnt/secrets-store/billing', readOnly: true },
    ]);
    expect(spec.volumes.map((v: { name: string }) => v.name)).toEqual([
      'secrets-store-orders',
      'secrets-store-billing',
    ]);
    // The reused ServiceAccount is a reference: its name, no object of its own.
    expect(billing.createsServiceAccount).toBe(false);
    expect(billing.serviceAccount.name).toBe('orders');
  });

  test('a shared mount path fails at synth naming both stores', () => {
    const { orders, billing, deployment } = build();
    orders.wire(deployment, { mountPath: '/mnt/secrets' });
    expect(() => billing.wire(deployment, { mountPath: '/mnt/secrets/' })).toThrow(
      /^\[team-a\/web\] path: stores "orders" and "billing" clash in one container: both mount at "\/mnt\/secrets"; give each store its own directory/,
    );
  });

  test('a mount path inside another store fails naming both stores', () => {
    const { orders, billing, deployment } = build();
    orders.wire(deployment, { mountPath: '/mnt/secrets' });
    expect(() => billing.wire(deployment, { mountPath: '/mnt/secrets/billing' })).toThrow(
      'path: stores "orders" and "billing" clash in one container: "/mnt/secrets/billing" lies inside "/mnt/secrets"',
    );
  });

  test('the same store wired twice into one container fails, naming the first mount', () => {
    const { orders, deployment } = build();
    orders.wire(deployment);
    expect(() => orders.wire(deployment, { mountPath: '/elsewhere' })).toThrow(
      'path: store "orders" is already mounted in container "app" at "/mnt/secrets-store/orders"; mount a store once per container',
    );
  });

  test('the standalone mountSecretsStore keeps /mnt/secrets-store but refuses a second store there', () => {
    const { chart, orders, billing } = build();
    const pod = new kplus.Pod(chart, 'seed', { containers: [{ name: 'busybox', image: 'busybox' }] });
    mountSecretsStore(pod.containers[0], orders.volume);
    expect(pod.containers[0].mounts.map((m) => m.path)).toEqual(['/mnt/secrets-store']);
    expect(() => mountSecretsStore(pod.containers[0], billing.volume)).toThrow(
      'path: stores "orders" and "billing" clash in one container: both mount at "/mnt/secrets-store"',
    );
  });

  test('stores in different containers may share a path', () => {
    const { chart, orders, billing } = build();
    const pod = new kplus.Pod(chart, 'two', {
      serviceAccount: orders.serviceAccount,
      containers: [
        { name: 'a', image: 'nginx' },
        { name: 'b', image: 'nginx' },
      ],
    });
    orders.wire(pod, { containers: [pod.containers[0]], mountPath: '/mnt/s' });
    expect(() => billing.wire(pod, { containers: [pod.containers[1]], mountPath: '/mnt/s' })).not.toThrow();
  });

  test('two stores creating one ServiceAccount name fail at synth naming both', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'team-a', { namespace: 'team-a' });
    new SecretStore(chart, 'orders', spcProps);
    new SecretStore(chart, 'billing', { ...spcProps, serviceAccountName: 'orders' });
    // Another namespace is another ServiceAccount.
    const other = new Chart(app, 'team-b', { namespace: 'team-b' });
    new SecretStore(other, 'billing', { ...spcProps, serviceAccountName: 'orders' });
    expect(errorOf(() => app.synthYaml())).toBe(
      'Validation failed with the following errors:\n  [team-a/billing] serviceAccountName: stores "orders" (team-a/orders) and "billing" both create ServiceAccount "orders" in namespace "team-a"; create "billing" with createServiceAccount: false to reuse it, or give it its own serviceAccountName',
    );
  });

  test('a reused ServiceAccount still has to be the workload one with workload identity', () => {
    const { chart, billing } = build();
    const d = new kplus.Deployment(chart, 'd', { containers: [{ image: 'nginx' }] });
    expect(() => billing.wire(d)).toThrow(
      /workload.serviceAccount: ".*" runs as the default ServiceAccount, not the store's "orders"/,
    );
  });
});
