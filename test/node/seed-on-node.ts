// The seed on a real node, end to end: the install's DaemonSets run on the kubelet, the seed's pod and
// SecretProviderClass (from the seed document) mount Key Vault objects from the fake Key Vault, and every
// scenario of issue 11 is checked from inside the container, on the apiserver and on the node. One function
// per scenario, run for our driver + provider and for upstream's (seed-ours / seed-upstream test files), so
// each scenario has its baseline in the same rig.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FakeAzure } from '../../harness/fakes/fake-azure';
import { KubeApi } from '../../harness/rig/kube-api';
import { containerEnvironment, containerMounts, readInContainer } from '../../harness/rig/node/containers';
import { startNodeAzure } from '../../harness/rig/node/node-azure';
import { nodeEnvironment, NodeEnvironment } from '../../harness/rig/node/node-env';
import {
  installLogsTail,
  installOnNode,
  installPods,
  NodeFlavor,
  nodeInstall,
  uninstallFromNode,
  waitForInstallReady,
} from '../../harness/rig/node/node-install';
import { lockNodeInstall } from '../../harness/rig/node/node-lock';
import { waitUntil } from '../../harness/rig/processes';
import { SECRETS_STORE_API_GROUP } from '../../lib/core/install';
import type { KubeObject } from '../../lib/core/kube-object';
import { seedPod, seedSecretProviderClass } from './seed-manifests';

export const TENANT_ID = '6b1a7d3e-0c5f-4a3e-9b1d-2f3e4a5b6c7d';
export const CLIENT_ID = '3f2e1d0c-5b4a-4f3e-8d2c-1b0a9f8e7d6c';
export const VAULT = 'seedkv';
const ROTATION_POLL_INTERVAL = '5s';

interface Pod {
  readonly metadata: { readonly name: string; readonly namespace: string; readonly uid: string };
  readonly spec: { readonly nodeName?: string };
  readonly status?: {
    readonly phase?: string;
    readonly containerStatuses?: readonly {
      name: string;
      containerID?: string;
      ready: boolean;
      state?: { waiting?: { reason?: string } };
    }[];
  };
}

interface EventList {
  readonly items: readonly {
    reason: string;
    message: string;
    type: string;
    involvedObject: { name: string };
  }[];
}

/** The seed's SPC as the seed says to complete it: its fields unchanged, plus vault, tenant and identity. */
export function completedSeedSpc(namespace: string, parameters: Record<string, string> = {}): KubeObject {
  const seed = seedSecretProviderClass();
  const spec = seed.spec as Record<string, unknown>;
  return {
    ...seed,
    metadata: { ...seed.metadata, namespace },
    spec: {
      ...spec,
      parameters: {
        keyvaultName: VAULT,
        tenantId: TENANT_ID,
        // Workload identity (the seed leaves the identity to the reader): the kubelet's token for the pod's
        // service account, exchanged at the (fake) Entra ID.
        clientID: CLIENT_ID,
        objects: 'array:\n  - |\n    objectName: foo1\n    objectType: secret\n',
        ...parameters,
      },
    },
  };
}

/** Shared state of one flavor's run: the node, the install, the fake Azure, a namespace. */
export interface SeedWorld {
  readonly env: NodeEnvironment;
  readonly api: KubeApi;
  readonly install: KubeObject[];
  readonly azure: FakeAzure;
  readonly namespace: string;
  readonly flavor: NodeFlavor;
}

