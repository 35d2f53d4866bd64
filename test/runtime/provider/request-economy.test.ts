// The request-economy building blocks on their own: token-bucket priority and Retry-After pauses,
// cache single-flight/age/size bounds, retry bounds and Retry-After handling, token reuse. Clocks are
// injected where age matters; nothing asserts on elapsed wall-clock time.
import type { AccessToken, TokenCredential } from '@azure/identity';
import { Semaphore } from '../../../runtime/common/semaphore';
import { CachingCredential } from '../../../runtime/provider/identity/caching-credential';
import { identityKey } from '../../../runtime/provider/identity/auth-config';
import { FirstCallGate } from '../../../runtime/provider/keyvault/first-call-gate';
import { ObjectCache } from '../../../runtime/provider/keyvault/object-cache';
import { EveryCallerLeftError } from '../../../runtime/provider/single-flight';
import { backoffDelay, parseRetryAfter, withRetries } from '../../../runtime/provider/keyvault/retry';
import { TokenBucket } from '../../../runtime/provider/keyvault/token-bucket';

describe('TokenBucket', () => {
  it('hands out the burst at once, then serves first mounts before rotation', async () => {
    let now = 1_000_000;
    const bucket = new TokenBucket({ ratePerSecond: 1000, burst: 3, now: () => now });
    for (let i = 0; i < 3; i++) expect(await bucket.acquire('rotation')).toBe(false);
    const order: string[] = [];
    const waits = [
      bucket.acquire('rotation').then(() => order.push('rotation-1')),
      bucket.acquire('rotation').then(() => order.push('rotation-2')),
      bucket.acquire('mount').then(() => order.push('mount-1')),
    ];
    expect(bucket.pending).toBe(3);
    now += 3; // three tokens' worth at 1000/s
    await Promise.all(waits);
    expect(order).toEqual(['mount-1', 'rotation-1', 'rotation-2']);
    expect(bucket.waited).toBe(3);
  });

  it('holds everyone while paused by a Retry-After', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 1000, burst: 5 });
    bucket.pauseUntil(Date.now() + 200);
    let granted = false;
    const waiting = bucket.acquire('mount').then(() => (granted = true));
    // Timers fire in expiry order, so this check runs before the bucket's 200 ms drain.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(granted).toBe(false);
    await waiting;
    expect(granted).toBe(true);
  });

  it('lets an aborted waiter leave the queue', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 0.001, burst: 1 });
    await bucket.acquire('mount');
    const controller = new AbortController();
    const waiting = bucket.acquire('mount', controller.signal);
    controller.abort(new Error('driver went away'));
    await expect(waiting).rejects.toThrow('driver went away');
    expect(bucket.pending).toBe(0);
  });
});

