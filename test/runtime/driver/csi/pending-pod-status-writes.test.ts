// The SPCPS writes the node server owes after answering, on a real PodStatusWriter and a real journal
// directory, with a store that answers as the API server does when it is away (transport errors, 503),
// refuses for good (403, 422), or accepts. The rig tests (node-server-pod-status.rig.test.ts,
// faults.rig.test.ts) do the same against the real kube-apiserver behind the fault proxy.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KubeApiError } from '../../../../runtime/driver/cluster/kube/kube-api-error';
import type { SecretProviderClassPodStatus } from '../../../../runtime/driver/cluster/kube/kube-types';
import { PodStatusJournal } from '../../../../runtime/driver/cluster/pod-status-journal';
import { PodStatusWriter, PublishedStatus } from '../../../../runtime/driver/cluster/pod-status-writer';
import type { PodStatusStore } from '../../../../runtime/driver/cluster/ports';
import {
  isRefusedForGood,
  PendingPodStatusWrites,
} from '../../../../runtime/driver/csi/pending-pod-status-writes';

const UID = 'a1b2c3d4-0000-4000-8000-000000000001';
const TARGET = `/var/lib/kubelet/pods/${UID}/volumes/kubernetes.io~csi/secrets-store/mount`;

function status(version = 'v1', targetPath = TARGET): PublishedStatus {
  return {
    pod: { namespace: 'shop', name: 'web-0', uid: UID },
    spcName: 'db',
    targetPath,
    objectVersions: [{ id: 'secret/db-password', version }],
    remount: false,
  };
}

const unavailable = () => new KubeApiError('POST', '/spcps', 0, 'Unknown', 'connect ECONNREFUSED');

/** A PodStatusStore whose next answers the test scripts; it records every write it accepts. */
class ScriptedStore implements PodStatusStore {
  readonly accepted: SecretProviderClassPodStatus[] = [];
  attempts = 0;
  failWith: Array<() => Error> = [];
  async createOrUpdate(podStatus: SecretProviderClassPodStatus): Promise<void> {
    this.attempts++;
    const fail = this.failWith.shift();
    await new Promise((resolve) => setImmediate(resolve));
    if (fail) throw fail();
    this.accepted.push(podStatus);
  }
  async deleteForTargetPath(): Promise<void> {}
}

/** The node server's per-path lock, as small as it gets. */
function pathLock(): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const locks = new Map<string, Promise<unknown>>();
  return (key, fn) => {
    const run = (locks.get(key) ?? Promise.resolve()).then(fn, fn);
    locks.set(
      key,
      run.catch(() => undefined),
    );
    return run;
  };
}