const podPath = (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/pods/${name}`;

/**
 * Bounds of the waits: generous, because on the shared 2 cores (load 20 while the whole suite runs) a
 * controller that failed early backs off for minutes (upstream's secret sync once took over 120 s).
 */
const POD_RUNNING_TIMEOUT_MS = 240_000;
const ROTATION_TIMEOUT_MS = 180_000;

export async function waitForPodRunning(
  world: SeedWorld,
  name: string,
  timeoutMs = POD_RUNNING_TIMEOUT_MS,
): Promise<Pod> {
  let pod: Pod | undefined;
  await waitUntil(
    async () => {
      pod = await world.api.get<Pod>(podPath(world.namespace, name));
      return pod.status?.phase === 'Running' && !!pod.status.containerStatuses?.every((c) => c.ready);
    },
    { what: `pod ${world.namespace}/${name} Running`, timeoutMs, intervalMs: 500 },
  ).catch(async (error: Error) => {
    throw new Error(
      `${error.message}\npod status: ${JSON.stringify(pod?.status)}\n${await podEvents(world, name)}\n` +
        installLogsTail(world.env.node),
    );
  });
  return pod!;
}

async function podEvents(world: SeedWorld, name: string): Promise<string> {
  const events = await world.api.get<EventList>(
    `/api/v1/namespaces/${world.namespace}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name}`)}`,
  );
  return events.items.map((e) => `${e.type} ${e.reason}: ${e.message}`).join('\n');
}

/** Starts the world for one flavor: lock, fake Azure, namespace, install on the node. */
export function useSeedWorld(flavor: NodeFlavor): { world: () => SeedWorld | undefined } {
  let world: SeedWorld | undefined;
  let release: (() => void) | undefined;
  beforeAll(async () => {
    const env = nodeEnvironment();
    if (!env) return;
    release = await lockNodeInstall(env.node.dir);
    const api = KubeApi.forEndpoints(env.cluster);
    const namespace = `seed-${flavor}-${randomBytes(3).toString('hex')}`;
    await api.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    });
    const azure = await startNodeAzure(env.node, { tenantId: TENANT_ID, vaultNames: [VAULT] });
    // As Entra ID does: the assertion must be signed by the cluster's service-account issuer.
    azure.entra.addFederatedClient({
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      subject: `system:serviceaccount:${namespace}:default`,
      issuer: {
        url: env.cluster.serviceAccountIssuer,
        publicKeyPem: fs.readFileSync(path.join(env.cluster.stateDir, 'sa.pub'), 'utf8'),
      },
    });
    azure.vault.setSecret(VAULT, 'foo1', 'seed-user-v1');
    const install = nodeInstall(flavor, env.node, { rotationPollInterval: ROTATION_POLL_INTERVAL });
    world = { env, api, install, azure, namespace, flavor };
    await installOnNode(api, install, env.node);
  }, 300_000);
  afterAll(async () => {
    try {
      if (world) {
        await world.api.delete(`/api/v1/namespaces/${world.namespace}`);
        await uninstallFromNode(world.api, world.install, world.env.node);
        await world.azure.dispose();
        world.api.close();
      }
    } finally {
      release?.();
    }
  }, 300_000);
  return { world: () => world };
}

/** Scenario 1: the seed's pod Running, /mnt/secrets-store/foo1 inside it, SECRET_USERNAME from foosecret. */
export async function seedPodRuns(world: SeedWorld): Promise<void> {
  await world.api.apply(completedSeedSpc(world.namespace));
  const manifest = seedPod();
  await world.api.create(`/api/v1/namespaces/${world.namespace}/pods`, {
    ...manifest,
    metadata: { ...manifest.metadata, namespace: world.namespace },
  });
  const pod = await waitForPodRunning(world, 'busybox-secrets-store-inline');
  const node = world.env.node;
  expect(pod.spec.nodeName).toBe(node.nodeName);
  expect(readInContainer(node, pod, 'busybox', '/mnt/secrets-store/foo1')).toBe('seed-user-v1');
  expect(containerEnvironment(node, pod, 'busybox').SECRET_USERNAME).toBe('seed-user-v1');
  const secret = await world.api.get<{ data: Record<string, string> }>(
    `/api/v1/namespaces/${world.namespace}/secrets/foosecret`,
  );
  expect(Buffer.from(secret.data.username, 'base64').toString()).toBe('seed-user-v1');
  // The mount is a tmpfs of the driver, read-only inside the container.
  expect(containerMounts(node, pod, 'busybox')).toMatch(/ \/mnt\/secrets-store tmpfs ro[, ]/);
}

