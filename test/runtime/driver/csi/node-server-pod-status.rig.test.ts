// NodePublishVolume answers before its SecretProviderClassPodStatus is written, and never loses that
// write: the driver's node server through its real CSI socket, real tmpfs, a real provider socket, the
// production cluster bindings against the real kube-apiserver behind the rig's fault proxy, which holds
// or refuses the SPCPS writes only. A second client goes straight to the apiserver to look.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ApiFault, ApiserverFaultProxy } from '../../../../harness/rig/apiserver-fault-proxy';
import { rig } from '../../../../harness/rig/rig-env';
import {
  EVENTS,
  NAMESPACES,
  SECRET_PROVIDER_CLASS_POD_STATUSES,
} from '../../../../runtime/driver/cluster/kube/kube-resources';
import type { KubeEvent, Pod } from '../../../../runtime/driver/cluster/kube/kube-types';
import type { PublishedVolume } from '../../../../runtime/driver/csi/node-server';
import { Mounter } from '../../../../runtime/driver/volume/mounter';
import { ClusterBindings } from '../support/cluster-bindings';
import {
  DriverHarness,
  canMount,
  grpcError,
  notRunWithoutRoot,
  publishRequest,
} from '../support/driver-harness';
import {
  createPodWithSecretsStoreVolumes,
  createSecretProviderClass,
  eventually,
  writtenPodStatus,
} from '../support/kube-test-support';
import { ScriptedProvider } from '../support/scripted-provider';

const NS = `spcps-bg-${process.pid}`;
const SECRET_VALUE = 'spcps-bg-secret-DO-NOT-LOG';
const maybe = canMount('node-server-pod-status.rig.test.ts') ? describe : notRunWithoutRoot;

const SPCPS_PATH = '/secretproviderclasspodstatuses';
const held = (delayMs: number): ApiFault => ({
  kind: 'slow',
  delayMs,
  only: { pathIncludes: SPCPS_PATH, methods: ['POST', 'PUT'] },
});
const refused = (status: number): ApiFault => ({
  kind: 'status',
  status,
  only: { pathIncludes: SPCPS_PATH, methods: ['POST', 'PUT'] },
});

