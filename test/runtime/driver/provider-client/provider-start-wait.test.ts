// A Mount that arrives before the provider has created its socket (node boot, DaemonSet rollout) waits
// for it, bounded; a provider that never comes fails with upstream's text; a tenant's hostile provider
// name is refused before any path is built, and waits for nothing. Real unix sockets, a real provider
// server (ScriptedProvider) and the real gRPC client.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProviderClients } from '../../../../runtime/driver/provider-client/provider-clients';
import { ProviderSocketWaiter } from '../../../../runtime/driver/provider-client/provider-socket-waiter';
import { MountRequest } from '../../../../runtime/wire/provider-v1alpha1';
import { ScriptedProvider } from '../support/scripted-provider';

const REQUEST: MountRequest = {
  attributes: '{}',
  secrets: 'null',
  target_path: '/tmp/target',
  permission: '420',
  current_object_version: [],
};

const NO_WAITS = { calls: 0, polling: false };

describe('a Mount for a provider whose socket is not there yet', () => {
  let root: string;
  let dir: string;
  let clients: ProviderClients | undefined;
  let provider: ScriptedProvider | undefined;
  const waits: Array<{ provider: string; found: boolean }> = [];

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'provider-wait-'));
    dir = path.join(root, 'providers');
    fs.mkdirSync(dir);
    waits.length = 0;
  });

  afterEach(async () => {
    clients?.close();
    clients = undefined;
    await provider?.stop();
    provider = undefined;
    fs.rmSync(root, { recursive: true, force: true });
  });

  function newClients(providerStartWaitMs: number): ProviderClients {
    return (clients = new ProviderClients({
      providerDirs: [path.join(root, 'absent-dir'), dir],
      providerStartWaitMs,
      providerStartPollMs: 20,
      onProviderWait: (name, _ms, found) => waits.push({ provider: name, found }),
    }));
  }

  it('is answered by the provider once it creates its socket, and leaves no timer behind', async () => {
    const c = newClients(10_000);
    provider = new ScriptedProvider(dir, 'late');
    const mounts = [1, 2, 3].map(() => c.mount('late', REQUEST, new Date(Date.now() + 60_000)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(c.socketWaits).toEqual({ calls: 3, polling: true }); // the calls are still waiting
    await provider.start();
    const results = await Promise.all(mounts);
    expect(results.map((r) => r.objectVersions)).toEqual(
      [1, 2, 3].map(() => [{ id: 'secret/a', version: 'v1' }]),
    );
    expect(provider.requests).toHaveLength(3);
    expect(waits).toEqual([1, 2, 3].map(() => ({ provider: 'late', found: true })));
    expect(c.socketWaits).toEqual(NO_WAITS); // no call left waiting, no poll timer left set
  });

  it("fails with upstream's unchanged text when the socket never comes", async () => {
    const atOnce = await newClients(0)
      .mount('never', REQUEST)
      .catch((e: Error) => e);
    expect(waits).toEqual([]); // 0 = upstream: no wait at all
    clients?.close();
    const afterWait = await newClients(200)
      .mount('never', REQUEST)
      .catch((e: Error) => e);
    const text =
      'error connecting to provider "never": provider not found: provider "never"' +
      ` (looked for never.sock in ${path.join(root, 'absent-dir')}, ${dir})`;
    expect((atOnce as Error).message).toBe(text);
    expect((afterWait as Error).message).toBe(text);
    expect(waits).toEqual([{ provider: 'never', found: false }]);
    expect(clients?.socketWaits).toEqual(NO_WAITS); // no call left waiting, no poll timer left set
  });

  it("waits no longer than half of the call's remaining deadline", async () => {
    const c = newClients(60_000);
    const deadline = new Date(Date.now() + 800);
    const err = await c.mount('never', REQUEST, deadline).catch((e: Error) => e);
    // Bounded by the deadline, not by --provider-start-wait: the failure is the provider's absence,
    // reported before kubelet's own deadline ends the call.
    expect((err as Error).message).toContain('provider not found: provider "never"');
    expect(Date.now()).toBeLessThan(deadline.getTime());
  });

  it.each([
    ['../outside', 'a path out of the provider directory'],
    ['a/b', 'a path separator'],
    ['x'.repeat(31), 'more than 30 characters'],
    ['azure\u0000', 'a NUL'],
    ['\u001b[31mazure', 'a terminal escape'],
    ['.', 'a dot'],
    ['azure.sock', 'a dot in the middle'],
  ])('refuses %j (%s) before building a path, and waits for nothing', async (name) => {
    // Something is there to be found if a path were built from the name.
    fs.writeFileSync(path.join(root, 'outside.sock'), '');
    const c = newClients(10_000);
    const err = await c.mount(name, REQUEST, new Date(Date.now() + 60_000)).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      /^error connecting to provider ".*": invalid provider: provider ".*"/,
    );
    expect((err as Error).message).not.toContain('\u001b');
    expect(waits).toEqual([]);
    expect(c.socketWaits).toEqual(NO_WAITS); // no call left waiting, no poll timer left set
  });

  it('ends every wait at close (driver shutdown)', async () => {
    const c = newClients(60_000);
    const pending = c.mount('never', REQUEST).catch((e: Error) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(c.socketWaits).toEqual({ calls: 1, polling: true });
    c.close();
    expect(((await pending) as Error).message).toContain('provider not found');
    expect(c.socketWaits).toEqual(NO_WAITS); // no call left waiting, no poll timer left set
  });
});

