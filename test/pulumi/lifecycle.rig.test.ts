// The Kubernetes half of the Pulumi components across a stack's life, in the real engine (the Pulumi CLI and the
// pulumi-kubernetes plugin built by harness/rig/build.sh) against the rig's kube-apiserver. Only a real engine
// shows what the second and the tenth `up` do: which resources it replaces, in which order it deletes, which
// URNs it matches. Stores use the add-on identity here, so no Azure resource is involved (the Azure half is
// covered under mocks and in arm-lifecycle.rig.test.ts). Preview/up output of every step is written to
// test-artifacts/pulumi-lifecycle/<test>/ and kept when a test fails.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';
import { Deployment } from '@pulumi/kubernetes/apps/v1';
import { Namespace } from '@pulumi/kubernetes/core/v1';
import { Provider as KubernetesProvider } from '@pulumi/kubernetes/provider';
import { KeyVaultObjectType } from '../../lib/core/key-vault-objects';
import { SecretType } from '../../lib/core/synced-secrets';
import {
  combineSecretStoreWirings,
  installModePlan,
  SecretsStoreInstallMode,
  SecretStore,
  SelfHostedInstall,
} from '../../lib/pulumi';
import { KubeApi } from '../../harness/rig/kube-api';
import type { KubeObject } from '../../lib/core/kube-object';
import { withAdmissionConfinedTo } from '../rig/confined-admission';
import { EngineStack, EngineUp } from '../../harness/rig/pulumi-engine';
import type { PulumiFn } from '@pulumi/pulumi/automation';
import * as managedidentity from '@pulumi/azure-native/managedidentity';
import { FederatedCredentialArgs, WorkloadIdentity } from '../../lib/pulumi';
import { componentType } from '../../lib/pulumi/component-type';
import { cannotRunHere, pulumiEngineBinaries, rig } from '../../harness/rig/rig-env';

jest.setTimeout(15 * 60_000);

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'pulumi-lifecycle');
const VAULT_ID =
  '/subscriptions/00000000-1111-4222-8333-444444444444/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-life';
const TENANT = '72f988bf-0000-4000-8000-000000000001';
const ISSUER = 'https://oidc.rig.example/cluster-a/';
const ADDON_CLIENT_ID = '11111111-2222-4333-8444-555555555555';
const CRDS = [
  'secretproviderclasses.secrets-store.csi.x-k8s.io',
  'secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io',
];

