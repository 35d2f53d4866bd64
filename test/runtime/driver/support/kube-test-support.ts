// Shared setup of the driver's rig tests that use runtime/driver/cluster/kube: a client from the rig's
// kubeconfig, the secrets-store CRDs (B's definitions) applied, a fresh namespace, and bounded polling.
import { secretProviderClassCrd, secretProviderClassPodStatusCrd } from '../../../../lib/core/install/crds';
import {
  isAlreadyExists,
  KubeClient,
  KubeResource,
  loadKubeConfig,
  NAMESPACES,
} from '../../../../runtime/driver/cluster/kube';
import {
  CSI_DRIVERS,
  PODS,
  SECRET_PROVIDER_CLASS_POD_STATUSES,
  SECRET_PROVIDER_CLASSES,
} from '../../../../runtime/driver/cluster/kube/kube-resources';
import {
  KubeResourceObject,
  Pod,
  SecretProviderClassPodStatus,
} from '../../../../runtime/driver/cluster/kube/kube-types';
import { waitUntil } from '../../../../harness/rig/processes';
import { rig } from '../../../../harness/rig/rig-env';

export const CRDS: KubeResource = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
};
export const CONFIG_MAPS: KubeResource = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
};
export const SERVICE_ACCOUNTS: KubeResource = {
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  namespaced: true,
};

/** A token of the ServiceAccount `namespace/name` from the TokenRequest API (created if missing). */
export async function serviceAccountToken(
  kube: KubeClient,
  namespace: string,
  name: string,
): Promise<string> {
  await kube.create(SERVICE_ACCOUNTS, { metadata: { name, namespace } }).catch((err) => {
    if (!isAlreadyExists(err)) throw err;
  });
  const answer = await kube.request<{ status: { token: string } }>({
    verb: 'POST',
    path: `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
  });
  return answer.status.token;
}

/** A client on the rig's admin kubeconfig (the same loader the driver uses with KUBECONFIG). */
export function rigKubeClient(): KubeClient {
  return new KubeClient(loadKubeConfig({ env: { KUBECONFIG: rig().kubeconfig } }));
}

/** Polls `check` until it returns a value (not undefined/false), at most `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let attempt = 0; attempt < 10_000; attempt++) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
  );
}

/**
 * The SecretProviderClassPodStatus `namespace/name` once it exists and `done` holds. The driver writes
 * it after answering NodePublishVolume, so a test waits for it (bounded, the harness's waitUntil).
 */