const SEED_POD = 'busybox-secrets-store-inline';
const SEED_VOLUME = 'secrets-store01-inline';

async function syncedUsername(world: SeedWorld): Promise<string | undefined> {
  const secret = await world.api.find<{ data: Record<string, string> }>(
    `/api/v1/namespaces/${world.namespace}/secrets/foosecret`,
  );
  return secret ? Buffer.from(secret.data.username, 'base64').toString() : undefined;
}

/** Waits until the container's file has `value` (kubelet republish + the driver's rotation interval). */
async function waitForFileInContainer(world: SeedWorld, podName: string, value: string): Promise<void> {
  let seen: string | undefined;
  await waitUntil(
    async () => {
      const pod = await world.api.get<Pod>(podPath(world.namespace, podName));
      seen = readInContainer(world.env.node, pod, 'busybox', '/mnt/secrets-store/foo1');
      return seen === value;
    },
    {
      what: `${podName} sees ${value} in /mnt/secrets-store/foo1`,
      timeoutMs: ROTATION_TIMEOUT_MS,
      intervalMs: 1000,
    },
  ).catch((error: Error) => {
    throw new Error(`${error.message} (last seen: ${seen})\n${installLogsTail(world.env.node)}`);
  });
}

/**
 * Workload identity: the provider presented the kubelet's own TokenRequest token (signed by the cluster's
 * service-account key, bound to the seed pod) to Entra ID, which issued the Key Vault token.
 */
export function workloadIdentityTokenReachedEntra(world: SeedWorld): void {
  const claims = world.azure.entra
    .verifiedAssertionClaims()
    .filter((c) => c.sub === `system:serviceaccount:${world.namespace}:default`);
  expect(claims.length).toBeGreaterThan(0);
  const last = claims[claims.length - 1] as {
    iss: string;
    aud: string[];
    'kubernetes.io'?: { namespace?: string; pod?: { name?: string } };
  };
  expect(last.iss).toBe(world.env.cluster.serviceAccountIssuer);
  expect(last.aud).toEqual(['api://AzureADTokenExchange']);
  expect(last['kubernetes.io']?.namespace).toBe(world.namespace);
  expect(last['kubernetes.io']?.pod?.name).toBe(SEED_POD);
  expect(world.azure.entra.stats().tokenRequestsByClient[CLIENT_ID]).toBeGreaterThan(0);
}

/** Rotation: a new version in Key Vault shows inside the running container, then in the synced Secret. */
export async function rotationReachesContainer(world: SeedWorld): Promise<void> {
  world.azure.vault.setSecret(VAULT, 'foo1', 'seed-user-v2');
  await waitForFileInContainer(world, SEED_POD, 'seed-user-v2');
  await waitUntil(async () => (await syncedUsername(world)) === 'seed-user-v2', {
    what: 'the synced Secret foosecret follows the rotation',
    timeoutMs: ROTATION_TIMEOUT_MS,
    intervalMs: 1000,
  });
  // As the seed says: an environment variable keeps its value until the pod restarts.
  const pod = await world.api.get<Pod>(podPath(world.namespace, SEED_POD));
  expect(containerEnvironment(world.env.node, pod, 'busybox').SECRET_USERNAME).toBe('seed-user-v1');
}

