// `aks-secrets-store doctor` against the real kube-apiserver: broken setups new users make, each built in
// a slice of the cluster of its own (namespaces, nodes, CSI driver name), diagnosed by the compiled bin
// with the link, the cause and the fix, and a healthy setup reported healthy. Here the cluster's own
// state is the evidence, and kubelet's texts are written as kubelet writes them.
import { KubeApi } from '../../../harness/rig/kube-api';
import type { KubeObject } from '../../../lib/core/kube-object';
import { ClusterSlice, SliceOptions } from './support/cluster-slice';
import { doctorJson, doctorText, firstProblem, summaryOf } from './support/run-doctor';

jest.setTimeout(180_000);

const api = KubeApi.forRig();
const slices: ClusterSlice[] = [];
afterAll(async () => {
  for (const slice of slices) await slice.dispose();
  api.close();
});

async function slice(options: SliceOptions): Promise<ClusterSlice> {
  const s = await ClusterSlice.create(api, options);
  slices.push(s);
  return s;
}

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '5a0c9d3e-1111-4e0e-9d1b-1c2d3e4f5a6b';
const OTHER_CLIENT = '0d7f1b2c-3333-4e0e-9d1b-7a6b5c4d3e2f';
const WI_LABELS = { 'azure.workload.identity/use': 'true' };

const objectsYaml = (...objects: Array<Record<string, string>>) =>
  `array:\n${objects
    .map(
      (o) =>
        `  - |\n${Object.entries(o)
          .map(([k, v]) => `    ${k}: ${v}`)
          .join('\n')}`,
    )
    .join('\n')}\n`;

const WI_PARAMETERS = {
  keyvaultName: 'kv-team-a',
  tenantId: TENANT,
  clientID: CLIENT,
  objects: objectsYaml({ objectName: 'db-password', objectType: 'secret' }),
};

/** A workload-identity app as the AKS docs set it up: SPC, annotated ServiceAccount, labelled pod. */
async function workloadIdentityApp(
  s: ClusterSlice,
  props: {
    parameters?: Record<string, string>;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    phase?: 'Pending' | 'Running';
  } = {},
) {
  await s.spc('app-kv', props.parameters ?? WI_PARAMETERS);
  await s.serviceAccount('app', props.annotations ?? { 'azure.workload.identity/client-id': CLIENT });
  return s.pod('web-0', {
    node: s.node(),
    serviceAccount: 'app',
    labels: props.labels ?? WI_LABELS,
    volumes: [{ spc: 'app-kv' }],
    phase: props.phase,
  });
}

function dropObject(kind: string, name?: string) {
  return (o: KubeObject) =>
    o.kind === kind && (name === undefined || o.metadata.name === name) ? undefined : o;
}

describe('a healthy setup', () => {
  test('workload identity, the install on the node: healthy, exit 0, and the report says what it checked', async () => {
    const s = await slice({ id: 'healthy' });
    await workloadIdentityApp(s, { phase: 'Running' });
    const run = await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]);
    expect({
      code: run.code,
      result: run.report.result,
      problems: run.report.findings.filter((f) => f.status === 'problem'),
    }).toEqual({
      code: 0,
      result: 'healthy',
      problems: [],
    });
    const checks = run.report.findings.filter((f) => f.status === 'ok').map((f) => f.check);
    expect(checks).toEqual(
      expect.arrayContaining([
        'install.csidriver',
        'install.driver',
        'install.provider',
        'spc.valid',
        'identity.workload-identity',
      ]),
    );
    expect(run.report.target.install).toBe('SelfHostedInstall of this package');
    const text = await doctorText(['pod/web-0', '-n', s.appNamespace]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/\[ok\] +CSIDriver .*podInfoOnMount, Ephemeral, requiresRepublish/);
    expect(text.stdout).toContain('result: healthy');
    expect(text.stdout).toContain('kubectl port-forward -n');
  });
});