describe('ProviderSocketWaiter', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('looks once per tick for a provider however many calls wait for it', async () => {
    const looks: string[] = [];
    let present = false;
    const waiter = new ProviderSocketWaiter({
      find: (name) => {
        looks.push(name);
        return present ? `/dir/${name}.sock` : undefined;
      },
      pollIntervalMs: 100,
    });
    const calls = Array.from({ length: 50 }, () => waiter.wait('late', Date.now() + 5000));
    expect(looks).toHaveLength(50); // each call looks once as it arrives
    await jest.advanceTimersByTimeAsync(300);
    expect(looks).toHaveLength(53); // then one look per tick for all of them
    present = true;
    await jest.advanceTimersByTimeAsync(100);
    expect(await Promise.all(calls)).toEqual(calls.map(() => '/dir/late.sock'));
    expect(waiter.waitingCalls).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('ends each call at its own bound and stops polling when none is left', async () => {
    const waiter = new ProviderSocketWaiter({ find: () => undefined, pollIntervalMs: 100 });
    const results: Array<string | undefined | 'pending'> = ['pending', 'pending'];
    void waiter.wait('a', Date.now() + 150).then((r) => (results[0] = r));
    void waiter.wait('a', Date.now() + 1000).then((r) => (results[1] = r));
    await jest.advanceTimersByTimeAsync(150);
    expect(results).toEqual([undefined, 'pending']);
    await jest.advanceTimersByTimeAsync(850);
    expect(results).toEqual([undefined, undefined]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('fails at once past its limits of providers and calls (a tenant naming many missing providers)', async () => {
    const looked = new Set<string>();
    const waiter = new ProviderSocketWaiter({
      find: (name) => {
        looked.add(name);
        return undefined;
      },
      maxProviders: 3,
      maxCalls: 5,
    });
    const until = Date.now() + 5000;
    for (const name of ['p1', 'p2', 'p3']) void waiter.wait(name, until);
    expect(await waiter.wait('p4', until)).toBeUndefined(); // a 4th provider: no wait
    void waiter.wait('p1', until);
    void waiter.wait('p2', until); // a known provider still waits, up to 5 calls
    expect(waiter.waitingCalls).toBe(5);
    expect(await waiter.wait('p3', until)).toBeUndefined();
    expect(waiter.waitingCalls).toBe(5);
    looked.clear();
    await jest.advanceTimersByTimeAsync(100);
    expect([...looked].sort()).toEqual(['p1', 'p2', 'p3']);
    waiter.close();
    expect(waiter.waitingCalls).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });
});