/** The driver's pod is deleted while the seed's pod runs: the mount keeps its content, rotation resumes. */
export async function driverRestartKeepsMounts(world: SeedWorld): Promise<void> {
  const driverPods = async () =>
    (await installPods(world.api, world.install, world.env.node))
      .filter((p) => p.metadata.name.startsWith('csi-secrets-store-'))
      .filter((p) => !p.metadata.name.startsWith('csi-secrets-store-provider-'));
  const [before] = await driverPods();
  expect(before).toBeDefined();
  await world.api.delete(`/api/v1/namespaces/${before.metadata.namespace}/pods/${before.metadata.name}`);
  const consumer = await world.api.get<Pod>(podPath(world.namespace, SEED_POD));
  expect(readInContainer(world.env.node, consumer, 'busybox', '/mnt/secrets-store/foo1')).toBe(
    'seed-user-v2',
  );
  await waitUntil(async () => (await driverPods()).some((p) => p.metadata.name !== before.metadata.name), {
    what: 'the DaemonSet replaces the driver pod',
    timeoutMs: 120_000,
    intervalMs: 1000,
  });
  await waitForInstallReady(world.api, world.install, world.env.node);
  expect(readInContainer(world.env.node, consumer, 'busybox', '/mnt/secrets-store/foo1')).toBe(
    'seed-user-v2',
  );
  world.azure.vault.setSecret(VAULT, 'foo1', 'seed-user-v3');
  await waitForFileInContainer(world, SEED_POD, 'seed-user-v3');
}

function mountedAt(target: string): boolean {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === target);
}

async function deletePodAndWait(world: SeedWorld, name: string): Promise<void> {
  await world.api.request('DELETE', podPath(world.namespace, name), { query: { gracePeriodSeconds: '1' } });
  await waitUntil(async () => !(await world.api.find(podPath(world.namespace, name))), {
    what: `pod ${name} deleted`,
    timeoutMs: 120_000,
    intervalMs: 500,
  });
}

/**
 * Pod deletion with a second consumer of the same SPC: NodeUnpublish removes each pod's tmpfs and SPCPS; the
 * synced Secret stays while a consumer is left and is garbage-collected when the last one goes.
 */