/** Polls `check` every few ms, at most 5 s. */
async function waitFor(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The real writer over `store`; save never reads the pod. */
function podStatusWriter(store: ScriptedStore): PodStatusWriter {
  return new PodStatusWriter({
    store,
    pods: { getPod: () => Promise.reject(new Error('not read by save')) },
    nodeId: 'node-a',
    driverName: 'secrets-store.csi.k8s.io',
  });
}

describe('PendingPodStatusWrites', () => {
  let root: string;
  let journal: PodStatusJournal;
  let store: ScriptedStore;
  let log: string[];
  let writes: PendingPodStatusWrites;
  let serialized: <T>(key: string, fn: () => Promise<T>) => Promise<T>;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pending-spcps-'));
    journal = new PodStatusJournal({ dir: path.join(root, 'journal') });
    store = new ScriptedStore();
    log = [];
    serialized = pathLock();
    writes = new PendingPodStatusWrites({
      writer: podStatusWriter(store),
      journal,
      serialized,
      initialBackoffMs: 10,
      maxBackoffMs: 40,
      onRetry: (s, err, failures, retryInMs) => log.push(`retry ${failures} in ${retryInMs}`),
      onGaveUp: (s, err) => log.push(`gave up: ${(err as Error).message}`),
      onFollowUpFailed: (s, err) => log.push(`follow-up failed: ${(err as Error).message}`),
      onJournalNotCleaned: (t, err) => log.push(`journal: ${(err as Error).message}`),
    });
  });

  afterEach(() => {
    writes.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** What the node server does at a publish: journal entry first, then the write is owed. */
  function owe(s: PublishedStatus, written: () => Promise<void> = async () => undefined): void {
    journal.record(s);
    writes.submit({ status: s, written });
  }

  it('writes after the current turn, runs the follow-up only once the SPCPS exists, and deletes the entry', async () => {
    const seenBySync: number[] = [];
    owe(status(), async () => {
      seenBySync.push(store.accepted.length);
    });
    expect(store.attempts).toBe(0); // nothing before the answer
    expect(writes.has(TARGET)).toBe(true);
    await writes.idle();
    expect(store.accepted.map((p) => p.status?.objects)).toEqual([
      [{ id: 'secret/db-password', version: 'v1' }],
    ]);
    expect(seenBySync).toEqual([1]);
    expect(fs.existsSync(journal.fileOf(TARGET))).toBe(false);
    expect(writes.has(TARGET)).toBe(false);
  });

  it('retries a write the API server could not take with doubling, bounded delays, keeping the entry until it lands', async () => {
    store.failWith = [
      unavailable,
      unavailable,
      unavailable,
      () => new KubeApiError('POST', '/spcps', 503, 'ServiceUnavailable', 'x'),
    ];
    let synced = 0;
    owe(status(), async () => {
      synced++;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(fs.existsSync(journal.fileOf(TARGET))).toBe(true);
    await writes.idle();
    expect(log).toEqual(['retry 1 in 10', 'retry 2 in 20', 'retry 3 in 40', 'retry 4 in 40']);
    expect(store.attempts).toBe(5);
    expect(store.accepted).toHaveLength(1);
    expect(synced).toBe(1);
    expect(fs.existsSync(journal.fileOf(TARGET))).toBe(false);
  });

  it.each([
    [403, 'Forbidden'],
    [422, 'Invalid'],
  ])('gives up on a %d (%s) at once: reported, entry deleted, no sync', async (code, reason) => {
    store.failWith = [() => new KubeApiError('POST', '/spcps', code, reason, 'refused')];
    let synced = 0;
    owe(status(), async () => {
      synced++;
    });
    await writes.idle();
    expect(store.attempts).toBe(1);
    expect(log).toEqual([`gave up: kubernetes POST /spcps: ${code} ${reason}: refused`]);
    expect(synced).toBe(0);
    expect(fs.existsSync(journal.fileOf(TARGET))).toBe(false);
  });

  it('stops retrying and deletes the entry when the volume is unpublished', async () => {
    store.failWith = Array.from({ length: 100 }, () => unavailable);
    let synced = 0;
    owe(status(), async () => {
      synced++;
    });
    await new Promise((resolve) => setTimeout(resolve, 60));
    const attempts = store.attempts;
    expect(attempts).toBeGreaterThan(1);
    await serialized(TARGET, async () => writes.cancel(TARGET)); // NodeUnpublishVolume, under the lock
    await writes.idle();
    await new Promise((resolve) => setTimeout(resolve, 100)); // longer than the longest backoff
    expect(store.attempts).toBe(attempts);
    expect(store.accepted).toEqual([]);
    expect(synced).toBe(0);
    expect(fs.existsSync(journal.fileOf(TARGET))).toBe(false);
  });

  it('writes only the newest of writes owed for one path, and runs only its follow-up', async () => {
    store.failWith = [unavailable];
    const followUps: string[] = [];
    owe(status('v1'), async () => void followUps.push('v1'));
    await new Promise((resolve) => setTimeout(resolve, 2)); // the first attempt failed, a retry waits
    owe(status('v2'), async () => void followUps.push('v2'));
    await writes.idle();
    expect(store.accepted.map((p) => p.status?.objects?.[0]?.version)).toEqual(['v2']);
    expect(followUps).toEqual(['v2']);
  });

  it('tries at once when a newer publish comes while a retry waits (not after the waiting delay)', async () => {
    const patient = new PendingPodStatusWrites({
      writer: podStatusWriter(store),
      journal,
      serialized,
      initialBackoffMs: 20_000,
      onRetry: (s, err, failures, retryInMs) => log.push(`retry ${failures} in ${retryInMs}`),
      onGaveUp: () => undefined,
      onFollowUpFailed: () => undefined,
      onJournalNotCleaned: () => undefined,
    });
    try {
      store.failWith = [unavailable];
      journal.record(status('v1'));
      patient.submit({ status: status('v1'), written: async () => undefined });
      await waitFor(() => log.length === 1);
      expect(log).toEqual(['retry 1 in 20000']);
      journal.record(status('v2'));
      patient.submit({ status: status('v2'), written: async () => undefined });
      await patient.idle(); // well before 20 s
      expect(store.accepted.map((p) => p.status?.objects?.[0]?.version)).toEqual(['v2']);
    } finally {
      patient.stop();
    }
  });

  it('never runs a write concurrently with other work on the same path (the lock)', async () => {
    let releaseLock!: () => void;
    const held = serialized(TARGET, () => new Promise<void>((resolve) => (releaseLock = resolve)));
    owe(status());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.attempts).toBe(0); // a publish or unpublish of the path holds the lock
    releaseLock();
    await held;
    await writes.idle();
    expect(store.accepted).toHaveLength(1);
  });

  it('keeps the entry for the next start when stopped with a write still owed', async () => {
    store.failWith = Array.from({ length: 100 }, () => unavailable);
    owe(status());
    await new Promise((resolve) => setTimeout(resolve, 30));
    writes.stop();
    const attempts = store.attempts;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(store.attempts).toBe(attempts);
    expect(journal.readAll()).toEqual([
      { pod: status().pod, spcName: 'db', targetPath: TARGET, objectVersions: status().objectVersions },
    ]);
  });

  it('reports a follow-up that failed and is idle afterwards', async () => {
    owe(status(), () => Promise.reject(new Error('spc gone')));
    await writes.idle();
    expect(log).toEqual(['follow-up failed: spc gone']);
  });
});

describe('isRefusedForGood', () => {
  it.each([
    [400, true],
    [403, true],
    [404, true],
    [422, true],
    [401, false],
    [408, false],
    [409, false],
    [429, false],
    [500, false],
    [503, false],
    [0, false],
  ])('%d → %s, also when wrapped', (code, expected) => {
    const err = new KubeApiError('POST', '/x', code, 'R', 'm');
    expect(isRefusedForGood(err)).toBe(expected);
    expect(isRefusedForGood(new Error('wrapped', { cause: err }))).toBe(expected);
  });

  it('retries what is not an API answer', () => {
    expect(isRefusedForGood(new Error('socket hang up'))).toBe(false);
  });
});