describe('ObjectCache', () => {
  it('runs one load for concurrent callers of a key, then serves hits until the entry ages out', async () => {
    let now = 0;
    const cache = new ObjectCache<string>({ maxAgeMs: 1000, now: () => now });
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return `value-${loads}`;
    };
    const outcomes: string[] = [];
    const results = await Promise.all(
      Array.from({ length: 10 }, () => cache.getOrLoad('id|vault|secret|s|', load, (o) => outcomes.push(o))),
    );
    expect(new Set(results)).toEqual(new Set(['value-1']));
    expect(outcomes.filter((o) => o === 'miss')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'shared')).toHaveLength(9);
    now = 999;
    expect(await cache.getOrLoad('id|vault|secret|s|', load)).toBe('value-1');
    now = 1000;
    expect(await cache.getOrLoad('id|vault|secret|s|', load)).toBe('value-2');
    expect(loads).toBe(2);
  });

  it('narrows the freshness window for one caller only, and stores what it loaded for everyone', async () => {
    let now = 0;
    const cache = new ObjectCache<string>({ maxAgeMs: 30_000, now: () => now });
    let loads = 0;
    const load = async () => `value-${++loads}`;
    expect(await cache.getOrLoad('k', load)).toBe('value-1');
    now = 1_999;
    expect(await cache.getOrLoad('k', load, undefined, undefined, 2_000)).toBe('value-1');
    now = 2_000;
    // A rotation check: older than its 2 s window, so loaded again ...
    expect(await cache.getOrLoad('k', load, undefined, undefined, 2_000)).toBe('value-2');
    // ... and a first mount then gets that newer value within the long window.
    now = 20_000;
    expect(await cache.getOrLoad('k', load)).toBe('value-2');
    // A narrower window never widens the cache's own.
    now = 2_000 + 30_000;
    expect(await cache.getOrLoad('k', load, undefined, undefined, 60_000)).toBe('value-3');
    expect(loads).toBe(3);
  });

  it('never caches failures and keeps keys apart', async () => {
    const cache = new ObjectCache<string>();
    await expect(cache.getOrLoad('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await cache.getOrLoad('a', async () => 'ok')).toBe('ok');
    expect(await cache.getOrLoad('b', async () => 'other')).toBe('other');
  });

  it('is bounded in entries (least recently used first) and sweeps expired ones', async () => {
    let now = 0;
    const cache = new ObjectCache<number>({ maxEntries: 3, maxAgeMs: 100, now: () => now });
    for (const key of ['k1', 'k2', 'k3']) await cache.getOrLoad(key, async () => 1);
    await cache.getOrLoad('k1', async () => 2); // k1 becomes most recent
    await cache.getOrLoad('k4', async () => 1); // evicts k2
    expect(cache.size).toBe(3);
    let reloaded = false;
    await cache.getOrLoad('k2', async () => ((reloaded = true), 1));
    expect(reloaded).toBe(true);
    now = 500;
    cache.sweep();
    expect(cache.size).toBe(0);
  });

  it('with max age 0 still coalesces concurrent loads but keeps nothing', async () => {
    const cache = new ObjectCache<string>({ maxAgeMs: 0 });
    let loads = 0;
    const load = async () => (await new Promise((r) => setTimeout(r, 5)), `v${++loads}`);
    await Promise.all([cache.getOrLoad('k', load), cache.getOrLoad('k', load)]);
    expect(loads).toBe(1);
    expect(cache.size).toBe(0);
  });

  it('keeps a shared load going when the caller that started it leaves, and aborts it when the last one does', async () => {
    const cache = new ObjectCache<string>();
    let release!: (value: string) => void;
    let loadSignal!: AbortSignal;
    const load = (signal: AbortSignal) => {
      loadSignal = signal;
      return new Promise<string>((resolve) => (release = resolve));
    };
    const first = new AbortController();
    const second = new AbortController();
    const firstResult = cache.getOrLoad('k', load, undefined, first.signal);
    const secondResult = cache.getOrLoad('k', load, undefined, second.signal);
    first.abort(new Error('the driver cancelled the first Mount'));
    await expect(firstResult).rejects.toThrow('the driver cancelled the first Mount');
    expect(loadSignal.aborted).toBe(false);
    release('value');
    await expect(secondResult).resolves.toBe('value');
    expect(await cache.getOrLoad('k', load)).toBe('value');

    // Every caller gone: the load is told so, and the next caller starts afresh.
    const lonely = new AbortController();
    const abandoned = cache.getOrLoad('other', load, undefined, lonely.signal);
    const abandonedSignal = loadSignal;
    lonely.abort(new Error('gone'));
    await expect(abandoned).rejects.toThrow('gone');
    expect(abandonedSignal.aborted).toBe(true);
    expect(abandonedSignal.reason).toBeInstanceOf(EveryCallerLeftError);
    const fresh = cache.getOrLoad('other', load);
    expect(loadSignal).not.toBe(abandonedSignal);
    release('again');
    await expect(fresh).resolves.toBe('again');
  });

  it('refuses a caller whose signal has already aborted without starting a load', async () => {
    const cache = new ObjectCache<string>();
    const gone = new AbortController();
    gone.abort(new Error('already gone'));
    let loads = 0;
    await expect(cache.getOrLoad('k', async () => `v${++loads}`, undefined, gone.signal)).rejects.toThrow(
      'already gone',
    );
    expect(loads).toBe(0);
  });
});