export async function podDeletionCleansUp(world: SeedWorld): Promise<void> {
  const second = seedPodVariant(world, 'busybox-second-consumer', 'azure-sync');
  await world.api.create(`/api/v1/namespaces/${world.namespace}/pods`, second);
  const secondPod = await waitForPodRunning(world, 'busybox-second-consumer');
  expect(readInContainer(world.env.node, secondPod, 'busybox', '/mnt/secrets-store/foo1')).toBe(
    'seed-user-v3',
  );

  const spcpsName = (pod: string) => `${pod}-${world.namespace}-azure-sync`;
  const spcps = (pod: string) =>
    `/apis/${SECRETS_STORE_API_GROUP}/v1/namespaces/${world.namespace}/secretproviderclasspodstatuses/${spcpsName(pod)}`;
  // Both drivers record a consumer as an owner of the synced Secret in a controller loop after the mount
  // (upstream's SPCPS reconciler runs on its own queue): only once the second owner is recorded does the
  // Secret outlive the first consumer, so that is the precondition, not the pod being Running.
  const owners = [spcpsName(SEED_POD), spcpsName('busybox-second-consumer')];
  await waitUntil(
    async () => {
      const secret = await world.api.find<{ metadata: { ownerReferences?: { name: string }[] } }>(
        `/api/v1/namespaces/${world.namespace}/secrets/foosecret`,
      );
      const recorded = (secret?.metadata.ownerReferences ?? []).map((owner) => owner.name);
      if (owners.every((owner) => recorded.includes(owner))) return true;
      throw new Error(`foosecret's owners: ${recorded.join(', ') || 'none'}`);
    },
    { what: `foosecret owned by ${owners.join(' and ')}`, timeoutMs: 60_000, intervalMs: 500 },
  );
  for (const [name, lastConsumer] of [
    [SEED_POD, false],
    ['busybox-second-consumer', true],
  ] as const) {
    const pod = await world.api.get<Pod>(podPath(world.namespace, name));
    const target = path.join(
      world.env.node.kubeletRootDir,
      'pods',
      pod.metadata.uid,
      'volumes',
      'kubernetes.io~csi',
      SEED_VOLUME,
      'mount',
    );
    expect(mountedAt(target)).toBe(true);
    expect(await world.api.find(spcps(name))).toBeDefined();
    await deletePodAndWait(world, name);
    await waitUntil(async () => !mountedAt(target) && !(await world.api.find(spcps(name))), {
      what: `NodeUnpublish of ${name}: tmpfs unmounted, SPCPS deleted`,
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    if (!lastConsumer) expect(await syncedUsername(world)).toBe('seed-user-v3');
  }
  await waitUntil(async () => (await syncedUsername(world)) === undefined, {
    what: 'the synced Secret foosecret garbage-collected after its last consumer',
    timeoutMs: 60_000,
    intervalMs: 500,
  });
}

interface SeedPodSpec {
  containers: { env?: unknown }[];
  volumes: { csi: { volumeAttributes: Record<string, string> } }[];
}

/** The seed's pod under another name, mounting `spc`, without the env var (it needs the synced Secret). */
function seedPodVariant(world: SeedWorld, name: string, spc: string): KubeObject {
  const manifest = seedPod();
  const spec = structuredClone(manifest.spec) as unknown as SeedPodSpec;
  spec.containers[0].env = undefined;
  spec.volumes[0].csi.volumeAttributes.secretProviderClass = spc;
  return { ...manifest, metadata: { name, namespace: world.namespace }, spec } as KubeObject;
}

/** A broken SPC, the fragments its FailedMount Event must name, and what must never appear in it. */
export interface BrokenCase {
  readonly name: string;
  readonly parameters: Record<string, string>;
  readonly mustMention: readonly RegExp[];
}

export const BROKEN_CASES: readonly BrokenCase[] = [
  {
    name: 'missing-object',
    parameters: { objects: 'array:\n  - |\n    objectName: nope\n    objectType: secret\n' },
    mustMention: [/nope/, /SecretNotFound|not found/i],
  },
  { name: 'wrong-vault', parameters: { keyvaultName: 'nosuchkv' }, mustMention: [/nosuchkv/] },
  {
    name: 'bad-identity',
    parameters: { clientID: '00000000-0000-4000-8000-00000000dead' },
    mustMention: [/00000000-0000-4000-8000-00000000dead/, /AADSTS/],
  },
];

/** The FailedMount messages of one broken case's pod, once one names what to fix. */
export async function brokenSpcStaysContainerCreating(world: SeedWorld, broken: BrokenCase): Promise<string> {
  const spc = completedSeedSpc(world.namespace, broken.parameters);
  await world.api.apply({ ...spc, metadata: { name: broken.name, namespace: world.namespace } });
  const pod = seedPodVariant(world, `broken-${broken.name}`, broken.name);
  await world.api.create(`/api/v1/namespaces/${world.namespace}/pods`, pod);
  let messages: string[] = [];
  await waitUntil(
    async () => {
      const events = await world.api.get<EventList>(
        `/api/v1/namespaces/${world.namespace}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=broken-${broken.name}`)}`,
      );
      messages = events.items.filter((e) => e.reason === 'FailedMount').map((e) => e.message);
      return messages.some((m) => broken.mustMention.every((fragment) => fragment.test(m)));
    },
    {
      what: `a FailedMount Event on broken-${broken.name} naming ${broken.mustMention.join(' and ')}`,
      timeoutMs: 120_000,
      intervalMs: 1000,
    },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\nFailedMount messages:\n${messages.join('\n')}`);
  });
  // The kubelet reports the container's waiting state with its next status update.
  let status: Pod['status'];
  await waitUntil(
    async () => {
      status = (await world.api.get<Pod>(podPath(world.namespace, `broken-${broken.name}`))).status;
      return !!status?.containerStatuses?.[0]?.state?.waiting?.reason;
    },
    { what: `the kubelet's status of broken-${broken.name}`, timeoutMs: 60_000, intervalMs: 500 },
  );
  expect(status?.phase).toBe('Pending');
  expect(status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ContainerCreating');
  const message = messages.find((m) => broken.mustMention.every((fragment) => fragment.test(m)))!;
  // Never a secret value or a token in an Event.
  expect(message).not.toMatch(/seed-user-v|eyJ[A-Za-z0-9_-]{10,}/);
  return message;
}
