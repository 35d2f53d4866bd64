// A bad day for the node: the driver process (build/runtime/cli.js) against the real kube-apiserver
// through a fault proxy on loopback (harness/rig/apiserver-fault-proxy.ts): the apiserver down at start,
// down mid-run, slow, 429 with Retry-After, 5xx, 410 Gone on every watch; then the provider crashing and
// coming back, and the driver restarting, both with live mounts. For each: what the pod sees (kubelet's
// NodePublish/NodeUnpublish answers), that mounted content and synced Secrets stay at the last good
// version, and that the node recovers without a restart. docs/security.md (## Driver) has the table.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { KubeClient } from '../../../runtime/driver/cluster/kube/kube-client';
import { loadKubeConfigFile } from '../../../runtime/driver/cluster/kube/kube-config';
import {
  CSI_DRIVERS,
  NAMESPACES,
  SECRET_PROVIDER_CLASS_POD_STATUSES,
  SECRETS,
} from '../../../runtime/driver/cluster/kube/kube-resources';
import type { Pod, Secret } from '../../../runtime/driver/cluster/kube/kube-types';
import { API_UNAVAILABLE_HINT } from '../../../runtime/driver/csi/publish-error';
import { readMountPoints } from '../../../runtime/driver/volume/mounter';
import { ApiserverFaultProxy, ApiFault } from '../../../harness/rig/apiserver-fault-proxy';
import { rig } from '../../../harness/rig/rig-env';
import {
  canMount,
  grpcError,
  notRunWithoutRoot,
  publishRequest,
  removeTestRoot,
} from './support/driver-harness';
import { DriverProcess, ourDriverCommand } from './support/driver-process';
import {
  createPodWithSecretsStoreVolumes,
  createSecretProviderClass,
  createTestCsiDriver,
  eventually,
  writtenPodStatus,
} from './support/kube-test-support';
import { ScriptedProvider } from './support/scripted-provider';

const NS = `faults-${process.pid}`;
const DRIVER_NAME = `faults-${process.pid}.secrets-store.test`;
/** Rotation poll interval of the driver: a republish after it asks the provider again. */
const POLL_MS = 1000;
const maybe = canMount('faults.rig.test.ts') ? describe : notRunWithoutRoot;

interface Volume {
  readonly spc: string;
  readonly pod: { name: string; namespace: string; uid: string };
  readonly target: string;
}

/** One row of the fault table (written to the tmpdir for docs/security.md). */
interface FaultRow {
  fault: string;
  podSaw: string;
  kept: string;
}