export async function writtenPodStatus(
  kube: KubeClient,
  namespace: string,
  name: string,
  done: (podStatus: SecretProviderClassPodStatus) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<SecretProviderClassPodStatus> {
  let found: SecretProviderClassPodStatus | undefined;
  await waitUntil(
    async () => {
      found = await kube.get<SecretProviderClassPodStatus>(
        SECRET_PROVIDER_CLASS_POD_STATUSES,
        name,
        namespace,
      );
      return done(found);
    },
    {
      what: `secretproviderclasspodstatus ${namespace}/${name} written by the driver`,
      timeoutMs,
      intervalMs: 25,
    },
  );
  return found!;
}

/** Applies the SecretProviderClass and SecretProviderClassPodStatus CRDs and waits until both are served. */
export async function ensureSecretsStoreCrds(kube: KubeClient): Promise<void> {
  for (const crd of [secretProviderClassCrd(), secretProviderClassPodStatusCrd()]) {
    await kube.patch(CRDS, crd.metadata.name, crd, { type: 'apply', fieldManager: 'rig-test', force: true });
  }
  for (const crd of [secretProviderClassCrd(), secretProviderClassPodStatusCrd()]) {
    await eventually(`CRD ${crd.metadata.name} established`, async () => {
      const got = await kube.get<
        KubeResourceObject & { status?: { conditions?: Array<{ type: string; status: string }> } }
      >(CRDS, crd.metadata.name);
      return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
  }
}

/** Creates a namespace with a unique name and waits for its default ServiceAccount (pods need it). */
export async function freshNamespace(
  kube: KubeClient,
  prefix: string,
  waitForServiceAccount = false,
): Promise<string> {
  const name = `${prefix}-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  await kube.create(NAMESPACES, { metadata: { name } });
  if (waitForServiceAccount) {
    await eventually(
      `default ServiceAccount in ${name}`,
      async () => !!(await kube.get(SERVICE_ACCOUNTS, 'default', name)),
    );
  }
  return name;
}

/**
 * Compacts etcd's history up to its current revision (what the API server does every 5 minutes), so a
 * watch from an older resourceVersion is answered with 410 Gone, as in a long-running cluster.
 */
export async function compactEtcd(): Promise<void> {
  const etcdUrl = rig().etcdUrl;
  const range = await fetch(`${etcdUrl}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from('/').toString('base64') }),
  });
  const revision = ((await range.json()) as { header: { revision: string } }).header.revision;
  const compaction = await fetch(`${etcdUrl}/v3/kv/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision, physical: true }),
  });
  if (!compaction.ok)
    throw new Error(
      `etcd compaction at revision ${revision} failed: ${compaction.status} ${await compaction.text()}`,
    );
}

/** A CSIDriver object of a test's own (cluster-scoped, so each test names its own), as the install renders it. */
export async function createTestCsiDriver(
  kube: KubeClient,
  name: string,
  tokens: { audiences?: readonly string[]; inSecrets?: boolean } = {},
): Promise<void> {
  const audiences = tokens.audiences ?? ['api://AzureADTokenExchange'];
  await kube.create(CSI_DRIVERS, {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'CSIDriver',
    metadata: { name },
    spec: {
      attachRequired: false,
      podInfoOnMount: true,
      volumeLifecycleModes: ['Ephemeral'],
      ...(audiences.length > 0 ? { tokenRequests: audiences.map((audience) => ({ audience })) } : {}),
      ...(tokens.inSecrets ? { serviceAccountTokenInSecrets: true } : {}),
    },
  });
}

/** Creates a SecretProviderClass (v1) in `namespace` on the real apiserver. */
export async function createSecretProviderClass(
  kube: KubeClient,
  namespace: string,
  name: string,
  spec: { provider: string; parameters: Record<string, string>; secretObjects?: unknown[] },
): Promise<void> {
  await kube.create(
    SECRET_PROVIDER_CLASSES,
    {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name, namespace },
      spec,
    },
    namespace,
  );
}

/**
 * Creates an unscheduled pod (no nodeName: the rig runs no kubelet, and a scheduled pod's deletion would
 * wait for one) with one Secrets Store CSI volume on `spc` per name in `volumeNames`. With `nodeName`, the
 * pod is bound to that node, so a driver's node pod cache sees it: delete it with gracePeriodSeconds 0.
 */
export async function createPodWithSecretsStoreVolumes(
  kube: KubeClient,
  namespace: string,
  name: string,
  spc: string,
  volumeNames: readonly string[] = ['secrets-store'],
  options: { readonly driver?: string; readonly nodeName?: string } = {},
): Promise<Pod> {
  const { driver = 'secrets-store.csi.k8s.io', nodeName } = options;
  return kube.create<Pod>(
    PODS,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace },
      spec: {
        ...(nodeName === undefined ? {} : { nodeName }),
        containers: [
          {
            name: 'app',
            image: 'registry.k8s.io/pause:3.10',
            volumeMounts: volumeNames.map((volume) => ({
              name: volume,
              mountPath: `/mnt/${volume}`,
              readOnly: true,
            })),
          },
        ],
        volumes: volumeNames.map((volume) => ({
          name: volume,
          csi: {
            driver,
            readOnly: true,
            volumeAttributes: { secretProviderClass: spc },
          },
        })),
      },
    },
    namespace,
  );
}