describe('targets other than a pod', () => {
  test('deployment/<name> before any pod exists: its pod template is checked (ServiceAccount without the annotation)', async () => {
    const s = await slice({ id: 'deploy' });
    await s.spc('app-kv', WI_PARAMETERS);
    await s.serviceAccount('app');
    await api.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: s.appNamespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web', ...WI_LABELS } },
          spec: {
            serviceAccountName: 'app',
            containers: [
              {
                name: 'app',
                image: 'registry.k8s.io/e2e-test-images/busybox:1.29-1',
                volumeMounts: [{ name: 'secrets', mountPath: '/mnt/secrets', readOnly: true }],
              },
            ],
            volumes: [
              {
                name: 'secrets',
                csi: {
                  driver: s.driverName,
                  readOnly: true,
                  volumeAttributes: { secretProviderClass: 'app-kv' },
                },
              },
            ],
          },
        },
      },
    });
    const run = await doctorJson(['deployment/web', '-n', s.appNamespace]);
    expect(run.code).toBe(1);
    expect(run.report.target.requested).toContain('deployment/web');
    const p = firstProblem(run);
    expect(summaryOf(p)).toMatchObject({ check: 'identity.service-account-annotation' });
    expect(p.fix).toContain(
      `kubectl annotate serviceaccount -n ${s.appNamespace} app azure.workload.identity/client-id=${CLIENT}`,
    );
  });

  test('secretproviderclass/<name> with no pod mounting it: the class alone is checked, text report', async () => {
    // With no pod there is no volume to name the driver: the doctor checks the default one.
    const s = await slice({ id: 'spconly', driverName: 'default' });
    await s.spc('app-kv', { ...WI_PARAMETERS, keyvaultName: 'https://kv-team-a.vault.azure.net/' });
    const run = await doctorText(['secretproviderclass/app-kv', '-n', s.appNamespace]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('keyvaultName');
    expect(run.stdout).toMatch(/fix: /);
    const json = await doctorJson(['--secret-provider-class', 'app-kv', '-n', s.appNamespace]);
    expect(summaryOf(firstProblem(json))).toMatchObject({
      link: 'secret-provider-class',
      field: 'spec.parameters.keyvaultName',
    });
  });
});

describe('the AKS add-on (its DaemonSet names in kube-system)', () => {
  const ADDON_NAMES: Record<string, string> = {
    'csi-secrets-store': 'aks-secrets-store-csi-driver',
    'csi-secrets-store-provider-azure': 'aks-secrets-store-provider-azure',
  };

  test('healthy on the add-on; then its provider pod gone from the node: the add-on fix', async () => {
    const s = await slice({
      id: 'addon',
      installNamespace: 'kube-system',
      install: { images: { useUpstreamImages: true } },
      mutate: (o) =>
        o.kind === 'DaemonSet' && ADDON_NAMES[o.metadata.name]
          ? { ...o, metadata: { ...o.metadata, name: ADDON_NAMES[o.metadata.name] } }
          : o,
    });
    await workloadIdentityApp(s, { phase: 'Running' });
    const healthy = await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]);
    expect({
      code: healthy.code,
      problems: healthy.report.findings.filter((f) => f.status === 'problem'),
    }).toEqual({
      code: 0,
      problems: [],
    });
    expect(healthy.report.target.install).toBe('AKS add-on azure-keyvault-secrets-provider');

    // The add-on's provider pod on the node is gone (evicted, not yet re-created).
    const pods = await api.get<{ items: Array<{ metadata: { name: string } }> }>(
      '/api/v1/namespaces/kube-system/pods',
    );
    for (const pod of pods.items.filter((p) =>
      p.metadata.name.startsWith('aks-secrets-store-provider-azure-'),
    ))
      await api.request('DELETE', `/api/v1/namespaces/kube-system/pods/${pod.metadata.name}`, {
        query: { gracePeriodSeconds: '0' },
        allowStatus: [404],
      });
    const run = await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]);
    expect(run.code).toBe(1);
    const p = firstProblem(run);
    expect(summaryOf(p)).toMatchObject({ check: 'install.provider', link: 'install' });
    expect(p.summary).toBe(
      `provider (azure.sock) kube-system/aks-secrets-store-provider-azure has no pod on node ${s.node()}`,
    );
    expect(p.fix).toContain('kubectl describe ds -n kube-system aks-secrets-store-provider-azure');
    expect(p.fix).toContain('az aks addon enable --addon azure-keyvault-secrets-provider');
  });
});