maybe('the driver on a bad day (real apiserver behind a fault proxy)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'driver-faults-'));
  const providerDir = path.join(root, 'providers');
  let proxy: ApiserverFaultProxy;
  let kube: KubeClient; // the test's own client, straight to the apiserver
  let kubeconfig: string;
  let driver: DriverProcess;
  let provider: ScriptedProvider;
  /** The value the provider returns per SPC (its version too). */
  const values = new Map<string, string>();
  const table: FaultRow[] = [];
  let pods = 0;

  const targetFor = (uid: string) =>
    path.join(root, 'kubelet', 'pods', uid, 'volumes', 'kubernetes.io~csi', 'secrets-store', 'mount');
  const mounted = (target: string) => readMountPoints('/proc/self/mountinfo').has(target);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const content = (v: Volume) => fs.readFileSync(path.join(v.target, 'password'), 'utf8');

  function startProvider(): Promise<void> {
    provider = new ScriptedProvider(providerDir, 'scripted');
    provider.answer = (request) => {
      const spc = (JSON.parse(request.attributes) as Record<string, string>).secretProviderClass;
      const value = values.get(spc) ?? 'unset';
      return {
        files: [{ path: 'password', mode: 0o644, contents: value }],
        objectVersions: [{ id: 'secret/password', version: value }],
      };
    };
    return provider.start();
  }

  function startDriver(): Promise<DriverProcess> {
    return DriverProcess.start({
      name: 'ours',
      ...ourDriverCommand(),
      providerDir,
      kubeconfig,
      extraArgs: [
        `--drivername=${DRIVER_NAME}`,
        '--enable-secret-rotation=true',
        `--rotation-poll-interval=${POLL_MS / 1000}s`,
      ],
    });
  }

  /** An SPC of its own per scenario, syncing a Secret of the same name. */
  async function scenarioSpc(name: string, value: string): Promise<void> {
    values.set(name, value);
    await createSecretProviderClass(kube, NS, name, {
      provider: 'scripted',
      parameters: { objects: 'array:\n  - |\n    objectName: password\n' },
      secretObjects: [{ secretName: name, type: 'Opaque', data: [{ objectName: 'password', key: 'pw' }] }],
    });
  }

  async function newVolume(spc: string): Promise<Volume> {
    const pod: Pod = await createPodWithSecretsStoreVolumes(kube, NS, `p-${++pods}`, spc, ['secrets-store'], {
      driver: DRIVER_NAME,
    });
    const ref = { name: pod.metadata.name!, namespace: NS, uid: pod.metadata.uid! };
    return { spc, pod: ref, target: targetFor(ref.uid) };
  }

  const publish = (v: Volume) =>
    driver.publish(publishRequest({ targetPath: v.target, spc: v.spc, pod: v.pod }));

  /** A volume mounted and its Secret synced with the SPC's current value. */
  async function liveVolume(spc: string): Promise<Volume> {
    const v = await newVolume(spc);
    await publish(v);
    await eventually(`Secret ${spc} synced`, async () => (await syncedValue(spc)) === values.get(spc));
    return v;
  }

  async function syncedValue(name: string): Promise<string | undefined> {
    const secret = await kube.get<Secret>(SECRETS, name, NS).catch(() => undefined);
    const pw = secret?.data?.pw;
    return pw === undefined ? undefined : Buffer.from(pw, 'base64').toString('utf8');
  }

  /** kubelet's republish once the poll interval has passed (the provider is asked again). */
  async function republish(v: Volume): Promise<void> {
    await sleep(POLL_MS + 100);
    await publish(v);
  }

  /** A new pod's first mount fails while the apiserver cannot answer: retryable, nothing left mounted. */
  async function newPodIsRefusedRetryably(spc: string): Promise<string> {
    const v = { spc, pod: { name: `never-${++pods}`, namespace: NS, uid: `uid-never-${pods}` }, target: '' };
    const target = targetFor(v.pod.uid);
    const err = await grpcError(driver.publish(publishRequest({ targetPath: target, spc, pod: v.pod })));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toContain(API_UNAVAILABLE_HINT);
    expect(mounted(target)).toBe(false);
    return `${grpc.status[err.code]}: ${err.details.slice(0, 160)}...`;
  }

  /** Only the SPCPS writes answered 503: everything else the apiserver answers. */
  const SPCPS_WRITES_REFUSED: ApiFault = {
    kind: 'status',
    status: 503,
    only: { pathIncludes: '/secretproviderclasspodstatuses', methods: ['POST', 'PUT'] },
  };
  const refusedSpcpsWrites = (since: number) =>
    proxy.received(
      since,
      (r) => r.path.includes('/secretproviderclasspodstatuses') && r.answeredBy === 'fault',
    ).length;
  const journalEntries = (d: DriverProcess): string[] => {
    const dir = path.join(d.dir, 'pod-status-journal');
    return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  };
  const podStatusOf = (v: Volume) =>
    kube.get(SECRET_PROVIDER_CLASS_POD_STATUSES, `${v.pod.name}-${NS}-${v.spc}`, NS).then(
      () => true,
      (e: { reason?: string }) => (e.reason === 'NotFound' ? false : Promise.reject(e)),
    );

  /** Requests per second the proxy saw over `ms` under `fault` (no tight retry loop). */
  async function requestRate(fault: ApiFault, ms: number): Promise<number> {
    await proxy.setFault(fault);
    const since = Date.now();
    await sleep(ms);
    return proxy.received(since).length / (ms / 1000);
  }

  beforeAll(async () => {
    fs.mkdirSync(providerDir);
    const r = rig();
    kube = new KubeClient(loadKubeConfigFile(r.kubeconfig));
    proxy = await ApiserverFaultProxy.start(r);
    kubeconfig = proxy.writeKubeconfig(root);
    await kube.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await createTestCsiDriver(kube, DRIVER_NAME, { audiences: [] });
    await startProvider();
    driver = await startDriver();
  }, 90_000);

  afterAll(async () => {
    if (table.length > 0)
      fs.writeFileSync(
        path.join(os.tmpdir(), 'aks-secrets-store-driver-faults.json'),
        JSON.stringify(table, null, 2),
      );
    await driver?.stop();
    await provider?.stop();
    await proxy?.close();
    await kube?.delete(NAMESPACES, NS).catch(() => undefined);
    await kube?.delete(CSI_DRIVERS, DRIVER_NAME).catch(() => undefined);
    kube?.close();
    await removeTestRoot(root);
  });

  afterEach(async () => {
    await proxy.setFault({ kind: 'none' });
  });

  it('apiserver down at start: CSI is served, NodeUnpublish works, NodePublish is retryable, then it recovers', async () => {
    await scenarioSpc('at-start', 'start-v1');
    await proxy.setFault({ kind: 'down' });
    const second = await DriverProcess.start({
      name: 'ours',
      ...ourDriverCommand(),
      providerDir,
      kubeconfig,
      nodeId: 'node-at-start',
      extraArgs: [`--drivername=${DRIVER_NAME}`],
    });
    try {
      expect(await second.call(second.identity, 'Probe', {})).toBeDefined();
      await second.unpublish({ volume_id: 'v', target_path: targetFor('never-mounted') });
      const v = await newVolume('at-start');
      const err = await grpcError(
        second.publish(publishRequest({ targetPath: v.target, spc: v.spc, pod: v.pod })),
      );
      expect(err.code).toBe(grpc.status.UNAVAILABLE);
      expect(err.details).toContain(API_UNAVAILABLE_HINT);
      expect(mounted(v.target)).toBe(false);
      await proxy.setFault({ kind: 'none' });
      await eventually(
        'the mount to succeed once the apiserver is back',
        () =>
          second.publish(publishRequest({ targetPath: v.target, spc: v.spc, pod: v.pod })).then(() => true),
        60_000,
      );
      expect(content(v)).toBe('start-v1');
      await second.unpublish({ volume_id: 'v', target_path: v.target });
      table.push({
        fault: 'apiserver down at driver start',
        podSaw: `CSI served at once (Probe, NodeUnpublish OK); NodePublish ${grpc.status[err.code]} "...${API_UNAVAILABLE_HINT.slice(0, 40)}..." until it is back, then OK`,
        kept: 'nothing mounted half-way; no crash, no restart needed',
      });
    } finally {
      await second.stop();
    }
  }, 120_000);

  it('apiserver down mid-run: live mounts keep working and rotating, unpublish works, new mounts are retryable, sync catches up', async () => {
    await scenarioSpc('down', 'down-v1');
    const live = await liveVolume('down');
    const other = await liveVolume('down');
    // Rotation without the apiserver reads the SPC from the driver's watch cache: the earlier 'down at
    // start' cut the watch, which may still be backing off (up to 30 s) and not have seen this SPC yet.
    await eventually(
      'the driver watching SecretProviderClasses again',
      async () => proxy.hasOpenWatch('/secretproviderclasses'),
      60_000,
    );
    await sleep(500); // an event for the SPC created just before the watch reopened is streamed by now
    await proxy.setFault({ kind: 'down' });
    values.set('down', 'down-v2');
    await republish(live); // kubelet's republish: OK, the provider does not need the apiserver
    expect(content(live)).toBe('down-v2');
    expect(await syncedValue('down')).toBe('down-v1'); // the last good Secret stays (nothing deleted)
    const refused = await newPodIsRefusedRetryably('down');
    await driver.unpublish({ volume_id: 'v', target_path: other.target }); // never needs the apiserver
    expect(fs.existsSync(other.target)).toBe(false);
    await proxy.setFault({ kind: 'none' });
    await republish(live);
    await eventually(
      'the Secret to catch up with the mounted content',
      async () => (await syncedValue('down')) === 'down-v2',
      30_000,
    );
    const after = await newVolume('down');
    await eventually('a new mount once the apiserver is back', () => publish(after).then(() => true), 60_000);
    expect(content(after)).toBe('down-v2');
    table.push({
      fault: 'apiserver down mid-run (connections refused, watches cut)',
      podSaw: `republish of a live volume OK (content rotated from the provider); NodeUnpublish OK; a new pod: ${refused.split(':')[0]} with the "API server is unreachable" hint, kubelet retries`,
      kept: "mounted content (rotated to the provider's new version); synced Secret at the last good version (down-v1) until the API server is back, then caught up (down-v2)",
    });
  }, 180_000);

  it('apiserver slow (2.5 s per request): mounts and sync still succeed, slower', async () => {
    await scenarioSpc('slow', 'slow-v1');
    const live = await liveVolume('slow');
    await proxy.setFault({ kind: 'slow', delayMs: 2500 });
    values.set('slow', 'slow-v2');
    await republish(live);
    expect(content(live)).toBe('slow-v2');
    const v = await newVolume('slow');
    await publish(v);
    expect(content(v)).toBe('slow-v2');
    await eventually(
      'the Secret synced through the slow apiserver',
      async () => (await syncedValue('slow')) === 'slow-v2',
      60_000,
    );
    table.push({
      fault: 'apiserver slow (every request held 2.5 s)',
      podSaw: 'NodePublish OK (slower); republish OK',
      kept: 'content and Secret follow the provider (slow-v2); nothing failed',
    });
  }, 180_000);

  it.each([
    ['429 with Retry-After: 2', { kind: 'status', status: 429, retryAfterSeconds: 2 } as const],
    ['503 Service Unavailable', { kind: 'status', status: 503 } as const],
    ['500 Internal Server Error', { kind: 'status', status: 500 } as const],
  ])(
    'apiserver answers %s: live mounts kept, new mounts retryable, no retry storm',
    async (what, fault) => {
      const spc = `status-${fault.status}`;
      await scenarioSpc(spc, `${spc}-v1`);
      const live = await liveVolume(spc);
      const rate = await requestRate(fault, 6000);
      // Three watchers (SPCs, the CSIDriver, managed Secrets) backing off: a handful per second at most.
      expect(rate).toBeLessThan(5);
      await republish(live);
      expect(content(live)).toBe(`${spc}-v1`);
      expect(await syncedValue(spc)).toBe(`${spc}-v1`);
      const refused = await newPodIsRefusedRetryably(spc);
      await proxy.setFault({ kind: 'none' });
      const v = await newVolume(spc);
      await eventually(
        'a new mount once the apiserver answers again',
        () => publish(v).then(() => true),
        60_000,
      );
      table.push({
        fault: `apiserver answers ${what} to every request`,
        podSaw: `republish of a live volume OK; a new pod: ${refused.split(':')[0]} with the hint, OK once it answers; ${rate.toFixed(1)} requests/s to the apiserver meanwhile`,
        kept: 'mounted content and synced Secret at the last good version',
      });
    },
    180_000,
  );

  it('410 Gone on every watch: the driver re-lists (no loop), and keeps serving', async () => {
    await scenarioSpc('gone', 'gone-v1');
    const since = Date.now();
    await proxy.setFault({ kind: 'gone-on-watch' }); // open watches are cut, so they come back
    const isSpcs = (r: { path: string }) => r.path.endsWith('/secretproviderclasses');
    // A backoff left from the faults before may delay the next watch: wait for it, then for a LIST.
    const gone = await eventually(
      'an SPC watch answered 410',
      async () => proxy.received(since, (r) => isSpcs(r) && r.watch && r.answeredBy === 'fault')[0],
      60_000,
    );
    await eventually(
      'a re-list after the 410',
      async () => proxy.received(gone.at, (r) => isSpcs(r) && !r.watch).length > 0,
      30_000,
    );
    const rate = await requestRate({ kind: 'gone-on-watch' }, 6000);
    expect(rate).toBeLessThan(10);
    const v = await newVolume('gone');
    await publish(v);
    expect(content(v)).toBe('gone-v1');
    table.push({
      fault: 'apiserver answers every watch with 410 Gone (Expired)',
      podSaw: 'NodePublish OK throughout',
      kept: `watch caches re-list after each 410 (${rate.toFixed(1)} requests/s, no tight loop)`,
    });
  }, 120_000);

  it('provider crash and restart with live mounts: content kept, new mounts fail until it is back, no driver restart', async () => {
    await scenarioSpc('crash', 'crash-v1');
    const live = await liveVolume('crash');
    await provider.stop(); // its socket is gone
    values.set('crash', 'crash-v2');
    await republish(live); // OK to kubelet, the last good content stays
    expect(content(live)).toBe('crash-v1');
    expect(await syncedValue('crash')).toBe('crash-v1');
    const fresh = await newVolume('crash');
    const err = await grpcError(publish(fresh));
    expect(err.code).toBe(grpc.status.UNKNOWN);
    expect(err.details).toContain('failed to mount secrets store objects for pod');
    expect(mounted(fresh.target)).toBe(false);
    await startProvider();
    await republish(live);
    expect(content(live)).toBe('crash-v2');
    await publish(fresh);
    expect(content(fresh)).toBe('crash-v2');
    await eventually(
      'the Secret to follow the new version',
      async () => (await syncedValue('crash')) === 'crash-v2',
    );
    table.push({
      fault: 'provider crash (socket gone), then restart',
      podSaw: `republish OK (content kept); a new pod: ${grpc.status[err.code]} "failed to mount secrets store objects..." until the provider is back, then OK`,
      kept: 'mounted content and synced Secret at crash-v1 during the crash; crash-v2 after the restart, without restarting the driver',
    });
  }, 120_000);

  it('apiserver refuses SPCPS writes (503): the mount succeeds at once, the SPCPS and the synced Secret follow once it answers', async () => {
    await scenarioSpc('spcps-refused', 'refused-v1');
    await proxy.setFault(SPCPS_WRITES_REFUSED);
    const since = Date.now();
    const v = await newVolume('spcps-refused');
    await publish(v); // upstream fails this call with FailedToCreatePodStatus
    expect(content(v)).toBe('refused-v1');
    await eventually('the SPCPS write retried', async () => refusedSpcpsWrites(since) >= 2, 30_000);
    expect(await podStatusOf(v)).toBe(false);
    expect(journalEntries(driver)).toHaveLength(1); // the write owed, for a restart
    // The synced Secret of a bare pod is owned by its SPCPS: no sync before the SPCPS exists.
    expect(await syncedValue('spcps-refused')).toBeUndefined();
    await proxy.setFault({ kind: 'none' });
    const written = await writtenPodStatus(kube, NS, `${v.pod.name}-${NS}-spcps-refused`, () => true, 45_000);
    expect(written.status?.objects).toEqual([{ id: 'secret/password', version: 'refused-v1' }]);
    await eventually(
      'the Secret synced after its SPCPS',
      async () => (await syncedValue('spcps-refused')) === 'refused-v1',
    );
    const secret = await kube.get<Secret>(SECRETS, 'spcps-refused', NS);
    expect(secret.metadata.ownerReferences?.map((o) => o.uid)).toEqual([written.metadata.uid]);
    expect(journalEntries(driver)).toEqual([]);
    await driver.unpublish({ volume_id: 'v', target_path: v.target });
    table.push({
      fault: 'apiserver refuses every SPCPS write (503)',
      podSaw: 'NodePublish OK at once (upstream: FailedToCreatePodStatus, kubelet retries)',
      kept: `the write owed in the journal, retried with backoff (${refusedSpcpsWrites(since)} refused); SPCPS, then the synced Secret, once the apiserver takes it`,
    });
  }, 120_000);

  it('driver restart while an SPCPS write is owed: the new process writes it from the journal, then syncs', async () => {
    await scenarioSpc('journal', 'journal-v1');
    const pluginDir = path.join(root, 'plugin-journal');
    const start = () =>
      DriverProcess.start({
        name: 'ours',
        ...ourDriverCommand(),
        providerDir,
        kubeconfig,
        nodeId: 'node-journal',
        pluginDir,
        extraArgs: [`--drivername=${DRIVER_NAME}`],
      });
    await proxy.setFault(SPCPS_WRITES_REFUSED);
    let second = await start();
    try {
      const v = await newVolume('journal');
      await second.publish(publishRequest({ targetPath: v.target, spc: v.spc, pod: v.pod }));
      expect(journalEntries(second)).toHaveLength(1);
      expect(await second.stop()).toBe(0); // waits up to 5 s for the write, then leaves it to the journal
      expect(mounted(v.target)).toBe(true);
      expect(journalEntries(second)).toHaveLength(1);
      expect(await podStatusOf(v)).toBe(false);
      second = await start();
      expect(second.logs).toContain('secretproviderclasspodstatus writes resumed from the journal');
      await proxy.setFault({ kind: 'none' });
      const written = await writtenPodStatus(kube, NS, `${v.pod.name}-${NS}-journal`, () => true, 45_000);
      expect(written.metadata.labels).toEqual({
        'internal.secrets-store.csi.k8s.io/node-name': 'node-journal',
      });
      expect(written.status?.targetPath).toBe(v.target);
      await eventually(
        'the Secret synced by the new process',
        async () => (await syncedValue('journal')) === 'journal-v1',
      );
      expect(journalEntries(second)).toEqual([]);
      await second.unpublish({ volume_id: 'v', target_path: v.target });
      table.push({
        fault: 'driver restart (SIGTERM) while the SPCPS write is refused',
        podSaw: 'NodePublish OK; the tmpfs stays mounted across the restart',
        kept: 'the write owed, in the journal beside the CSI socket; the new process writes the SPCPS once the apiserver takes it, then syncs the Secret',
      });
    } finally {
      await second.stop();
      fs.rmSync(pluginDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('driver restart with live mounts: content stays mounted, sync rebuilt from the SPCPS, rotation and unpublish work', async () => {
    await scenarioSpc('restart', 'restart-v1');
    const live = await liveVolume('restart');
    expect(await driver.stop()).toBe(0);
    expect(mounted(live.target)).toBe(true); // a driver rollout never unmounts a pod's volume
    expect(content(live)).toBe('restart-v1');
    driver = await startDriver();
    // The new process never saw the publish: it finds the volume again from its SPCPS.
    await kube.delete(SECRETS, 'restart', { namespace: NS });
    await eventually(
      'the deleted synced Secret re-created by the new driver',
      async () => (await syncedValue('restart')) === 'restart-v1',
      60_000,
    );
    values.set('restart', 'restart-v2');
    await republish(live);
    expect(content(live)).toBe('restart-v2');
    await eventually(
      'the Secret to follow the rotation',
      async () => (await syncedValue('restart')) === 'restart-v2',
    );
    await driver.unpublish({ volume_id: 'v', target_path: live.target });
    expect(fs.existsSync(live.target)).toBe(false);
    await eventually('the SPCPS deleted after unpublish', () =>
      kube.get(SECRET_PROVIDER_CLASS_POD_STATUSES, `${live.pod.name}-${NS}-restart`, NS).then(
        () => false,
        (e: { reason?: string }) => e.reason === 'NotFound',
      ),
    );
    table.push({
      fault: 'driver restart (SIGTERM, new process) with a live mount',
      podSaw:
        'nothing: the tmpfs stays mounted and readable; the next republish rotates it; NodeUnpublish by the new process OK',
      kept: 'content restart-v1 across the restart; the synced Secret, deleted meanwhile, re-created by the new process from the SPCPS',
    });
  }, 180_000);
});