describe('withRetries', () => {
  const noSleep = async () => undefined;

  it('stops after maxRetries and rethrows the last error', async () => {
    let attempts = 0;
    await expect(
      withRetries(
        async () => {
          attempts++;
          throw new Error(`fail ${attempts}`);
        },
        { maxRetries: 3, classify: () => ({ retryable: true, reason: 'server_error' }), sleep: noSleep },
      ),
    ).rejects.toThrow('fail 4');
    expect(attempts).toBe(4);
  });

  it('waits at least Retry-After, and fails at once when Retry-After is beyond the cap', async () => {
    const delays: number[] = [];
    let attempts = 0;
    const result = await withRetries(
      async () => {
        if (++attempts < 3) throw new Error('429');
        return 'ok';
      },
      {
        classify: () => ({ retryable: true, retryAfterMs: 7000, reason: 'throttled' }),
        sleep: async (ms) => void delays.push(ms),
        random: () => 0,
      },
    );
    expect(result).toBe('ok');
    expect(delays).toEqual([7000, 7000]);
    await expect(
      withRetries(async () => Promise.reject(new Error('429 long')), {
        classify: () => ({ retryable: true, retryAfterMs: 120_000 }),
        sleep: noSleep,
      }),
    ).rejects.toThrow('429 long');
  });

  it('does not retry what is not retryable', async () => {
    let attempts = 0;
    await expect(
      withRetries(async () => (attempts++, Promise.reject(new Error('403'))), {
        classify: () => ({ retryable: false }),
        sleep: noSleep,
      }),
    ).rejects.toThrow('403');
    expect(attempts).toBe(1);
  });

  it('backs off exponentially with jitter within [half, full] of each capped step', () => {
    expect(backoffDelay(1, 800, 30_000, () => 0)).toBe(400);
    expect(backoffDelay(1, 800, 30_000, () => 0.999999)).toBe(800);
    expect(backoffDelay(3, 800, 30_000, () => 0)).toBe(1600);
    expect(backoffDelay(10, 800, 30_000, () => 0.999999)).toBe(30_000);
  });

  it('parses Retry-After seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('CachingCredential', () => {
  it('reuses a token until the refresh margin, single-flight, and ignores a challenge tenant', async () => {
    let now = 0;
    const seen: Array<string | undefined> = [];
    const inner: TokenCredential = {
      getToken: async (_scopes, options): Promise<AccessToken> => {
        seen.push(options?.tenantId);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { token: `t${seen.length}`, expiresOnTimestamp: now + 3600_000 };
      },
    };
    let requests = 0;
    const credential = new CachingCredential(inner, {
      refreshMarginMs: 300_000,
      now: () => now,
      onTokenRequest: () => requests++,
    });
    const tokens = await Promise.all(
      Array.from({ length: 5 }, () =>
        credential.getToken('https://vault.azure.net/.default', { tenantId: 'from-challenge' }),
      ),
    );
    expect(tokens.map((t) => t.token)).toEqual(['t1', 't1', 't1', 't1', 't1']);
    now = 3600_000 - 300_001;
    expect((await credential.getToken('https://vault.azure.net/.default')).token).toBe('t1');
    now = 3600_000 - 300_000;
    expect((await credential.getToken('https://vault.azure.net/.default')).token).toBe('t2');
    expect(requests).toBe(2);
    expect(seen).toEqual([undefined, undefined]);
  });

  it('shares one token request that survives the call that started it', async () => {
    let release!: () => void;
    let requestSignal: { aborted: boolean } | undefined;
    const inner: TokenCredential = {
      getToken: async (_scopes, options): Promise<AccessToken> => {
        requestSignal = options?.abortSignal;
        await new Promise<void>((resolve) => (release = resolve));
        return { token: 'shared-token', expiresOnTimestamp: Date.now() + 3600_000 };
      },
    };
    const credential = new CachingCredential(inner);
    const first = new AbortController();
    const firstToken = credential.getToken('scope/.default', { abortSignal: first.signal });
    const secondToken = credential.getToken('scope/.default', { abortSignal: new AbortController().signal });
    first.abort(new Error('first Key Vault call timed out'));
    await expect(firstToken).rejects.toThrow('first Key Vault call timed out');
    expect(requestSignal?.aborted).toBe(false);
    release();
    await expect(secondToken).resolves.toEqual(expect.objectContaining({ token: 'shared-token' }));
  });
});

describe('identityKey', () => {
  it('separates identities and never contains the client secret', () => {
    const sp = identityKey(
      { kind: 'service-principal', clientId: 'c', clientSecret: 'super-secret' },
      't',
      'https://login/',
    );
    expect(sp).not.toContain('super-secret');
    expect(sp).not.toBe(
      identityKey(
        { kind: 'service-principal', clientId: 'c', clientSecret: 'other-secret' },
        't',
        'https://login/',
      ),
    );
    const wi = (sa: string) =>
      identityKey(
        { kind: 'workload-identity', clientId: 'c', serviceAccountToken: 'jwt', serviceAccount: sa },
        't',
        'https://login/',
      );
    expect(wi('system:serviceaccount:a:x')).not.toBe(wi('system:serviceaccount:a:y'));
    expect(identityKey({ kind: 'managed-identity', clientId: '' }, 't', 'a')).not.toBe(
      identityKey({ kind: 'managed-identity', clientId: 'u' }, 't', 'a'),
    );
  });
});

describe('FirstCallGate', () => {
  /** A call that finishes when `finish` is called, recording how many calls overlap. */
  function trackedCalls() {
    const state = { running: 0, maxRunning: 0, started: 0 };
    const finishers: Array<(error?: Error) => void> = [];
    const call = () => {
      state.started++;
      state.running++;
      state.maxRunning = Math.max(state.maxRunning, state.running);
      return new Promise<string>((resolve, reject) =>
        finishers.push((error) => {
          state.running--;
          if (error) reject(error);
          else resolve('ok');
        }),
      );
    };
    return { state, finishers, call };
  }
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it('lets the first call go alone, then the rest together', async () => {
    const gate = new FirstCallGate();
    const { state, finishers, call } = trackedCalls();
    const results = Array.from({ length: 5 }, () => gate.run(call));
    await tick();
    expect(state.started).toBe(1);
    finishers[0]();
    await tick();
    expect(state.started).toBe(5);
    expect(state.running).toBe(4);
    finishers.slice(1).forEach((finish) => finish());
    await expect(Promise.all(results)).resolves.toEqual(Array(5).fill('ok'));
    expect(gate.isWarm).toBe(true);
  });

  it('hands the lead to the next waiter when the leader fails before authenticating', async () => {
    const gate = new FirstCallGate();
    const { state, finishers, call } = trackedCalls();
    const first = gate.run(call);
    const rest = [gate.run(call), gate.run(call)];
    await tick();
    finishers[0](new Error('connect ECONNREFUSED'));
    await expect(first).rejects.toThrow('ECONNREFUSED');
    await tick();
    // Still cold: one new leader, alone.
    expect(state.started).toBe(2);
    expect(state.maxRunning).toBe(1);
    finishers[1]();
    await tick();
    expect(state.started).toBe(3);
    finishers[2]();
    await expect(Promise.all(rest)).resolves.toEqual(['ok', 'ok']);
  });
});

describe('Semaphore', () => {
  it('never runs more than its limit at once', async () => {
    const semaphore = new Semaphore(3);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        semaphore.run(async () => {
          peak = Math.max(peak, ++active);
          await new Promise((resolve) => setTimeout(resolve, 2));
          active--;
        }),
      ),
    );
    expect(peak).toBe(3);
  });
});