describe('broken setups', () => {
  test('rotation flag without requiresRepublish', async () => {
    const s = await slice({
      id: 'republish',
      mutate: (o) =>
        o.kind === 'CSIDriver' ? { ...o, spec: { ...(o.spec as object), requiresRepublish: false } } : o,
    });
    await workloadIdentityApp(s, { phase: 'Running' });
    const run = await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]);
    expect(run.code).toBe(1);
    const p = firstProblem(run);
    expect(summaryOf(p)).toMatchObject({
      check: 'install.csidriver.requires-republish',
      link: 'install',
      field: 'spec.requiresRepublish',
    });
    expect(p.summary).toContain('--enable-secret-rotation=true');
    expect(p.fix).toContain(`kubectl patch csidriver ${s.driverName}`);
    // Rotation never breaks a mount: the walk went on, so a failing mount would have been named first.
    expect(run.report.notChecked).toEqual(['metrics']);
  });

  test("provider DaemonSet not on the pod's node (its nodeSelector excludes the node)", async () => {
    const s = await slice({
      id: 'nodesel',
      nodes: [{ suffix: 'a', labels: { agentpool: 'user' } }],
      install: { nodeSelector: {} },
      mutate: (o) =>
        o.kind === 'DaemonSet' && o.metadata.name === 'csi-secrets-store-provider-azure'
          ? setNodeSelector(o, { agentpool: 'system' })
          : o,
      daemonSetPodsOn: { 'csi-secrets-store-provider-azure': [] },
    });
    await workloadIdentityApp(s);
    const p = firstProblem(await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({ check: 'install.provider', link: 'install' });
    expect(p.summary).toBe(
      `provider (azure.sock) ${s.installNamespace}/csi-secrets-store-provider-azure does not run on node ${s.node()}`,
    );
    expect(p.cause).toBe(
      `its nodeSelector agentpool=system does not match node ${s.node()} (agentpool=user)`,
    );
    expect(p.fix).toContain('nodeSelector');
  });

  test('provider DaemonSet missing altogether', async () => {
    const s = await slice({
      id: 'noprov',
      mutate: dropObject('DaemonSet', 'csi-secrets-store-provider-azure'),
    });
    await workloadIdentityApp(s);
    const p = firstProblem(
      await doctorJson(['--pod', 'web-0', '-n', s.appNamespace, '--install-namespace', s.installNamespace]),
    );
    expect(summaryOf(p)).toMatchObject({
      check: 'install.provider.missing',
      catalogueId: 'driver.provider-not-found',
    });
    expect(p.summary).toBe(
      `no provider DaemonSet serving azure.sock (spec.provider: azure) in namespace ${s.installNamespace}`,
    );
    expect(p.fix).toContain('install the Azure Key Vault provider');
  });

  test("provider socket in another host directory than the driver's", async () => {
    const s = await slice({
      id: 'sockdir',
      install: { additionalProvidersDirs: [] },
      mutate: (o) =>
        o.kind === 'DaemonSet' && o.metadata.name === 'csi-secrets-store-provider-azure'
          ? setHostPath(o, 'providervol', '/etc/kubernetes/secrets-store-csi-providers')
          : o,
    });
    await workloadIdentityApp(s);
    const p = firstProblem(await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({ check: 'install.provider.socket-dir' });
    expect(p.cause).toBe(
      `the provider writes /provider/azure.sock, which is host directory /etc/kubernetes/secrets-store-csi-providers; driver ${s.installNamespace}/csi-secrets-store searches the host directories /var/run/secrets-store-csi-providers`,
    );
  });

  test('driver crash-looping on the node', async () => {
    const s = await slice({ id: 'crash', crashingDaemonSets: ['csi-secrets-store'] });
    await workloadIdentityApp(s);
    await s.event(
      { name: 'web-0', namespace: s.appNamespace, uid: '', node: s.node() },
      'FailedMount',
      `MountVolume.SetUp failed for volume "secrets-store-0" : kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name ${s.driverName} not found in the list of registered CSI drivers`,
    );
    const p = firstProblem(await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({ check: 'install.driver', link: 'install' });
    expect(p.summary).toBe(`driver ${s.installNamespace}/csi-secrets-store is not ready on node ${s.node()}`);
    expect(p.cause).toMatch(
      /^pod csi-secrets-store-\w+ is Running: secrets-store CrashLoopBackOff \(7 restarts\)$/,
    );
    expect(p.fix).toContain('kubectl logs -n');
    // The pod's current FailedMount rides along as evidence.
    expect(p.message).toContain('not found in the list of registered CSI drivers');
  });

  test('no CSIDriver object', async () => {
    const s = await slice({ id: 'nocsid', mutate: dropObject('CSIDriver') });
    await workloadIdentityApp(s);
    const p = firstProblem(await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({
      check: 'install.csidriver.missing',
      catalogueId: 'kubelet.no-csidriver',
    });
    expect(p.summary).toBe(`there is no CSIDriver ${s.driverName}`);
  });

  test('workload identity while the CSIDriver requests no token for api://AzureADTokenExchange', async () => {
    const s = await slice({ id: 'notoken', install: { workloadIdentity: false } });
    await workloadIdentityApp(s);
    const p = firstProblem(await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({
      check: 'install.csidriver.token-requests',
      field: 'spec.tokenRequests',
    });
    expect(p.fix).toContain('tokenRequests: [{audience: api://AzureADTokenExchange}]');
  });

  test('SecretProviderClass in another namespace than the pod', async () => {
    const s = await slice({ id: 'spcns' });
    await s.spc('team-a-kv', WI_PARAMETERS, { namespace: s.installNamespace });
    await s.serviceAccount('app', { 'azure.workload.identity/client-id': CLIENT });
    await s.pod('web-0', {
      node: s.node(),
      serviceAccount: 'app',
      labels: WI_LABELS,
      volumes: [{ spc: 'team-a-kv' }],
    });
    const p = firstProblem(await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({
      check: 'spc.not-found',
      link: 'secret-provider-class',
      catalogueId: 'driver.spc-not-found',
    });
    expect(p.cause).toContain(
      `one named team-a-kv exists in namespace ${s.installNamespace}, which the driver never reads for this pod`,
    );
    expect(p.fix).toContain(`create the SecretProviderClass in namespace ${s.appNamespace}`);
  });

  test('secretObjects objectName is the object name, but the object has an alias', async () => {
    const s = await slice({ id: 'alias' });
    await s.spc(
      'app-kv',
      {
        ...WI_PARAMETERS,
        objects: objectsYaml({ objectName: 'db-password', objectType: 'secret', objectAlias: 'DB_PASSWORD' }),
      },
      {
        secretObjects: [
          { secretName: 'db', type: 'Opaque', data: [{ objectName: 'db-password', key: 'password' }] },
        ],
      },
    );
    await s.serviceAccount('app', { 'azure.workload.identity/client-id': CLIENT });
    await s.pod('web-0', {
      node: s.node(),
      serviceAccount: 'app',
      labels: WI_LABELS,
      volumes: [{ spc: 'app-kv' }],
    });
    const p = firstProblem(await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({
      check: 'spc.secret-objects.file-name',
      field: 'spec.secretObjects[0].data[0].objectName',
    });
    expect(p.cause).toContain('"db-password" matches no mounted file');
    expect(p.cause).toContain('"DB_PASSWORD"');
  });

  test('ServiceAccount without the workload identity annotation', async () => {
    const s = await slice({ id: 'noannot' });
    await workloadIdentityApp(s, { annotations: {} });
    const p = firstProblem(await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({ check: 'identity.service-account-annotation' });
    expect(p.fix).toContain(
      `kubectl annotate serviceaccount -n ${s.appNamespace} app azure.workload.identity/client-id=${CLIENT}`,
    );
  });

  test('client id of the SecretProviderClass differs from the ServiceAccount annotation', async () => {
    const s = await slice({ id: 'clientid' });
    await workloadIdentityApp(s, { annotations: { 'azure.workload.identity/client-id': OTHER_CLIENT } });
    const p = firstProblem(await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({
      check: 'identity.client-id-mismatch',
      field: 'spec.parameters.clientID',
    });
    expect(p.summary).toBe(
      `SecretProviderClass app-kv uses clientID ${CLIENT}, but ServiceAccount ${s.appNamespace}/app is annotated with ${OTHER_CLIENT}`,
    );
  });

  test('pod without the azure.workload.identity/use label', async () => {
    const s = await slice({ id: 'nolabel' });
    await workloadIdentityApp(s, { labels: {} });
    const p = firstProblem(await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({ check: 'identity.pod-label', field: 'metadata.labels' });
  });

  test('a synced Secret read by env before any pod mounted the SecretProviderClass', async () => {
    const s = await slice({ id: 'envsync' });
    await s.spc('azure-sync', WI_PARAMETERS, {
      secretObjects: [
        { secretName: 'foosecret', type: 'Opaque', data: [{ objectName: 'db-password', key: 'username' }] },
      ],
    });
    await s.serviceAccount('app', { 'azure.workload.identity/client-id': CLIENT });
    await s.pod('reader', {
      node: s.node(),
      serviceAccount: 'app',
      env: [{ name: 'SECRET_USERNAME', secret: 'foosecret', key: 'username' }],
      waiting: { reason: 'CreateContainerConfigError', message: 'secret "foosecret" not found' },
    });
    const p = firstProblem(await doctorJson(['--pod', 'reader', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({
      check: 'synced-secret.no-mounting-pod',
      catalogueId: 'container.secret-not-found',
    });
    expect(p.cause).toContain('it first must be mounted by at least one pod');
    expect(p.fix).toContain('secretProviderClass: azure-sync');
  });

  test('an env var reads a key secretObjects does not sync', async () => {
    const s = await slice({ id: 'envkey' });
    await s.spc('azure-sync', WI_PARAMETERS, {
      secretObjects: [
        { secretName: 'foosecret', type: 'Opaque', data: [{ objectName: 'db-password', key: 'username' }] },
      ],
    });
    await s.serviceAccount('app', { 'azure.workload.identity/client-id': CLIENT });
    await s.pod('web-0', {
      node: s.node(),
      serviceAccount: 'app',
      labels: WI_LABELS,
      volumes: [{ spc: 'azure-sync' }],
      env: [{ name: 'DB_PASSWORD', secret: 'foosecret', key: 'password' }],
    });
    const p = firstProblem(await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({ check: 'synced-secret.key', catalogueId: 'container.secret-key' });
    expect(p.summary).toBe(
      'env DB_PASSWORD of container app reads key password of Secret foosecret, which SecretProviderClass azure-sync does not sync',
    );
  });

  test('objectType written with a capital letter', async () => {
    const s = await slice({ id: 'objtype' });
    await workloadIdentityApp(s, {
      parameters: {
        ...WI_PARAMETERS,
        objects: objectsYaml({ objectName: 'db-password', objectType: 'Secret' }),
      },
    });
    const p = firstProblem(await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({
      check: 'spc.invalid',
      field: 'spec.parameters.objects array[0].objectType',
    });
    expect(p.cause).toContain('"Secret" is not an object type; use one of "secret", "key", "cert"');
  });

  test('clientID left in while switching to the add-on identity (useVMManagedIdentity)', async () => {
    const s = await slice({ id: 'twomodes' });
    await workloadIdentityApp(s, {
      parameters: { ...WI_PARAMETERS, useVMManagedIdentity: 'true', userAssignedIdentityID: OTHER_CLIENT },
    });
    const p = firstProblem(await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({ check: 'spc.invalid', field: 'spec.parameters (identity)' });
    expect(p.cause).toContain('clientID and useVMManagedIdentity are both set');
  });

  test('a writable Secrets Store volume', async () => {
    const s = await slice({ id: 'rw' });
    await s.spc('app-kv', WI_PARAMETERS);
    await s.serviceAccount('app', { 'azure.workload.identity/client-id': CLIENT });
    await s.pod('web-0', {
      node: s.node(),
      serviceAccount: 'app',
      labels: WI_LABELS,
      volumes: [{ spc: 'app-kv', readOnly: false }],
    });
    const p = firstProblem(await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({ check: 'pod.volume.read-only', catalogueId: 'driver.read-only' });
  });

  test("service principal Secret missing from the pod's namespace", async () => {
    const s = await slice({ id: 'spsecret' });
    const { clientID: _ignored, ...spParameters } = WI_PARAMETERS;
    await s.spc('app-kv', spParameters);
    await s.secret('secrets-store-creds', { clientid: CLIENT, clientsecret: 'not-for-the-report' });
    await s.pod('web-0', {
      node: s.node(),
      volumes: [{ spc: 'app-kv', nodePublishSecretRef: 'secret-store-creds' }],
    });
    const run = await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]);
    const p = firstProblem(run);
    expect(summaryOf(p)).toMatchObject({
      check: 'identity.service-principal-secret',
      catalogueId: 'kubelet.node-publish-secret',
    });
    expect(p.summary).toContain('names nodePublishSecretRef secret-store-creds, which does not exist');
    expect(run.stdout).not.toContain('not-for-the-report');
  });
});

describe('more setups new users make', () => {
  test('spec.provider: Azure (capital letter): the provider that runs is azure', async () => {
    const s = await slice({ id: 'provcase' });
    await s.spc('app-kv', WI_PARAMETERS, { provider: 'Azure' });
    await s.serviceAccount('app', { 'azure.workload.identity/client-id': CLIENT });
    await s.pod('web-0', {
      node: s.node(),
      serviceAccount: 'app',
      labels: WI_LABELS,
      volumes: [{ spc: 'app-kv' }],
    });
    const p = firstProblem(
      await doctorJson(['--pod', 'web-0', '-n', s.appNamespace, '--install-namespace', s.installNamespace]),
    );
    expect(summaryOf(p)).toMatchObject({
      check: 'install.provider.missing',
      catalogueId: 'driver.provider-not-found',
    });
    expect(p.fix).toContain('write `provider: azure`');
  });

  test('VM managed identity with a userAssignedIdentityID the node does not have (IMDS: Identity not found)', async () => {
    const s = await slice({ id: 'vmmi' });
    const { clientID: _unused, ...base } = WI_PARAMETERS;
    await s.spc('app-kv', { ...base, useVMManagedIdentity: 'true', userAssignedIdentityID: OTHER_CLIENT });
    const pod = await s.pod('web-0', { node: s.node(), volumes: [{ spc: 'app-kv' }] });
    // IMDS's answer for an identity the node does not have (error_description "Identity not found"),
    // inside a ManagedIdentityCredential error as the provider reports a token failure.
    await s.failedMount(pod, 'secrets-store-0', {
      code: 'Unknown',
      message: `failed to mount secrets store objects for pod ${pod.namespace}/web-0, err: rpc error: code = Unknown desc = failed to mount objects, error: failed to get objectType:secret, objectName:db-password, objectVersion:: ManagedIdentityCredential authentication failed. the requested identity isn't assigned to this resource\nGET http://169.254.169.254/metadata/identity/oauth2/token\nRESPONSE 400 Bad Request\n{"error":"invalid_request","error_description":"Identity not found"}`,
    });
    const p = firstProblem(await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]));
    expect(summaryOf(p)).toMatchObject({ check: 'pod.failed-mount', catalogueId: 'imds.identity-not-found' });
    expect(p.fix).toContain('userAssignedIdentityID');
  });

  test('a pod not scheduled yet: no mount tried, said as a warning (not a problem of the volume)', async () => {
    const s = await slice({ id: 'unsched' });
    await s.spc('app-kv', WI_PARAMETERS);
    await s.serviceAccount('app', { 'azure.workload.identity/client-id': CLIENT });
    await s.pod('web-0', { serviceAccount: 'app', labels: WI_LABELS, volumes: [{ spc: 'app-kv' }] });
    const run = await doctorJson(['--pod', 'web-0', '-n', s.appNamespace]);
    expect(run.code).toBe(0);
    expect(run.report.findings.filter((f) => f.status === 'warning').map((f) => f.check)).toContain(
      'pod.not-scheduled',
    );
  });
});

function setNodeSelector(ds: KubeObject, selector: Record<string, string>): KubeObject {
  const copy = JSON.parse(JSON.stringify(ds)) as {
    spec: { template: { spec: { nodeSelector?: Record<string, string> } } };
  };
  copy.spec.template.spec.nodeSelector = { ...copy.spec.template.spec.nodeSelector, ...selector };
  return copy as unknown as KubeObject;
}

function setHostPath(ds: KubeObject, volume: string, hostPath: string): KubeObject {
  const copy = JSON.parse(JSON.stringify(ds)) as {
    spec: { template: { spec: { volumes: Array<{ name: string; hostPath?: { path: string } }> } } };
  };
  const found = copy.spec.template.spec.volumes.find((v) => v.name === volume);
  if (!found?.hostPath) throw new Error(`${ds.metadata.name} has no hostPath volume ${volume}`);
  found.hostPath.path = hostPath;
  return copy as unknown as KubeObject;
}
