// The Mount admission gate in the built provider process, against the harness/fakes Key Vault and
// Entra ID over real HTTPS: one namespace whose vault (or Entra ID) stalls sends more Mounts than the
// gate has slots; another namespace's Mount, sent after them, is answered while every stalled one still
// waits, and the stalled ones still end with their own deadline's answer naming what stalled. The
// gate's metrics as the real /metrics endpoint serves them after a burst; and a provider starved of CPU
// (it runs 10 ms in every 160 ms, stopped and continued as a CPU quota throttles a busy process) whose
// queued Mounts reach their deadline before their turn: they answer that they never started, naming the
// queue and the fix, and /metrics counts them.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { FakeAzure, startFakeAzure } from '../../../harness/fakes/fake-azure';
import { canUsePrivilegedLoopback } from '../../../harness/fakes/loopback-hosts';
import { waitUntil } from '../../../harness/rig/processes';
import { mountRequest, objectsYaml, POD_ATTRIBUTES } from './support/mount-request';
import { counterValue, spawnProvider, SpawnedProvider } from './support/spawned-provider';

jest.setTimeout(120_000);

const TENANT = '6f1d2c3b-0000-4000-8000-00000000a001';
const STALLED_VAULT = 'kvstalled';
const CALM_VAULT = 'kvcalm';
/** The stalled namespace sends this many Mounts: three times the gate's slots. */
const STALLED_MOUNTS = 3;
const STALLED_DEADLINE_MS = 8_000;

function cannotRun(): boolean {
  if (canUsePrivilegedLoopback()) return false;
  if (process.env.CI === 'true')
    throw new Error('cannot run in CI: this suite needs root (unshare --mount for a private /etc/hosts)');
  console.warn(
    'mount admission process suite not run here: it needs root (unshare --mount for a private /etc/hosts)',
  );
  return true;
}
const skipHere = cannotRun();

let azure: FakeAzure;
let provider: SpawnedProvider;
/** A second provider whose leases outlast the test (a turn comes only from a release or spare CPU). */
let starved: SpawnedProvider | undefined;
let cloudFile: string;
const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'provider-admission-'));
let identities = 0;

function newIdentity(): { clientid: string; clientsecret: string } {
  const sp = {
    clientid: `sp-admission-${++identities}`,
    clientsecret: `admission-secret-${randomBytes(8).toString('hex')}`,
  };
  azure.entra.addClientSecret({ tenantId: TENANT, clientId: sp.clientid, clientSecret: sp.clientsecret });
  return sp;
}

function request(
  namespace: string,
  vault: string,
  objectName: string,
  identity: { clientid: string; clientsecret: string } = newIdentity(),
) {
  return mountRequest({
    parameters: {
      ...POD_ATTRIBUTES,
      'csi.storage.k8s.io/pod.namespace': namespace,
      keyvaultName: vault,
      tenantID: TENANT,
      cloudName: 'AzureStackCloud',
      cloudEnvFileName: cloudFile,
      objects: objectsYaml([{ objectName, objectType: 'secret' }]),
    },
    secrets: identity,
    withPodInfo: false,
  });
}

/** Starts a Mount and records when (in which order) it settled. */
function started<T>(promise: Promise<T>, settled: string[], name: string): Promise<T> {
  return promise.finally(() => settled.push(name));
}

/** Polls a fake's counter (bounded: 10 s). */
const eventually = (check: () => boolean, what: string) =>
  waitUntil(async () => check(), { what, timeoutMs: 10_000, intervalMs: 50 });

beforeAll(async () => {
  if (skipHere) return;
  azure = await startFakeAzure({ tenantId: TENANT, vaultNames: [STALLED_VAULT, CALM_VAULT] });
  cloudFile = azure.writeCloudFile();
  provider = await spawnProvider({
    hostsFile: azure.hostsFile,
    env: azure.ca.childEnv(),
    socketPath: path.join(socketDir, 'azure.sock'),
    args: [
      '--mount-admission-slots=1',
      '--mount-admission-lease=1s',
      '--keyvault-timeout=30s',
      `--cloud-env-file-dir=${azure.dir}`,
    ],
  });
});

afterAll(async () => {
  await starved?.stop();
  await provider?.stop();
  await azure?.dispose();
  fs.rmSync(socketDir, { recursive: true, force: true });
});

afterEach(() => {
  if (skipHere) return;
  azure.vault.clearFaults();
  azure.entra.clearFaults();
});