function engineMissing(): string | undefined {
  try {
    pulumiEngineBinaries();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Nothing in the rig runs pods, so no workload ever becomes ready: the engine must not wait for it. */
const skipAwait: pulumi.ResourceTransformation = (args) =>
  args.type === 'kubernetes:apps/v1:Deployment' || args.type === 'kubernetes:apps/v1:DaemonSet'
    ? {
        props: {
          ...args.props,
          metadata: {
            ...args.props.metadata,
            annotations: { ...args.props.metadata?.annotations, 'pulumi.com/skipAwait': 'true' },
          },
        },
        opts: args.opts,
      }
    : undefined;

/**
 * The install's admission policy bound to the stack's own namespace (see test/rig/confined-admission.ts): the
 * rig's apiserver is shared, and a cluster-wide binding refuses other files' minimal SPC fixtures.
 */
const confineAdmission =
  (namespace: string): pulumi.ResourceTransformation =>
  (args) => {
    if (args.type !== 'kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding')
      return undefined;
    const [confined] = withAdmissionConfinedTo(
      [{ ...args.props, kind: 'ValidatingAdmissionPolicyBinding' } as KubeObject],
      'lifecycle',
      [namespace],
    ) as (KubeObject & { spec: unknown })[];
    return { props: { ...args.props, metadata: confined.metadata, spec: confined.spec }, opts: args.opts };
  };

interface StoreSpec {
  readonly name: string;
  readonly serviceAccountName?: string;
  readonly createServiceAccount?: boolean;
  /** Workload identity (Azure resources from the fake azure-native provider) instead of the add-on identity. */
  readonly workloadIdentity?: boolean;
}

interface ProgramSpec {
  readonly namespace: string;
  readonly mode?: SecretsStoreInstallMode;
  readonly stores: StoreSpec[];
  /** A Deployment wired to all stores. */
  readonly deployment?: boolean;
}

/** One version of the team's program: an install mode, the stores, a Deployment that uses them. */
function program(spec: ProgramSpec): () => Promise<Record<string, unknown>> {
  return async () => {
    const provider = new KubernetesProvider('rig', {
      kubeconfig: fs.readFileSync(rig().kubeconfig, 'utf8'),
    });
    const namespace = new Namespace('team', { metadata: { name: spec.namespace } }, { provider });
    const plan = spec.mode ? installModePlan(spec.mode) : undefined;
    const install = plan?.selfHostedInstall
      ? new SelfHostedInstall(
          'secrets-store',
          { kubernetesProvider: provider },
          { transformations: [skipAwait, confineAdmission(spec.namespace)] },
        )
      : undefined;
    const stores = spec.stores.map(
      (store) =>
        new SecretStore(
          store.name,
          {
            namespace: namespace.metadata.name,
            secretProviderClassName: store.name,
            serviceAccountName: store.serviceAccountName,
            createServiceAccount: store.createServiceAccount,
            vaultId: VAULT_ID,
            tenantId: TENANT,
            ...(store.workloadIdentity
              ? { issuerUrl: ISSUER, resourceGroupName: 'rg-team' }
              : { addonIdentityClientId: ADDON_CLIENT_ID }),
            objects: [{ objectName: `${store.name}-db`, objectType: KeyVaultObjectType.SECRET }],
            secretObjects: [
              {
                secretName: `${store.name}-db`,
                type: SecretType.OPAQUE,
                data: [{ objectName: `${store.name}-db`, key: 'password' }],
              },
            ],
            kubernetesProvider: provider,
          },
          { dependsOn: install ? [namespace, install] : [namespace] },
        ),
    );
    if (spec.deployment) {
      const wiring = combineSecretStoreWirings(stores.map((store) => store.wiring()));
      new Deployment(
        'app',
        {
          metadata: { name: 'app', namespace: namespace.metadata.name },
          spec: {
            selector: { matchLabels: { app: 'app' } },
            template: {
              metadata: { labels: { app: 'app', ...wiring.podLabels } },
              spec: {
                serviceAccountName: wiring.serviceAccountName,
                volumes: wiring.volumes,
                containers: [{ name: 'app', image: 'busybox', volumeMounts: wiring.volumeMounts }],
              },
            },
          },
        },
        { provider, dependsOn: stores, transformations: [skipAwait] },
      );
    }
    return { installMode: spec.mode ?? 'none' };
  };
}

/** The parts of a pod spec the tests read back from the apiserver. */
interface PodSpec {
  serviceAccountName: string;
  volumes: { name: string; csi: { volumeAttributes: Record<string, string> } }[];
  containers: { volumeMounts: { name: string; mountPath: string }[] }[];
}

/** The creates/updates/replaces/deletes of an `up`, without the unchanged ones. */
function changed(up: EngineUp): Record<string, number> {
  return Object.fromEntries(Object.entries(up.changes).filter(([op, n]) => op !== 'same' && (n ?? 0) > 0));
}

describe('Pulumi components in the real engine (rig apiserver)', () => {
  const missing = engineMissing();
  let api: KubeApi;
  let stack: EngineStack | undefined;
  let artifacts: string;
  const failed = new Set<string>();

  beforeAll(() => {
    if (!missing) api = KubeApi.forRig();
  });
  afterAll(() => api?.close());

  beforeEach(() => {
    const name = expect.getState().currentTestName ?? 'test';
    artifacts = path.join(ARTIFACTS, name.replace(/[^a-zA-Z0-9]+/g, '-').slice(0, 80));
    fs.rmSync(artifacts, { recursive: true, force: true });
  });
  afterEach(async () => {
    const name = expect.getState().currentTestName ?? 'test';
    // Output is kept only for failures (jest exposes no status here: a test marks success at its last line).
    if (!failed.has(name)) fs.rmSync(artifacts, { recursive: true, force: true });
    if (stack) {
      await stack.destroy('cleanup').catch(() => undefined);
      stack.dispose();
      stack = undefined;
    }
  });
  const passed = () => failed.delete(expect.getState().currentTestName ?? 'test');
  const start = async (first: PulumiFn, fakeAzure = false) => {
    failed.add(expect.getState().currentTestName ?? 'test');
    stack = await EngineStack.create({
      project: 'aks-secrets-store-lifecycle',
      stack: `s${randomBytes(3).toString('hex')}`,
      program: first,
      artifactsDir: artifacts,
      fakeAzure,
    });
    return stack;
  };
  const teamNamespace = () => `life-${randomBytes(4).toString('hex')}`;
  const spcUid = async (namespace: string, name: string) =>
    (
      await api.find<{ metadata: { uid: string } }>(
        `/apis/secrets-store.csi.x-k8s.io/v1/namespaces/${namespace}/secretproviderclasses/${name}`,
      )
    )?.metadata.uid;

  const get = <T = Record<string, unknown>>(p: string) => api.get<T>(p);
  const spcPath = (namespace: string, name: string) =>
    `/apis/secrets-store.csi.x-k8s.io/v1/namespaces/${namespace}/secretproviderclasses/${name}`;
  const serviceAccounts = async (namespace: string) =>
    (
      await get<{ items: { metadata: { name: string } }[] }>(
        `/api/v1/namespaces/${namespace}/serviceaccounts`,
      )
    ).items
      .map((sa) => sa.metadata.name)
      .filter((name) => name !== 'default')
      .sort();
  const notRunnable = () => !!missing && cannotRunHere(`the Pulumi engine is not built: ${missing}`);

  it('first up creates the store; a second up with no change is empty', async () => {
    if (notRunnable()) return;
    const namespace = teamNamespace();
    const s = await start(program({ namespace, stores: [{ name: 'orders' }] }));
    const first = await s.up('first');
    expect(Object.keys(changed(first))).toEqual(['create']);
    const spc = await get<{ spec: { parameters: Record<string, string> } }>(spcPath(namespace, 'orders'));
    expect(spc.spec.parameters).toMatchObject({
      keyvaultName: 'kv-life',
      userAssignedIdentityID: ADDON_CLIENT_ID,
    });
    expect(await serviceAccounts(namespace)).toEqual(['orders']);
    expect((await s.resources()).map((r) => r.type)).toEqual(
      expect.arrayContaining([
        'aks-secrets-store:index:SecretStore',
        'kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass',
        'kubernetes:core/v1:ServiceAccount',
      ]),
    );

    const second = await s.up('no-change');
    expect(changed(second)).toEqual({});
    const preview = await s.preview('no-change');
    expect(Object.entries(preview.changeSummary).filter(([op, n]) => op !== 'same' && n > 0)).toEqual([]);
    passed();
  });

  it('adds a second store to a workload: its own mount directory, one shared ServiceAccount (defect 2)', async () => {
    if (notRunnable()) return;
    const namespace = teamNamespace();
    const s = await start(program({ namespace, stores: [{ name: 'orders' }], deployment: true }));
    await s.up('one-store');
    const uid = await spcUid(namespace, 'orders');
    s.setProgram(
      program({
        namespace,
        stores: [
          { name: 'orders' },
          { name: 'billing', serviceAccountName: 'orders', createServiceAccount: false },
        ],
        deployment: true,
      }),
    );
    const up = await s.up('two-stores');
    expect(changed(up)).toEqual({ create: 2, update: 1 }); // the billing store and its SPC; the Deployment
    const deployment = await get<{ spec: { template: { spec: PodSpec } } }>(
      `/apis/apps/v1/namespaces/${namespace}/deployments/app`,
    );
    const pod = deployment.spec.template.spec;
    expect(pod.serviceAccountName).toBe('orders');
    expect(pod.containers[0].volumeMounts.map((m) => m.mountPath)).toEqual([
      '/mnt/secrets-store/orders',
      '/mnt/secrets-store/billing',
    ]);
    expect(
      pod.volumes.map((v: { csi: { volumeAttributes: Record<string, string> } }) => v.csi.volumeAttributes),
    ).toEqual([{ secretProviderClass: 'orders' }, { secretProviderClass: 'billing' }]);
    expect(await serviceAccounts(namespace)).toEqual(['orders']);
    expect(await spcUid(namespace, 'orders')).toBe(uid);
    passed();
  });

  it('switches a store between the add-on identity and workload identity as an update (defect 4)', async () => {
    if (notRunnable()) return;
    const namespace = teamNamespace();
    const s = await start(program({ namespace, stores: [{ name: 'orders' }] }), true);
    await s.up('addon-identity');
    const saPath = `/api/v1/namespaces/${namespace}/serviceaccounts/orders`;
    const saUid = (await get<{ metadata: { uid: string } }>(saPath)).metadata.uid;
    const spc = await spcUid(namespace, 'orders');
    const saUrns = async () =>
      (await s.resources()).filter((r) => r.type === 'kubernetes:core/v1:ServiceAccount').map((r) => r.urn);
    const urnsBefore = await saUrns();

    s.setProgram(program({ namespace, stores: [{ name: 'orders', workloadIdentity: true }] }));
    const toWorkloadIdentity = await s.up('to-workload-identity');
    expect(changed(toWorkloadIdentity).delete).toBeUndefined();
    expect(changed(toWorkloadIdentity).replace).toBeUndefined();
    const sa = await get<{ metadata: { uid: string; annotations?: Record<string, string> } }>(saPath);
    expect(sa.metadata.uid).toBe(saUid);
    const identity = Object.values(s.armState()).find(
      (r) => r.type === 'azure-native:managedidentity:UserAssignedIdentity',
    );
    expect(identity).toBeDefined();
    expect(sa.metadata.annotations?.['azure.workload.identity/client-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(await saUrns()).toEqual(urnsBefore);
    expect(await spcUid(namespace, 'orders')).toBe(spc);

    s.setProgram(program({ namespace, stores: [{ name: 'orders' }] }));
    await s.up('back-to-addon-identity');
    const back = await get<{ metadata: { uid: string; annotations?: Record<string, string> } }>(saPath);
    expect(back.metadata.uid).toBe(saUid);
    expect(back.metadata.annotations?.['azure.workload.identity/client-id']).toBeUndefined();
    expect(
      Object.values(s.armState()).filter((r) => r.type.startsWith('azure-native:managedidentity')),
    ).toEqual([]);
    passed();
  });

  describe('federated credentials across updates (defect 1)', () => {
    const issuers = [
      'https://oidc.rig.example/east/',
      'https://oidc.rig.example/west/',
      'https://oidc.rig.example/north/',
    ];
    const identity =
      (credentials: FederatedCredentialArgs[]): PulumiFn =>
      async () => {
        new WorkloadIdentity('orders', {
          resourceGroupName: 'rg-team',
          issuerUrl: issuers[0],
          namespace: 'orders',
          serviceAccountName: 'orders',
          createServiceAccount: false,
          federatedCredentials: credentials,
        });
      };
    /** The 0.1 naming, by position, as a stack deployed with that version holds it. */
    const positional =
      (credentials: string[]): PulumiFn =>
      async () => {
        const component = new pulumi.ComponentResource(componentType('WorkloadIdentity'), 'orders', {}, {});
        const uai = new managedidentity.UserAssignedIdentity(
          'orders',
          { resourceGroupName: 'rg-team' },
          { parent: component },
        );
        let previous: pulumi.Resource | undefined;
        credentials.forEach((issuer, i) => {
          previous = new managedidentity.FederatedIdentityCredential(
            `orders-fic-${i}`,
            {
              resourceGroupName: 'rg-team',
              resourceName: uai.name,
              issuer,
              subject: 'system:serviceaccount:orders:orders',
              audiences: ['api://AzureADTokenExchange'],
            },
            { parent: component, dependsOn: previous ? [previous] : [] },
          );
        });
      };
    const credentialNames = (s: EngineStack) =>
      Object.fromEntries(
        Object.values(s.armState())
          .filter((r) => r.type === 'azure-native:managedidentity:FederatedIdentityCredential')
          .map((r) => [r.props.issuer as string, r.props.federatedIdentityCredentialResourceName as string]),
      );

    it('removing and reordering credentials touches only the removed one', async () => {
      if (notRunnable()) return;
      const s = await start(identity(issuers.map((issuerUrl) => ({ issuerUrl }))), true);
      await s.up('three');
      const before = credentialNames(s);
      s.setProgram(identity([issuers[2], issuers[1]].map((issuerUrl) => ({ issuerUrl }))));
      const removed = await s.up('remove-first-and-reorder');
      expect(changed(removed)).toEqual({ delete: 1 });
      expect(credentialNames(s)).toEqual({
        [issuers[1]]: before[issuers[1]],
        [issuers[2]]: before[issuers[2]],
      });
      s.setProgram(identity([issuers[1], issuers[2]].map((issuerUrl) => ({ issuerUrl }))));
      expect(changed(await s.up('reorder-only'))).toEqual({});
      passed();
    });

    it('(the defect) positional names make the same removal rewrite a credential into a duplicate Azure refuses', async () => {
      if (notRunnable()) return;
      const s = await start(positional(issuers), true);
      await s.up('positional-three');
      s.setProgram(positional([issuers[1], issuers[2]]));
      const failure = await s.up('positional-remove-first').then(
        () => 'succeeded',
        (e: Error) => e.message,
      );
      expect(failure).toMatch(/a second credential with the same issuer and subject is not allowed/);
      passed();
    });

    it('a stack deployed with positional names keeps its credentials on the first up with keyed names', async () => {
      if (notRunnable()) return;
      const s = await start(positional(issuers), true);
      await s.up('positional');
      const before = credentialNames(s);
      s.setProgram(identity(issuers.map((issuerUrl) => ({ issuerUrl }))));
      const upgraded = await s.up('keyed');
      expect(changed(upgraded).create).toBeUndefined();
      expect(changed(upgraded).delete).toBeUndefined();
      expect(changed(upgraded).replace).toBeUndefined();
      expect(credentialNames(s)).toEqual(before);
      passed();
    });
  });

  it('migrates self-hosted → switching → add-on with every CRD and SecretProviderClass kept; destroy keeps the CRDs', async () => {
    if (notRunnable()) return;
    const namespace = teamNamespace();
    const stores = [{ name: 'orders' }, { name: 'billing' }];
    const s = await start(program({ namespace, mode: SecretsStoreInstallMode.SELF_HOSTED, stores }));
    const kept = async (step: string) => {
      for (const crd of CRDS) {
        expect({
          step,
          crd,
          found: !!(await api.find(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`)),
        }).toEqual({ step, crd, found: true });
      }
      return Promise.all(stores.map((store) => spcUid(namespace, store.name)));
    };
    const csiDriver = () => api.find('/apis/storage.k8s.io/v1/csidrivers/secrets-store.csi.k8s.io');

    await s.up('self-hosted');
    const uids = await kept('self-hosted');
    expect(uids.every((uid) => uid !== undefined)).toBe(true);
    expect(await csiDriver()).toBeDefined();

    s.setProgram(program({ namespace, mode: SecretsStoreInstallMode.SWITCHING, stores }));
    const switching = await s.up('switching');
    expect(changed(switching).create).toBeUndefined();
    expect(await kept('switching')).toEqual(uids);
    expect(await csiDriver()).toBeUndefined();

    s.setProgram(program({ namespace, mode: SecretsStoreInstallMode.ADDON, stores }));
    const addon = await s.up('addon');
    expect(changed(addon)).toEqual({}); // nothing of the install is left to change; AKS enables the add-on
    expect(await kept('addon')).toEqual(uids);

    const destroyed = await s.destroy('destroy');
    expect(destroyed.delete).toBeGreaterThan(0);
    for (const crd of CRDS) {
      expect(await api.find(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`)).toBeDefined();
    }
    expect(await spcUid(namespace, 'orders')).toBeUndefined();
    passed();
  });
});
