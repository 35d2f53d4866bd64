// The watch cache's recovery paths that the rig's kube-apiserver does not produce on demand (its watch
// cache replays current objects for an expired resourceVersion instead of answering 410): a loopback
// HTTP server speaking the real list/watch wire format (newline-delimited watch events, BOOKMARK, an
// ERROR event carrying a metav1.Status with code 410, a 500 answer).
import * as http from 'http';
import { AddressInfo } from 'net';
import {
  KubeClient,
  SECRET_PROVIDER_CLASSES,
  SecretProviderClass,
  WatchCache,
} from '../../../../../runtime/driver/cluster/kube';

interface FakeApi {
  client: KubeClient;
  objects: Map<string, SecretProviderClass>;
  requests: string[];
  /** Open watch responses, newest last. */
  watches: http.ServerResponse[];
  failNextList: boolean;
  /** Every watch is answered 410 Gone (a server or proxy that does so whatever the resourceVersion). */
  goneWatches: boolean;
  close(): Promise<void>;
}

async function fakeApi(): Promise<FakeApi> {
  const state = {
    objects: new Map<string, SecretProviderClass>(),
    requests: [] as string[],
    watches: [] as http.ServerResponse[],
    failNextList: false,
    goneWatches: false,
  };
  let resourceVersion = 100;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const watch = url.searchParams.get('watch') === 'true';
    state.requests.push(`${watch ? 'WATCH' : 'LIST'} rv=${url.searchParams.get('resourceVersion') ?? ''}`);
    res.writeHead(watch || !state.failNextList ? 200 : 500, { 'content-type': 'application/json' });
    if (watch) {
      if (state.goneWatches || url.searchParams.get('resourceVersion') === 'expired') {
        res.end(
          `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version' } })}\n`,
        );
        return;
      }
      state.watches.push(res);
      return;
    }
    if (state.failNextList) {
      state.failNextList = false;
      res.end(
        JSON.stringify({
          kind: 'Status',
          status: 'Failure',
          reason: 'InternalError',
          code: 500,
          message: 'etcdserver: leader changed',
        }),
      );
      return;
    }
    resourceVersion++;
    res.end(
      JSON.stringify({
        kind: 'SecretProviderClassList',
        metadata: { resourceVersion: String(resourceVersion) },
        items: [...state.objects.values()],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new KubeClient({
    server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    namespace: 'default',
  });
  return Object.assign(state, {
    client,
    close: async () => {
      client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}

function spc(name: string, rv: string): SecretProviderClass {
  return { metadata: { name, namespace: 'ns', resourceVersion: rv }, spec: { provider: 'azure' } };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`not reached: ${what}`);
}

describe('WatchCache recovery', () => {
  let api: FakeApi;
  beforeEach(async () => {
    api = await fakeApi();
  });
  afterEach(async () => api.close());

  it('applies events split across chunks, advances on BOOKMARK, and on 410 re-lists (dropping objects deleted meanwhile)', async () => {
    api.objects.set('a', spc('a', '5'));
    const changes: string[] = [];
    const cache = new WatchCache<SecretProviderClass>({
      client: api.client,
      resource: SECRET_PROVIDER_CLASSES,
      minBackoffMs: 10,
      onChange: (change, o) => changes.push(`${change} ${o.metadata.name}`),
    });
    await cache.start();
    await until('first watch open', () => api.watches.length === 1);
    const added = JSON.stringify({ type: 'ADDED', object: spc('b', '102') });
    api.watches[0].write(
      `${added}\n${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '103' } } }).slice(0, 10)}`,
    );
    api.watches[0].write(
      `${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '103' } } }).slice(10)}\n`,
    );
    await until('b cached', () => !!cache.get('ns', 'b'));
    expect(cache.get('ns', 'b')?.kind).toBe('SecretProviderClass');

    // The server ends the watch; the cache resumes from the bookmark's resourceVersion.
    api.watches[0].end();
    await until('second watch', () => api.watches.length === 2);
    expect(api.requests.slice(0, 3)).toEqual(['LIST rv=', 'WATCH rv=101', 'WATCH rv=103']);

    // History compacted: the next watch is answered with ERROR 410 → full re-list; 'b' is gone on the server.
    (cache as unknown as { resourceVersion: string }).resourceVersion = 'expired';
    api.watches[1].end();
    await until('re-listed', () => cache.lists === 2);
    expect(cache.get('ns', 'b')).toBeUndefined();
    expect(cache.get('ns', 'a')).toBeDefined();
    expect(changes).toEqual(['ADDED a', 'ADDED b', 'DELETED b']);
    await cache.stop();
  });

  it('re-lists at once on a 410, but backs off when the watch after a fresh list is Gone again', async () => {
    api.objects.set('a', spc('a', '5'));
    api.goneWatches = true;
    const cache = new WatchCache<SecretProviderClass>({
      client: api.client,
      resource: SECRET_PROVIDER_CLASSES,
      minBackoffMs: 100,
      maxBackoffMs: 400,
    });
    await cache.start();
    await new Promise((r) => setTimeout(r, 1500));
    // Without the backoff this is a list+watch loop (hundreds in 1.5 s); with it: 2 at once, then 100..400 ms apart.
    expect(cache.lists).toBeGreaterThanOrEqual(3);
    expect(cache.lists).toBeLessThan(12);
    expect(cache.get('ns', 'a')).toBeDefined(); // served from the last list meanwhile
    api.goneWatches = false;
    await until('a watch stays open again', () => api.watches.length === 1);
    await cache.stop();
  });

  it('keeps serving its last state through a failed re-list and retries with backoff', async () => {
    api.objects.set('a', spc('a', '5'));
    const errors: unknown[] = [];
    const cache = new WatchCache<SecretProviderClass>({
      client: api.client,
      resource: SECRET_PROVIDER_CLASSES,
      minBackoffMs: 10,
      maxBackoffMs: 20,
      onError: (e) => errors.push(e),
    });
    await cache.start();
    await until('watch open', () => api.watches.length === 1);
    api.failNextList = true;
    // A watch that saw an event (not a short empty one) ends; the next one finds its resourceVersion expired.
    api.watches[0].write(
      `${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: 'expired' } } })}\n`,
    );
    await until(
      'bookmark applied',
      () => (cache as unknown as { resourceVersion: string }).resourceVersion === 'expired',
    );
    api.watches[0].end();
    await until('re-listed after a failure', () => cache.lists === 2);
    expect(cache.get('ns', 'a')).toBeDefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ statusCode: 500, reason: 'InternalError' });
    expect((errors[0] as Error).message).toContain('etcdserver: leader changed');
    await cache.stop();
  });

  it('retries a failed first list in the background and resolves start() once it is in the cache', async () => {
    api.failNextList = true;
    api.objects.set('a', spc('a', '5'));
    const errors: unknown[] = [];
    const cache = new WatchCache({
      client: api.client,
      resource: SECRET_PROVIDER_CLASSES,
      minBackoffMs: 10,
      onError: (e) => errors.push(e),
    });
    await cache.start();
    expect(cache.hasSynced).toBe(true);
    expect(cache.get('ns', 'a')).toBeDefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ statusCode: 500, reason: 'InternalError' });
    await cache.stop();
  });

  it('gives up and rejects start() on a failure retrying cannot fix', async () => {
    api.failNextList = true;
    const cache = new WatchCache({
      client: api.client,
      resource: SECRET_PROVIDER_CLASSES,
      giveUpOn: (e) => (e as { statusCode?: number }).statusCode === 500,
    });
    await expect(cache.start()).rejects.toMatchObject({ statusCode: 500, reason: 'InternalError' });
    expect(cache.hasSynced).toBe(false);
    await cache.stop();
  });
});