describe('the Mount admission gate in the provider process', () => {
  it("a namespace whose vault stalls holds no other namespace's Mount; its own Mounts still get their deadline's answer", async () => {
    if (skipHere) return;
    azure.vault.setSecret(STALLED_VAULT, 'stuck', 'stuck-value');
    const calmValue = `calm-${randomBytes(6).toString('hex')}`;
    azure.vault.setSecret(CALM_VAULT, 'calm', calmValue);
    azure.vault.injectFault({ kind: 'stall', count: 100, match: new RegExp(`^${STALLED_VAULT}/`) });
    const settled: string[] = [];
    const stalled = Array.from({ length: STALLED_MOUNTS }, (_, i) =>
      started(
        provider.client.mountError(request('tenant-stalled', STALLED_VAULT, 'stuck'), STALLED_DEADLINE_MS),
        settled,
        `stalled-${i}`,
      ),
    );
    await eventually(() => azure.vault.stats().inFlight >= 1, 'the first stalled Mount reaches its vault');
    const calm = await started(
      provider.client.mount(request('tenant-calm', CALM_VAULT, 'calm'), 30_000),
      settled,
      'calm',
    );
    expect(calm.files[0].contents.toString()).toBe(calmValue);
    expect(settled).toEqual(['calm']);
    for (const err of await Promise.all(stalled)) {
      expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      // "no answer from Key Vault kvstalled (…)", or, while its token request was still out, Entra ID's "… for Key Vault kvstalled (…)".
      expect(err.details).toContain(`Key Vault ${STALLED_VAULT} (`);
    }
  });

  it("a namespace whose Entra ID token request stalls holds no other namespace's Mount", async () => {
    if (skipHere) return;
    azure.vault.setSecret(STALLED_VAULT, 'no-token', 'no-token-value');
    const calmValue = `calm-entra-${randomBytes(6).toString('hex')}`;
    azure.vault.setSecret(CALM_VAULT, 'calm-entra', calmValue);
    azure.entra.injectFault({ kind: 'stall', count: 1, stallMs: 20_000 });
    const before = azure.entra.stats().tokenRequests;
    const settled: string[] = [];
    // One identity: its Mounts share the one stalled token request.
    const stuck = newIdentity();
    const stalled = Array.from({ length: STALLED_MOUNTS }, (_, i) =>
      started(
        provider.client.mountError(
          request('tenant-stalled', STALLED_VAULT, 'no-token', stuck),
          STALLED_DEADLINE_MS,
        ),
        settled,
        `stalled-${i}`,
      ),
    );
    await eventually(() => azure.entra.stats().tokenRequests > before, 'the first stalled token request');
    // Entra ID answers the next request again; the stalled one stays stalled.
    const calm = await started(
      provider.client.mount(request('tenant-calm', CALM_VAULT, 'calm-entra'), 30_000),
      settled,
      'calm',
    );
    expect(calm.files[0].contents.toString()).toBe(calmValue);
    expect(settled).toEqual(['calm']);
    const errors = await Promise.all(stalled);
    for (const err of errors) expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    // The first one waited on the stalled token request itself.
    expect(errors[0].details).toContain('no answer from Entra ID');
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Lets `pid` run 10 ms in every 160 ms (SIGSTOP, SIGCONT) until stopped, as a CPU quota throttles a
 * busy process, only regardless of its load: its timers (the gate's 50 ms spare-CPU ticks) always come
 * late. Ends with the process running.
 */
function starve(pid: number): { stop(): Promise<void> } {
  let on = true;
  const loop = (async () => {
    while (on) {
      process.kill(pid, 'SIGSTOP');
      try {
        await sleep(150);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await sleep(10);
    }
  })();
  return {
    stop: async () => {
      on = false;
      await loop;
    },
  };
}

/** The gate's series of a /metrics text: mount_admissions_total by kind, the wait by outcome. */
function gateMetrics(text: string) {
  const kinds = ['immediate', 'queued', 'spare_cpu', 'lease', 'overflow', 'off'];
  return {
    waiting: counterValue(text, 'mount_admission_waiting'),
    admissions: Object.fromEntries(
      kinds.map((kind) => [kind, counterValue(text, 'mount_admissions_total', { kind })]),
    ),
    total: counterValue(text, 'mount_admissions_total'),
    waits: (outcome: string) => counterValue(text, 'mount_admission_wait_seconds_count', { outcome }),
    waitSum: (outcome: string) => counterValue(text, 'mount_admission_wait_seconds_sum', { outcome }),
    waitBucket: (outcome: string, le: string) =>
      counterValue(text, 'mount_admission_wait_seconds_bucket', { outcome, le }),
  };
}

describe("the Mount admission gate's metrics and answers in the provider process", () => {
  it('after a burst over three namespaces, /metrics counts every turn, each wait, and nobody waiting; no namespace is a label', async () => {
    if (skipHere) return;
    const before = gateMetrics(await provider.metrics());
    const identity = newIdentity();
    const values = new Map<string, string>();
    for (let i = 0; i < 6; i++) {
      const value = `burst-${i}-${randomBytes(6).toString('hex')}`;
      values.set(`burst-${i}`, value);
      azure.vault.setSecret(CALM_VAULT, `burst-${i}`, value);
    }
    const answers = await Promise.all(
      [...values.keys()].map((name, i) =>
        provider.client.mount(request(`tenant-burst-${i % 3}`, CALM_VAULT, name, identity), 30_000),
      ),
    );
    expect(answers.map((a) => a.files[0].contents.toString())).toEqual([...values.values()]);
    const text = await provider.metrics();
    const after = gateMetrics(text);
    expect(after.waiting).toBe(0);
    expect(after.total - before.total).toBe(6);
    expect(after.waits('admitted') - before.waits('admitted')).toBe(6);
    // One slot: the first of the burst goes at once, the others wait for a release or spare CPU.
    expect(after.admissions.immediate - before.admissions.immediate).toBeGreaterThanOrEqual(1);
    expect(after.admissions.overflow + after.admissions.off).toBe(0);
    expect(text).not.toMatch(/tenant-|kvcalm|kvstalled|burst-/);
    expect(text).toContain('# TYPE mount_admission_wait_seconds histogram');
    expect(text).toContain('# TYPE mount_admission_waiting gauge');
  });

  it('queued Mounts of a provider starved of CPU reach their deadline before their turn: DEADLINE_EXCEEDED, "never started", the queue and the fix', async () => {
    if (skipHere) return;
    starved = await spawnProvider({
      hostsFile: azure.hostsFile,
      env: azure.ca.childEnv(),
      args: ['--mount-admission-slots=1', '--mount-admission-lease=2m', `--cloud-env-file-dir=${azure.dir}`],
    });
    const pid = starved.child.pid!;
    // unshare and sh exec: the child is the provider's node process itself.
    expect(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('node');
    azure.vault.setSecret(STALLED_VAULT, 'held', 'held-value');
    const faultsBefore = azure.vault.stats().faults;
    azure.vault.injectFault({ kind: 'stall', count: 1, match: new RegExp(`^${STALLED_VAULT}/secrets/held`) });
    const holderIdentity = newIdentity();
    // The holder takes the one slot and waits on its stalled vault until its own (later) deadline.
    const holder = starved.client.mountError(
      request('tenant-holder', STALLED_VAULT, 'held', holderIdentity),
      7_000,
    );
    await eventually(() => azure.vault.stats().faults > faultsBefore, "the holder's stalled Key Vault GET");
    const queuedIdentity = newIdentity();
    // From now on the provider gets the CPU 10 ms in every 160 ms: every spare-CPU tick comes late.
    const starving = starve(pid);
    const queued = Array.from({ length: 3 }, (_, i) =>
      starved!.client.mountError(request(`tenant-queued-${i}`, STALLED_VAULT, 'held', queuedIdentity), 5_000),
    );
    await waitUntil(async () => gateMetrics(await starved!.metrics()).waiting === 3, {
      what: 'three Mounts waiting on /metrics',
      timeoutMs: 4_000,
      intervalMs: 50,
    });
    const errors = await Promise.all(queued).finally(() => starving.stop());
    for (const err of errors) {
      expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      // The deadline as the provider got the call (a starved process reads it a little late).
      const text =
        /^failed to mount objects, error: the Mount waited (\d\.\d) s in this provider's admission queue \(1 Mount running, --mount-admission-slots=1; \d Mounts? waiting ahead of it\) and the driver's deadline of (\d\.\d) s passed before it started \(this provider answers \d\.\d s before it\); nothing was mounted; the kubelet retries the mount; raise the provider's CPU limit \(providerResources\.limits\.cpu of the install\) or --mount-admission-slots so Mounts start sooner$/;
      expect(err.details).toMatch(text);
      const [, waited, deadline] = text.exec(err.details)!.map(Number);
      expect(waited).toBeGreaterThanOrEqual(3);
      expect(deadline).toBeGreaterThan(waited);
      expect(deadline).toBeLessThanOrEqual(5);
      expect(err.details).not.toContain(queuedIdentity.clientsecret);
    }
    // The holder had started: its answer still names the vault that stalled, not the queue.
    const held = await holder;
    expect(held.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(held.details).toContain(`Key Vault ${STALLED_VAULT} (`);
    expect(held.details).not.toContain('admission queue');
    const metrics = gateMetrics(await starved.metrics());
    expect(metrics.waiting).toBe(0);
    expect(metrics.admissions).toEqual({
      immediate: 1,
      queued: 0,
      spare_cpu: 0,
      lease: 0,
      overflow: 0,
      off: 0,
    });
    expect([metrics.waits('admitted'), metrics.waits('deadline'), metrics.waits('cancelled')]).toEqual([
      1, 3, 0,
    ]);
    expect(metrics.waitSum('deadline')).toBeGreaterThan(3 * 3);
    expect([metrics.waitBucket('deadline', '2.5'), metrics.waitBucket('deadline', '5')]).toEqual([0, 3]);
    const logs = starved.logs.join('\n');
    for (const secret of [queuedIdentity.clientsecret, holderIdentity.clientsecret])
      expect(logs).not.toContain(secret);
    expect(
      starved.logs.filter((l) => l.includes('admission queue') && l.includes('request failed')),
    ).toHaveLength(3);
  });
});