maybe('the SPCPS written after NodePublishVolume answers (real kube-apiserver behind a fault proxy)', () => {
  let proxy: ApiserverFaultProxy;
  let direct: ClusterBindings; // straight to the apiserver: what the test looks at
  let viaProxy: ClusterBindings; // what the driver uses
  let h: DriverHarness;
  let provider: ScriptedProvider;
  let pods = 0;
  let kubeconfigDir: string | undefined;
  /** Per onPublished call (the secret-sync hook): the volume and whether its SPCPS existed then. */
  const synced: Array<{ volume: PublishedVolume; podStatusExisted: boolean }> = [];

  const podStatusName = (pod: Pod) => `${pod.metadata.name}-${NS}-spc`;
  const podStatusExists = (name: string) =>
    direct.kube.get(SECRET_PROVIDER_CLASS_POD_STATUSES, name, NS).then(
      () => true,
      (e: { reason?: string }) => (e.reason === 'NotFound' ? false : Promise.reject(e)),
    );
  const journalFiles = () => (fs.existsSync(h.journalDir) ? fs.readdirSync(h.journalDir) : []);
  const podRef = (pod: Pod) => ({ name: pod.metadata.name!, namespace: NS, uid: pod.metadata.uid! });

  async function newPod(): Promise<{ pod: Pod; target: string; request: ReturnType<typeof publishRequest> }> {
    const pod = await createPodWithSecretsStoreVolumes(direct.kube, NS, `bg-${++pods}`, 'spc', [
      'secrets-store',
    ]);
    const target = h.targetPath(pod.metadata.uid!);
    return { pod, target, request: publishRequest({ targetPath: target, spc: 'spc', pod: podRef(pod) }) };
  }

  /** Refused SPCPS writes the proxy answered itself since `since`. */
  const refusals = (since: number) =>
    proxy.received(since, (r) => r.path.includes(SPCPS_PATH) && r.answeredBy === 'fault').length;

  beforeAll(async () => {
    const r = rig();
    proxy = await ApiserverFaultProxy.start(r);
    direct = new ClusterBindings();
    await direct.kube.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await createSecretProviderClass(direct.kube, NS, 'spc', {
      provider: 'scripted',
      parameters: { objects: 'array:\n  - |\n    objectName: db-password\n' },
    });
    viaProxy = new ClusterBindings(
      proxy.writeKubeconfig(fs.mkdtempSync(path.join(os.tmpdir(), 'spcps-bg-'))),
    );
    await viaProxy.start();
    h = new DriverHarness({
      ...viaProxy,
      podStatusRetry: { initialMs: 100, maxMs: 400 },
      onPublished: async (volume) => {
        synced.push({
          volume,
          podStatusExisted: await podStatusExists(`${volume.pod.name}-${NS}-${volume.spc.metadata.name}`),
        });
      },
    });
    await h.start();
    provider = new ScriptedProvider(h.providersDir, 'scripted');
    provider.answer = () => ({
      files: [{ path: 'db-password', mode: 0o600, contents: SECRET_VALUE }],
      objectVersions: [{ id: 'secret/db-password', version: 'v1' }],
    });
    await provider.start();
  }, 60_000);

  afterEach(async () => {
    await proxy.setFault({ kind: 'none' });
    await h.idle();
  });

  afterAll(async () => {
    await provider?.stop();
    await h?.stop();
    await viaProxy?.stop();
    await proxy?.close();
    await direct?.kube.delete(NAMESPACES, NS).catch(() => undefined);
    await direct?.stop();
    if (kubeconfigDir) fs.rmSync(kubeconfigDir, { recursive: true, force: true });
  });

  it('answers before the SPCPS write, writes it afterwards, and hands the volume to secret sync only once it exists', async () => {
    const { pod, target, request } = await newPod();
    await proxy.setFault(held(1500));
    const started = Date.now();
    await h.publish(request);
    const answeredInMs = Date.now() - started;
    expect(answeredInMs).toBeLessThan(1000); // the held SPCPS write is not in the answer
    expect(fs.readFileSync(path.join(target, 'db-password'), 'utf8')).toBe(SECRET_VALUE);
    expect(await podStatusExists(podStatusName(pod))).toBe(false);
    expect(journalFiles()).toHaveLength(1);
    expect(synced.filter((s) => s.volume.targetPath === target)).toEqual([]);
    const written = await writtenPodStatus(direct.kube, NS, podStatusName(pod));
    expect(written.status?.objects).toEqual([{ id: 'secret/db-password', version: 'v1' }]);
    await eventually('the secret-sync hook called', async () =>
      synced.some((s) => s.volume.targetPath === target),
    );
    expect(synced.filter((s) => s.volume.targetPath === target).map((s) => s.podStatusExisted)).toEqual([
      true,
    ]);
    expect(journalFiles()).toEqual([]);
    await h.unpublish({ volume_id: 'v', target_path: target });
  }, 60_000);

  it('retries a write the apiserver refuses (503) until it takes it; the mount stands meanwhile', async () => {
    const { pod, target, request } = await newPod();
    await proxy.setFault(refused(503));
    const since = Date.now();
    await h.publish(request);
    expect(h.isMounted(target)).toBe(true);
    await eventually('three refused SPCPS writes', async () => refusals(since) >= 3);
    expect(await podStatusExists(podStatusName(pod))).toBe(false);
    expect(synced.some((s) => s.volume.targetPath === target)).toBe(false);
    expect(journalFiles()).toHaveLength(1);
    await proxy.setFault({ kind: 'none' });
    await writtenPodStatus(direct.kube, NS, podStatusName(pod));
    await h.idle();
    expect(synced.filter((s) => s.volume.targetPath === target).map((s) => s.podStatusExisted)).toEqual([
      true,
    ]);
    expect(journalFiles()).toEqual([]);
    expect(h.logLines.join('\n')).toContain('secretproviderclasspodstatus not written yet');
    await h.unpublish({ volume_id: 'v', target_path: target });
  }, 60_000);

  it('NodeUnpublishVolume cancels a write still owed: no SPCPS afterwards, no journal entry, no sync', async () => {
    const { pod, target, request } = await newPod();
    await proxy.setFault(refused(503));
    const since = Date.now();
    await h.publish(request);
    await eventually('a refused SPCPS write', async () => refusals(since) >= 1);
    await h.unpublish({ volume_id: 'v', target_path: target });
    expect(journalFiles()).toEqual([]);
    await proxy.setFault({ kind: 'none' });
    await h.idle(); // nothing owed any more
    // A later volume's write goes through the same driver: once it is there, a retry of the cancelled
    // one would have been too (the backoff is at most 400 ms here).
    const later = await newPod();
    await h.publish(later.request);
    await writtenPodStatus(direct.kube, NS, podStatusName(later.pod));
    await h.idle();
    const refusedBefore = refusals(since);
    expect(await podStatusExists(podStatusName(pod))).toBe(false);
    expect(synced.some((s) => s.volume.targetPath === target)).toBe(false);
    expect(refusals(since)).toBe(refusedBefore);
    await h.unpublish({ volume_id: 'v', target_path: later.target });
  }, 60_000);

  it('gives up on a 403 at once: a Warning Event on the pod, the volume stays mounted, nothing owed', async () => {
    const { pod, target, request } = await newPod();
    await proxy.setFault(refused(403));
    const since = Date.now();
    await h.publish(request);
    await h.idle();
    expect(refusals(since)).toBe(1);
    expect(h.isMounted(target)).toBe(true);
    expect(journalFiles()).toEqual([]);
    expect(synced.some((s) => s.volume.targetPath === target)).toBe(false);
    await viaProxy.flushEvents();
    const events = await eventually('the Warning Event', async () => {
      const list = await direct.kube.list<KubeEvent>(EVENTS, {
        namespace: NS,
        fieldSelector: `involvedObject.uid=${pod.metadata.uid}`,
      });
      return list.items.length > 0 ? list.items : undefined;
    });
    expect(events.map((e) => [e.type, e.reason])).toEqual([['Warning', 'FailedToCreatePodStatus']]);
    expect(events[0].message).toContain('the volume is mounted');
    expect(events[0].message).not.toContain(SECRET_VALUE);
    await h.unpublish({ volume_id: 'v', target_path: target });
  }, 60_000);

  it('a restart resumes the writes its journal holds for mounted paths and drops the others', async () => {
    const owed = await newPod();
    const gone = await newPod();
    await proxy.setFault(refused(503));
    await h.publish(owed.request);
    await h.publish(gone.request);
    expect(journalFiles()).toHaveLength(2);
    // The second volume's tmpfs is gone by the time the driver starts again: its entry is stale.
    await new Mounter().unmount(gone.target);
    await h.restart();
    expect(journalFiles()).toHaveLength(1);
    await proxy.setFault({ kind: 'none' });
    const written = await writtenPodStatus(direct.kube, NS, podStatusName(owed.pod));
    expect(written.status?.targetPath).toBe(owed.target);
    await h.idle();
    expect(journalFiles()).toEqual([]);
    expect(await podStatusExists(podStatusName(gone.pod))).toBe(false);
    // Secret sync follows the resumed write, with the SPC read again (the restarted driver had none).
    const resumed = synced.filter((s) => s.volume.targetPath === owed.target);
    expect(resumed.map((s) => [s.podStatusExisted, s.volume.spc.metadata.name, s.volume.remount])).toEqual([
      [true, 'spc', false],
    ]);
    await h.unpublish({ volume_id: 'v', target_path: owed.target });
  }, 60_000);

  it('a hostile journal entry is deleted at start and never followed', async () => {
    fs.mkdirSync(h.journalDir, { recursive: true });
    const planted = path.join(h.journalDir, `${'a'.repeat(40)}.json`);
    fs.writeFileSync(
      planted,
      JSON.stringify({
        version: 1,
        pod: { namespace: NS, name: 'x', uid: 'u' },
        spcName: 'spc',
        targetPath: '/etc',
        objectVersions: [],
      }),
    );
    fs.writeFileSync(path.join(h.journalDir, 'garbage.json'), '\u0000{{{');
    await h.restart();
    expect(journalFiles()).toEqual([]);
    expect(h.logLines.filter((l) => l.includes('invalid journal entry'))).toHaveLength(2);
  }, 30_000);

  it('writes before answering when the journal cannot be written, and then fails as upstream when the SPCPS write fails', async () => {
    fs.rmSync(h.journalDir, { recursive: true, force: true });
    fs.writeFileSync(h.journalDir, 'not a directory');
    await h.restart(); // the journal is opened again (a file there: nothing to resume, an error logged)
    try {
      const first = await newPod();
      await proxy.setFault(held(700));
      const started = Date.now();
      await h.publish(first.request);
      expect(Date.now() - started).toBeGreaterThanOrEqual(650); // the write was in the answer
      expect(await podStatusExists(podStatusName(first.pod))).toBe(true);
      const second = await newPod();
      await proxy.setFault(refused(503));
      const err = await grpcError(h.publish(second.request));
      expect(err.code).not.toBe(grpc.status.OK);
      expect(err.details).toContain(
        `failed to create secret provider class pod status for pod ${NS}/${second.pod.metadata.name}`,
      );
      expect(h.isMounted(second.target)).toBe(false);
      await proxy.setFault({ kind: 'none' });
      await h.unpublish({ volume_id: 'v', target_path: first.target });
    } finally {
      fs.rmSync(h.journalDir, { force: true });
      await h.restart();
    }
  }, 60_000);
});
