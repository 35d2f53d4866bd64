// runtime/driver/cluster/kube against the real kube-apiserver: config loading (kubeconfig with client cert,
// token file with rotation, in-cluster), typed verbs and their error reasons, watch with 410 handling,
// the watch cache of SecretProviderClasses, and Events.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  EventRecorder,
  EVENTS,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isNotFound,
  KubeApiError,
  KubeClient,
  KubeEvent,
  KubeResourceObject,
  loadInClusterConfig,
  loadKubeConfig,
  NAMESPACES,
  SECRET_PROVIDER_CLASSES,
  SecretProviderClass,
  WatchCache,
  WatchEvent,
} from '../../../../../runtime/driver/cluster/kube';
import { rig } from '../../../../../harness/rig/rig-env';
import {
  compactEtcd,
  CONFIG_MAPS,
  ensureSecretsStoreCrds,
  eventually,
  freshNamespace,
  rigKubeClient,
  serviceAccountToken as tokenOf,
} from '../../support/kube-test-support';

jest.setTimeout(120_000);

let kube: KubeClient;
let namespace: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-client-'));

beforeAll(async () => {
  kube = rigKubeClient();
  await ensureSecretsStoreCrds(kube);
  namespace = await freshNamespace(kube, 'kube-client');
});

afterAll(async () => {
  await kube.delete(NAMESPACES, namespace).catch(() => undefined);
  kube.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function spc(name: string, ns: string, provider = 'azure'): SecretProviderClass {
  return {
    apiVersion: 'secrets-store.csi.x-k8s.io/v1',
    kind: 'SecretProviderClass',
    metadata: { name, namespace: ns },
    spec: { provider, parameters: { keyvaultName: 'kv' } },
  };
}

/** A service-account token of this file's namespace (what a projected token file holds). */
const serviceAccountToken = (name: string) => tokenOf(kube, namespace, name);

describe('config', () => {
  it('reads the kubeconfig of KUBECONFIG: server and client certificate of the current context', async () => {
    const config = loadKubeConfig({ env: { KUBECONFIG: rig().kubeconfig } });
    expect(config.server).toBe(rig().apiserverUrl);
    expect(config.clientCert).toBeDefined();
    const ns = await kube.get(NAMESPACES, namespace);
    expect(ns.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('checks the API server against the kubeconfig CA only (one TLS context per client), and a key Node refuses fails each request, not the constructor', async () => {
    const config = loadKubeConfig({ env: { KUBECONFIG: rig().kubeconfig } });
    const good = new KubeClient(config);
    for (let i = 0; i < 3; i++) expect((await good.get(NAMESPACES, namespace)).metadata.name).toBe(namespace);
    good.close();
    // The client certificate as CA did not sign the API server's certificate; no CA = Node's roots.
    for (const ca of [config.clientCert, undefined]) {
      const untrusted = new KubeClient({ ...config, ca });
      const refused = await untrusted.get(NAMESPACES, namespace).catch((e: unknown) => e);
      expect(refused).toMatchObject({ statusCode: 0, reason: 'TransportError' });
      expect((refused as Error).message).toMatch(/certificate/i);
      untrusted.close();
    }
    const badKey = new KubeClient({ ...config, clientKey: Buffer.from('not a PEM key') });
    const failed = await badKey.get(NAMESPACES, namespace).catch((e: unknown) => e);
    expect((failed as Error).message).toMatch(/DECODER|PEM|key/i); // OpenSSL's words, as before
    badKey.close();
  });

  it('uses a token file and re-reads it after a 401 (projected token rotated)', async () => {
    const tokenFile = path.join(tmp, 'token');
    fs.writeFileSync(tokenFile, 'not-a-valid-token');
    const client = new KubeClient({
      ...loadKubeConfig({ env: { KUBECONFIG: rig().kubeconfig } }),
      clientCert: undefined,
      clientKey: undefined,
      tokenFile,
    });
    try {
      const unauthorized = await client.get(NAMESPACES, namespace).catch((err: unknown) => err);
      expect(unauthorized).toBeInstanceOf(KubeApiError);
      expect((unauthorized as KubeApiError).statusCode).toBe(401);
      fs.writeFileSync(tokenFile, await serviceAccountToken('reader'));
      // The service account may not read namespaces: 403 proves the new token was read and accepted.
      const forbidden = await client.get(NAMESPACES, namespace).catch((err: unknown) => err);
      expect(isForbidden(forbidden)).toBe(true);
      expect((forbidden as Error).message).toContain(`system:serviceaccount:${namespace}:reader`);
      expect((forbidden as Error).message).not.toContain(fs.readFileSync(tokenFile, 'utf8'));
    } finally {
      client.close();
    }
  });

  it('builds the in-cluster config from KUBERNETES_SERVICE_HOST/PORT and the service-account files', async () => {
    const saDir = path.join(tmp, 'serviceaccount');
    fs.mkdirSync(saDir, { recursive: true });
    fs.copyFileSync(rig().caFile, path.join(saDir, 'ca.crt'));
    fs.writeFileSync(path.join(saDir, 'token'), await serviceAccountToken('incluster'));
    fs.writeFileSync(path.join(saDir, 'namespace'), namespace);
    const url = new URL(rig().apiserverUrl);
    const config = loadInClusterConfig(
      { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port },
      saDir,
    );
    expect(config.namespace).toBe(namespace);
    const client = new KubeClient(config);
    try {
      const forbidden = await client.list(CONFIG_MAPS, { namespace }).catch((err: unknown) => err);
      expect((forbidden as KubeApiError).statusCode).toBe(403);
      expect((forbidden as Error).message).toContain(`system:serviceaccount:${namespace}:incluster`);
    } finally {
      client.close();
    }
  });

  it('says what to do when neither KUBECONFIG nor the in-cluster environment is there', () => {
    expect(() => loadKubeConfig({ env: {} })).toThrow(
      /neither KUBECONFIG nor KUBERNETES_SERVICE_HOST.*set KUBECONFIG/,
    );
  });
});

describe('verbs', () => {
  it('create, get, list by label, update with optimistic lock, merge and apply patch, delete; errors carry code and reason', async () => {
    const created = await kube.create<KubeResourceObject>(CONFIG_MAPS, {
      metadata: { name: 'cm', namespace, labels: { app: 'a' } },
      data: { k: 'v1' },
    });
    expect(created.metadata.resourceVersion).toBeTruthy();

    const duplicate = await kube
      .create(CONFIG_MAPS, { metadata: { name: 'cm', namespace } })
      .catch((e: unknown) => e);
    expect(isAlreadyExists(duplicate)).toBe(true);
    expect(duplicate).toMatchObject({ statusCode: 409, reason: 'AlreadyExists' });

    const updated = await kube.update(CONFIG_MAPS, { ...created, data: { k: 'v2' } });
    const stale = await kube.update(CONFIG_MAPS, { ...created, data: { k: 'v3' } }).catch((e: unknown) => e);
    expect(isConflict(stale)).toBe(true);
    expect(stale).toMatchObject({ statusCode: 409, reason: 'Conflict' });

    const merged = await kube.patch<KubeResourceObject & { data: Record<string, string> }>(
      CONFIG_MAPS,
      'cm',
      { data: { m: 'x' } },
      { namespace },
    );
    expect(merged.data).toEqual({ k: 'v2', m: 'x' });
    expect(Number(merged.metadata.resourceVersion)).toBeGreaterThan(Number(updated.metadata.resourceVersion));

    const applied = await kube.patch<KubeResourceObject & { data: Record<string, string> }>(
      CONFIG_MAPS,
      'applied',
      { metadata: { name: 'applied', namespace, labels: { app: 'a' } }, data: { a: '1' } },
      { namespace, type: 'apply', fieldManager: 'kube-client-test' },
    );
    expect(applied.metadata).toMatchObject({ name: 'applied', labels: { app: 'a' } });

    const listed = await kube.list(CONFIG_MAPS, { namespace, labelSelector: 'app=a', limit: 1 });
    expect(listed.items.map((i) => i.metadata.name).sort()).toEqual(['applied', 'cm']);
    expect(listed.items[0].kind).toBe('ConfigMap');
    expect(listed.metadata.resourceVersion).toBeTruthy();

    await kube.delete(CONFIG_MAPS, 'cm', { namespace });
    const missing = await kube.get(CONFIG_MAPS, 'cm', namespace).catch((e: unknown) => e);
    expect(isNotFound(missing)).toBe(true);
    expect(missing).toMatchObject({ statusCode: 404, reason: 'NotFound' });
    expect((missing as Error).message).toContain('configmaps "cm" not found');
  });

  it('names a transport failure as such (status 0) instead of hanging', async () => {
    const client = new KubeClient(
      { server: 'https://127.0.0.1:1', namespace: 'default' },
      { requestTimeoutMs: 5000 },
    );
    const err = await client.get(NAMESPACES, 'default').catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 0, reason: 'TransportError' });
    client.close();
  });

  it('getText returns a text answer as it is and throws KubeApiError for a non-2xx one', async () => {
    const text = await kube.getText('/readyz?verbose');
    expect(text).toMatch(/readyz check passed/);
    const err = await kube.getText('/api/v1/namespaces/no-such-namespace-x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ statusCode: 404, reason: 'NotFound' });
  });
});

describe('watch', () => {
  it('streams ADDED/MODIFIED/DELETED from a resourceVersion', async () => {
    const start = await kube.list(CONFIG_MAPS, { namespace });
    const events: WatchEvent[] = [];
    const handle = kube.watch(
      CONFIG_MAPS,
      { namespace, resourceVersion: start.metadata.resourceVersion, timeoutSeconds: 30 },
      (e) => events.push(e),
    );
    await kube.create(CONFIG_MAPS, { metadata: { name: 'watched', namespace }, data: { a: '1' } });
    await kube.patch(CONFIG_MAPS, 'watched', { data: { a: '2' } }, { namespace });
    await kube.delete(CONFIG_MAPS, 'watched', { namespace });
    await eventually(
      'three watch events',
      async () => events.filter((e) => e.object.metadata.name === 'watched').length >= 3,
    );
    handle.abort();
    await handle.done;
    expect(events.filter((e) => e.object.metadata.name === 'watched').map((e) => e.type)).toEqual([
      'ADDED',
      'MODIFIED',
      'DELETED',
    ]);
  });
});

describe('watch cache of SecretProviderClasses', () => {
  it('follows create/update/delete cluster-wide; a namespaced cache sees only its namespace', async () => {
    const other = await freshNamespace(kube, 'kube-client-other');
    const all = new WatchCache<SecretProviderClass>({
      client: kube,
      resource: SECRET_PROVIDER_CLASSES,
      watchTimeoutSeconds: 5,
    });
    const mine = new WatchCache<SecretProviderClass>({
      client: kube,
      resource: SECRET_PROVIDER_CLASSES,
      namespace,
      watchTimeoutSeconds: 5,
    });
    try {
      await kube.create(SECRET_PROVIDER_CLASSES, spc('before-start', namespace));
      await all.start();
      await mine.start();
      expect(all.get(namespace, 'before-start')?.spec.provider).toBe('azure');

      await kube.create(SECRET_PROVIDER_CLASSES, spc('a', namespace));
      await kube.create(SECRET_PROVIDER_CLASSES, spc('b', other));
      await eventually(
        'both SPCs in the cluster-wide cache',
        async () => all.get(namespace, 'a') && all.get(other, 'b'),
      );
      await eventually('a in the namespaced cache', async () => mine.get(namespace, 'a'));
      expect(mine.get(other, 'b')).toBeUndefined();
      expect(mine.list().every((o) => o.metadata.namespace === namespace)).toBe(true);

      await kube.patch(SECRET_PROVIDER_CLASSES, 'a', { spec: { provider: 'vault' } }, { namespace });
      await eventually('update seen', async () => all.get(namespace, 'a')?.spec.provider === 'vault');

      // Survives watch timeouts (5 s server-side) by resuming from the last resourceVersion.
      await new Promise((r) => setTimeout(r, 6000));
      await kube.delete(SECRET_PROVIDER_CLASSES, 'a', { namespace });
      await eventually('delete seen', async () => all.get(namespace, 'a') === undefined);
      expect(all.lists).toBe(1);
    } finally {
      await all.stop();
      await mine.stop();
      await kube.delete(NAMESPACES, other).catch(() => undefined);
    }
  });

  it('converges when its resourceVersion was compacted away (410 Gone → re-list, or a replay of current objects)', async () => {
    const cache = new WatchCache<SecretProviderClass>({
      client: kube,
      resource: SECRET_PROVIDER_CLASSES,
      namespace,
      watchTimeoutSeconds: 2,
    });
    try {
      await cache.start();
      // A cache that slept past compaction: its next watch starts from a resourceVersion the server no longer has.
      await kube.create(CONFIG_MAPS, { metadata: { name: 'history', namespace } });
      await compactEtcd();
      (cache as unknown as { resourceVersion: string }).resourceVersion = '1';
      await kube.create(SECRET_PROVIDER_CLASSES, spc('after-gone', namespace));
      await eventually('the cache catches up', async () => cache.get(namespace, 'after-gone'));
    } finally {
      await cache.stop();
    }
  });

  it('getOrFetch answers for an object the watch has not delivered yet, undefined for a missing one', async () => {
    const cache = new WatchCache<SecretProviderClass>({
      client: kube,
      resource: SECRET_PROVIDER_CLASSES,
      namespace,
    });
    try {
      await cache.start();
      await kube.create(SECRET_PROVIDER_CLASSES, spc('fresh', namespace));
      expect((await cache.getOrFetch(namespace, 'fresh'))?.metadata.name).toBe('fresh');
      expect(await cache.getOrFetch(namespace, 'missing')).toBeUndefined();
    } finally {
      await cache.stop();
    }
  });
});

describe('events', () => {
  it('creates a core/v1 Event about an object with reason, message, type and source', async () => {
    const cm = await kube.create<KubeResourceObject>(CONFIG_MAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'evented', namespace },
    });
    const errors: unknown[] = [];
    const recorder = new EventRecorder({
      client: kube,
      component: 'csi-secrets-store-controller',
      host: 'node-1',
      onError: (e) => errors.push(e),
    });
    recorder.record(cm, 'Warning', 'FailedToCreateSecret', 'something went wrong');
    await recorder.flush();
    const events = await kube.list<KubeEvent>(EVENTS, {
      namespace,
      fieldSelector: 'involvedObject.name=evented',
    });
    expect(errors).toEqual([]);
    expect(events.items).toHaveLength(1);
    expect(events.items[0]).toMatchObject({
      type: 'Warning',
      reason: 'FailedToCreateSecret',
      message: 'something went wrong',
      source: { component: 'csi-secrets-store-controller', host: 'node-1' },
      involvedObject: { kind: 'ConfigMap', name: 'evented', namespace, uid: cm.metadata.uid },
    });
  });

  it("counts repeats on one Event and rate-limits each object like client-go's correlator", async () => {
    const [noisy, quiet] = await Promise.all(
      ['noisy', 'quiet'].map((name) =>
        kube.create<KubeResourceObject>(CONFIG_MAPS, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name, namespace },
        }),
      ),
    );
    const errors: unknown[] = [];
    const recorder = new EventRecorder({ client: kube, component: 'c', onError: (e) => errors.push(e) });
    for (let i = 0; i < 30; i++) recorder.record(noisy, 'Warning', 'MountRotationFailed', 'same failure');
    recorder.record(noisy, 'Warning', 'MountRotationFailed', 'another failure'); // over the object's burst
    recorder.record(quiet, 'Normal', 'MountRotationComplete', 'fine'); // another object has its own bucket
    await recorder.flush();
    const eventsOf = async (name: string) =>
      (await kube.list<KubeEvent>(EVENTS, { namespace, fieldSelector: `involvedObject.name=${name}` })).items;
    expect(errors).toEqual([]);
    const noisyEvents = await eventsOf('noisy');
    expect(noisyEvents).toHaveLength(1);
    expect(noisyEvents[0]).toMatchObject({ message: 'same failure', count: 25 });
    expect(Date.parse(noisyEvents[0].lastTimestamp!)).toBeGreaterThanOrEqual(
      Date.parse(noisyEvents[0].firstTimestamp!),
    );
    expect(await eventsOf('quiet')).toHaveLength(1);
    expect(recorder.dropped).toBe(6);
  });

  it('drops what does not fit its queue instead of growing, while the API server is away', async () => {
    const away = new KubeClient(
      { server: 'http://127.0.0.1:9', namespace: 'default' },
      { requestTimeoutMs: 500 },
    );
    const errors: unknown[] = [];
    const recorder = new EventRecorder({
      client: away,
      component: 'c',
      maxQueued: 10,
      onError: (e) => errors.push(e),
    });
    for (let i = 0; i < 100; i++)
      recorder.record(
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}`, namespace, uid: `u${i}` } },
        'Warning',
        'R',
        'm',
      );
    await recorder.flush();
    expect(recorder.dropped).toBeGreaterThanOrEqual(89);
    expect(errors.length).toBe(100 - recorder.dropped);
    away.close();
  });
});
