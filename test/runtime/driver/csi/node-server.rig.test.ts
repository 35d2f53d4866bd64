// The CSI node driver over its unix socket: real tmpfs, a real provider socket, and the driver's production
// cluster bindings (SPC watch cache, SPCPS store, Event recorder) against the rig's real kube-apiserver.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  EVENTS,
  NAMESPACES,
  SECRET_PROVIDER_CLASS_POD_STATUSES,
} from '../../../../runtime/driver/cluster/kube/kube-resources';
import type {
  KubeEvent,
  SecretProviderClassPodStatus,
} from '../../../../runtime/driver/cluster/kube/kube-types';
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
  ensureSecretsStoreCrds,
  eventually,
  freshNamespace,
  writtenPodStatus,
} from '../support/kube-test-support';
import { ScriptedProvider } from '../support/scripted-provider';
import { lastKnownContentMetadata } from '../../../../runtime/wire/last-known-content';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLXBheWxvYWQ.sig-DO-NOT-LOG';
const SECRET_VALUE = 'p@ssw0rd-DO-NOT-LOG';
/** The pod's CSI volumes (all on SPC `spc`): the volume names the tests' target paths use. */
const POD_VOLUMES = ['secrets-store', 'a', 'b'];

const maybe = canMount('node-server.rig.test.ts') ? describe : notRunWithoutRoot;

maybe('CSI node driver over its unix socket (real tmpfs, real provider socket, real kube-apiserver)', () => {
  let cluster: ClusterBindings;
  let NS: string;
  let OTHER_NS: string;
  let POD: { name: string; namespace: string; uid: string };
  let podCount = 0;
  let h: DriverHarness;
  let provider: ScriptedProvider;
  let clock: number;

  async function addSpc(
    namespace: string,
    name: string,
    providerName: string,
    parameters: Record<string, string>,
  ): Promise<void> {
    await createSecretProviderClass(cluster.kube, namespace, name, { provider: providerName, parameters });
  }

  /** This test pod's SPCPS objects in the API server (they carry the pod as owner). */
  async function podStatuses(): Promise<SecretProviderClassPodStatus[]> {
    const list = await cluster.kube.list<SecretProviderClassPodStatus>(SECRET_PROVIDER_CLASS_POD_STATUSES, {
      namespace: NS,
    });
    return list.items.filter((s) => s.metadata.ownerReferences?.some((o) => o.uid === POD.uid));
  }

  /** SPCPS writes (create, update, delete) the driver sent since `from`. */
  const podStatusWrites = (from: number): number =>
    cluster.kube.writesTo('secretproviderclasspodstatuses', from).filter((r) => !r.startsWith('DELETE'))
      .length;

  /** Events on this test's pod, as the in-memory recorder listed them. */
  async function podEvents(): Promise<{ pod: typeof POD; type: string; reason: string; message: string }[]> {
    await cluster.flushEvents();
    const list = await cluster.kube.list<KubeEvent>(EVENTS, {
      namespace: NS,
      fieldSelector: `involvedObject.uid=${POD.uid}`,
    });
    return list.items.map((e) => ({
      pod: {
        name: e.involvedObject.name!,
        namespace: e.involvedObject.namespace!,
        uid: e.involvedObject.uid!,
      },
      type: e.type!,
      reason: e.reason!,
      message: e.message!,
    }));
  }

  /** Waits for `count` Events on the pod (the recorder writes them without blocking the mount). */
  const eventsOnPod = (count: number) =>
    eventually(`${count} Event(s) on the pod`, async () => {
      const events = await podEvents();
      return events.length >= count ? events : undefined;
    });

  beforeAll(async () => {
    cluster = new ClusterBindings();
    await ensureSecretsStoreCrds(cluster.kube);
    NS = await freshNamespace(cluster.kube, 'node-server', true);
    OTHER_NS = await freshNamespace(cluster.kube, 'node-server-other');
    await cluster.start();
    await addSpc(NS, 'spc', 'scripted', { objects: 'array:\n  - |\n    objectName: s1\n' });
    await addSpc(OTHER_NS, 'elsewhere', 'scripted', { a: 'b' });
    await addSpc(NS, 'noparams', 'scripted', {});
    await addSpc(NS, 'noprovider', '', { a: 'b' });
    await addSpc(NS, 'nosock', 'missing', { a: 'b' });
    await addSpc(NS, 'evil', '../../etc/x', { a: 'b' });
  }, 60_000);

  afterAll(async () => {
    for (const ns of [NS, OTHER_NS])
      if (ns) await cluster?.kube.delete(NAMESPACES, ns).catch(() => undefined);
    await cluster?.stop();
  });

  async function setUp(rotationPollIntervalMs?: number, maxCallRecvMsgSize?: number): Promise<void> {
    clock = 1_000_000;
    // A fresh pod per test: its UID names the target paths, so no test sees another's SPCPS or Events.
    const pod = await createPodWithSecretsStoreVolumes(
      cluster.kube,
      NS,
      `app-${++podCount}`,
      'spc',
      POD_VOLUMES,
    );
    POD = { name: pod.metadata.name!, namespace: NS, uid: pod.metadata.uid! };
    h = new DriverHarness({
      ...cluster,
      rotationPollIntervalMs,
      maxCallRecvMsgSize,
      now: () => clock,
    });
    await h.start();
    provider = new ScriptedProvider(h.providersDir, 'scripted');
    await provider.start();
    provider.answer = () => ({
      files: [{ path: 's1', mode: 0o644, contents: SECRET_VALUE }],
      objectVersions: [{ id: 'secret/s1', version: 'v1' }],
    });
  }

  afterEach(async () => {
    await provider?.stop();
    await h?.stop();
  });

  describe('identity, controller and node info', () => {
    beforeEach(() => setUp());

    it('answers as upstream: name, version, CONTROLLER_SERVICE, ready, node id, STAGE_UNSTAGE', async () => {
      const info = await h.call(h.identity, 'GetPluginInfo', {});
      expect(info.name).toBe('secrets-store.csi.k8s.io');
      expect(info.vendor_version).toBe(
        JSON.parse(fs.readFileSync(path.join(__dirname, '../../../../package.json'), 'utf8')).version,
      );
      expect(await h.call(h.identity, 'GetPluginCapabilities', {})).toEqual({
        capabilities: [{ service: { type: 'CONTROLLER_SERVICE' }, type: 'service' }],
      });
      expect(await h.call(h.identity, 'Probe', {})).toEqual({ ready: { value: true } });
      expect(await h.call(h.node, 'NodeGetInfo', {})).toMatchObject({ node_id: h.nodeId });
      expect(await h.call(h.node, 'NodeGetCapabilities', {})).toEqual({
        capabilities: [{ rpc: { type: 'STAGE_UNSTAGE_VOLUME' }, type: 'rpc' }],
      });
      expect(await h.call(h.controller, 'ControllerGetCapabilities', {})).toEqual({
        capabilities: [{ rpc: { type: 'UNKNOWN' }, type: 'rpc' }],
      });
    });

    it('answers UNIMPLEMENTED for controller RPCs and volume stats', async () => {
      const raw = (method: string): Promise<grpc.ServiceError> =>
        grpcError(
          new Promise((resolve, reject) =>
            h.controller.makeUnaryRequest(
              method,
              (b: Buffer) => b,
              (b: Buffer) => b,
              Buffer.alloc(0),
              (err, res) => (err ? reject(err) : resolve(res)),
            ),
          ),
        );
      expect((await raw('/csi.v1.Controller/CreateVolume')).code).toBe(grpc.status.UNIMPLEMENTED);
      expect((await raw('/csi.v1.Controller/DeleteVolume')).code).toBe(grpc.status.UNIMPLEMENTED);
      expect(
        (await grpcError(h.call(h.node, 'NodeGetVolumeStats', { volume_id: 'v', volume_path: '/x' }))).code,
      ).toBe(grpc.status.UNIMPLEMENTED);
    });
  });

  describe('NodeStageVolume / NodeUnstageVolume (ephemeral volumes are never staged)', () => {
    beforeEach(() => setUp());

    it('validate their arguments and do nothing', async () => {
      const cap = { mount: {}, access_mode: { mode: 'SINGLE_NODE_READER_ONLY' } };
      const stage = (req: object) => h.call(h.node, 'NodeStageVolume', req);
      const unstage = (req: object) => h.call(h.node, 'NodeUnstageVolume', req);
      expect(await stage({ volume_id: 'v', staging_target_path: '/s', volume_capability: cap })).toEqual({});
      expect(await unstage({ volume_id: 'v', staging_target_path: '/s' })).toEqual({});
      for (const [call, details] of [
        [stage({ staging_target_path: '/s', volume_capability: cap }), 'Volume ID missing in request'],
        [stage({ volume_id: 'v', volume_capability: cap }), 'Target path missing in request'],
        [stage({ volume_id: 'v', staging_target_path: '/s' }), 'Volume Capability missing in request'],
        [unstage({ staging_target_path: '/s' }), 'Volume ID missing in request'],
        [unstage({ volume_id: 'v' }), 'Target path missing in request'],
      ] as const) {
        const err = await grpcError(call);
        expect({ code: err.code, details: err.details }).toEqual({
          code: grpc.status.INVALID_ARGUMENT,
          details,
        });
      }
    });
  });

  describe('NodePublishVolume', () => {
    beforeEach(() => setUp());

    it.each([
      [{ volume_capability: null }, 'Volume capability missing in request'],
      [{ volume_id: '' }, 'Volume ID missing in request'],
      [{ target_path: '' }, 'Target path missing in request'],
      [{ volume_context: {} }, 'Volume attributes missing in request'],
    ])('rejects %j with InvalidArgument "%s"', async (override, text) => {
      const req = {
        ...publishRequest({ targetPath: h.targetPath(POD.uid), spc: 'spc', pod: POD }),
        ...override,
      };
      const err = await grpcError(h.publish(req));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toBe(text);
    });

    it('mounts tmpfs, writes the files, sends upstream-exact MountRequest JSON, records the SPCPS', async () => {
      const target = h.targetPath(POD.uid);
      await h.publish(publishRequest({ targetPath: target, spc: 'spc', pod: POD }));
      expect(h.isMounted(target)).toBe(true);
      expect(fs.readFileSync(path.join(target, 's1'), 'utf8')).toBe(SECRET_VALUE);
      expect(fs.statSync(path.join(target, 's1')).mode & 0o777).toBe(0o644);
      expect(provider.requests).toHaveLength(1);
      const req = provider.requests[0];
      expect(req.attributes).toBe(
        JSON.stringify({
          'csi.storage.k8s.io/ephemeral': 'true',
          'csi.storage.k8s.io/pod.name': POD.name,
          'csi.storage.k8s.io/pod.namespace': NS,
          'csi.storage.k8s.io/pod.uid': POD.uid,
          'csi.storage.k8s.io/serviceAccount.name': 'default',
          objects: 'array:\n  - |\n    objectName: s1\n',
          secretProviderClass: 'spc',
        }),
      );
      expect(req.secrets).toBe('null');
      expect(req.permission).toBe('420');
      expect(req.target_path).toBe(target);
      expect(req.current_object_version).toEqual([]);
      expect(provider.authorities).toEqual(['localhost']);
      const written = await writtenPodStatus(cluster.kube, NS, `${POD.name}-${NS}-spc`); // after the answer
      expect({
        apiVersion: written?.apiVersion,
        kind: written?.kind,
        metadata: {
          name: written?.metadata.name,
          namespace: written?.metadata.namespace,
          labels: written?.metadata.labels,
          ownerReferences: written?.metadata.ownerReferences,
        },
        status: written?.status,
      }).toEqual({
        apiVersion: 'secrets-store.csi.x-k8s.io/v1',
        kind: 'SecretProviderClassPodStatus',
        metadata: {
          name: `${POD.name}-${NS}-spc`,
          namespace: NS,
          labels: { 'internal.secrets-store.csi.k8s.io/node-name': h.nodeId },
          ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: POD.name, uid: POD.uid }],
        },
        status: {
          podName: POD.name,
          secretProviderClassName: 'spc',
          mounted: true,
          targetPath: target,
          objects: [{ id: 'secret/s1', version: 'v1' }],
        },
      });
      expect(await h.metricsText()).toMatch(/node_publish_total\{os_type="linux",provider="scripted"\} 1/);
    });

    it('without rotation, a second publish of a mounted volume is a no-op', async () => {
      const req = publishRequest({ targetPath: h.targetPath(POD.uid), spc: 'spc', pod: POD });
      await h.publish(req);
      await h.publish(req);
      expect(provider.requests).toHaveLength(1);
    });

    it('reports a missing SPC (and one in another namespace) with upstream text, before the read-only check', async () => {
      for (const spc of ['missing', 'elsewhere']) {
        const target = h.targetPath(POD.uid, spc);
        const err = await grpcError(
          h.publish(publishRequest({ targetPath: target, spc, pod: POD, readonly: false })),
        );
        expect(err.code).toBe(grpc.status.UNKNOWN);
        expect(err.details).toBe(
          `failed to get secretproviderclass ${NS}/${spc}, error: secretproviderclasses.secrets-store.csi.x-k8s.io "${spc}" not found`,
        );
        expect(h.isMounted(target)).toBe(false);
      }
      expect(await h.metricsText()).toMatch(
        /node_publish_error_total\{os_type="linux",provider="",error_type="SecretProviderClassNotFound"\} 2/,
      );
    });

    it('requires a read-only volume', async () => {
      const target = h.targetPath(POD.uid);
      const err = await grpcError(
        h.publish(publishRequest({ targetPath: target, spc: 'spc', pod: POD, readonly: false })),
      );
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toBe('Readonly is not true in request');
      expect(h.isMounted(target)).toBe(false);
    });

    it('reports SPC without provider or parameters', async () => {
      const e1 = await grpcError(
        h.publish(publishRequest({ targetPath: h.targetPath(POD.uid, 'a'), spc: 'noparams', pod: POD })),
      );
      expect(e1.details).toBe(`parameters not set in ${NS}/noparams`);
      const e2 = await grpcError(
        h.publish(publishRequest({ targetPath: h.targetPath(POD.uid, 'b'), spc: 'noprovider', pod: POD })),
      );
      expect(e2.details).toBe(`provider not set in ${NS}/noprovider`);
    });

    /** A pod of its own whose volume names `spc` (the target path is checked against the pod first). */
    async function podOn(spc: string): Promise<typeof POD> {
      const pod = await createPodWithSecretsStoreVolumes(cluster.kube, NS, `app-${++podCount}`, spc);
      return { name: pod.metadata.name!, namespace: NS, uid: pod.metadata.uid! };
    }

    it('reports a missing provider socket and unmounts what it mounted', async () => {
      POD = await podOn('nosock');
      const target = h.targetPath(POD.uid);
      const err = await grpcError(h.publish(publishRequest({ targetPath: target, spc: 'nosock', pod: POD })));
      expect(err.code).toBe(grpc.status.UNKNOWN);
      expect(err.details).toMatch(
        new RegExp(
          `^failed to mount secrets store objects for pod ${NS}/${POD.name}, err: error connecting to provider "missing": provider not found: provider "missing"`,
        ),
      );
      expect(h.isMounted(target)).toBe(false);
      expect(await podStatuses()).toEqual([]);
    });

    it('rejects an invalid provider name (no socket path traversal)', async () => {
      POD = await podOn('evil');
      const err = await grpcError(
        h.publish(publishRequest({ targetPath: h.targetPath(POD.uid), spc: 'evil', pod: POD })),
      );
      expect(err.details).toContain('invalid provider: provider "../../etc/x"');
    });

    it('reports provider error codes and missing object versions as upstream', async () => {
      provider.answer = () => ({ errorCode: 'AccessDenied', objectVersions: [{ id: 'a', version: '1' }] });
      const e1 = await grpcError(
        h.publish(publishRequest({ targetPath: h.targetPath(POD.uid, 'a'), spc: 'spc', pod: POD })),
      );
      expect(e1.details).toBe(
        `failed to mount secrets store objects for pod ${NS}/${POD.name}, err: mount request failed with provider error code AccessDenied`,
      );
      provider.answer = () => ({ files: [{ path: 'x', mode: 420, contents: 'x' }] });
      const e2 = await grpcError(
        h.publish(publishRequest({ targetPath: h.targetPath(POD.uid, 'b'), spc: 'spc', pod: POD })),
      );
      expect(e2.details).toBe(
        `failed to mount secrets store objects for pod ${NS}/${POD.name}, err: missing object versions`,
      );
      expect(await h.metricsText()).toMatch(
        /node_publish_error_total\{os_type="linux",provider="scripted",error_type="AccessDenied"\} 1/,
      );
    });

    it.each([
      '../escape',
      '/abs/path',
      '..data',
      '..data/x',
      '..2026_01_01_00_00_00.1',
      'a/../../x',
      'ok/../..',
    ])('refuses provider path %j: writes nothing outside, fails and unmounts', async (bad) => {
      provider.answer = () => ({
        files: [
          { path: 'good', mode: 0o644, contents: 'fine' },
          { path: bad, mode: 0o644, contents: 'evil' },
        ],
        objectVersions: [{ id: 'secret/x', version: '1' }],
      });
      const target = h.targetPath(POD.uid);
      const volumesDir = path.dirname(path.dirname(target));
      fs.mkdirSync(path.dirname(target), { recursive: true }); // kubelet creates the volume directory
      const before = fs.readdirSync(h.root).sort();
      const err = await grpcError(h.publish(publishRequest({ targetPath: target, spc: 'spc', pod: POD })));
      expect(err.code).toBe(grpc.status.UNKNOWN);
      expect(err.details).toContain(`invalid file path ${JSON.stringify(bad)} returned by the provider`);
      expect(h.isMounted(target)).toBe(false);
      expect(fs.readdirSync(h.root).sort()).toEqual(before);
      expect(fs.readdirSync(target)).toEqual([]);
      expect(fs.readdirSync(path.dirname(target))).toEqual(['mount']);
      expect(fs.readdirSync(volumesDir)).toEqual(['secrets-store']);
      expect(fs.existsSync('/abs/path')).toBe(false);
      expect(await podStatuses()).toEqual([]);
    });

    it('records a Warning Event when the provider answered with last known content (Key Vault unavailable)', async () => {
      provider.answer = () => ({
        files: [{ path: 's1', mode: 0o644, contents: SECRET_VALUE }],
        objectVersions: [{ id: 'secret/s1', version: 'v1' }],
        headers: lastKnownContentMetadata({ ageSeconds: 754, reason: 'keyvault_server_error' }),
      });
      const target = h.targetPath(POD.uid);
      await h.publish(publishRequest({ targetPath: target, spc: 'spc', pod: POD }));
      expect(fs.readFileSync(path.join(target, 's1'), 'utf8')).toBe(SECRET_VALUE);
      expect(await eventsOnPod(1)).toEqual([
        {
          pod: POD,
          type: 'Warning',
          reason: 'MountedLastKnownContent',
          message:
            `Key Vault answered with a server error, so spc ${NS}/spc was mounted with the last content this node fetched for it, ` +
            '12m34s old; it is refreshed at the next rotation once Key Vault answers',
        },
      ]);
      // Headers that are not well formed (free text, a reason outside the list) are ignored.
      const odd = new grpc.Metadata();
      odd.set('x-aks-secrets-store-last-known-content-age-seconds', '12');
      odd.set('x-aks-secrets-store-last-known-content-reason', `leaked ${SECRET_VALUE}`);
      provider.answer = () => ({
        files: [{ path: 's1', mode: 0o644, contents: 'x' }],
        objectVersions: [{ id: 'secret/s1', version: 'v1' }],
        headers: odd,
      });
      await h.publish(publishRequest({ targetPath: h.targetPath(POD.uid, 'a'), spc: 'spc', pod: POD }));
      expect(await podEvents()).toHaveLength(1);
    });

    it('retries a provider that answers UNAVAILABLE', async () => {
      let calls = 0;
      provider.answer = () =>
        ++calls === 1
          ? { grpcError: { code: grpc.status.UNAVAILABLE, details: 'warming up' } }
          : {
              files: [{ path: 's1', mode: 0o600, contents: 'x' }],
              objectVersions: [{ id: 'secret/s1', version: 'v1' }],
            };
      await h.publish(publishRequest({ targetPath: h.targetPath(POD.uid), spc: 'spc', pod: POD }));
      expect(calls).toBe(2);
    });

    it('re-dials a provider whose socket moved to another provider directory (no driver restart)', async () => {
      await h.publish(publishRequest({ targetPath: h.targetPath(POD.uid, 'a'), spc: 'spc', pod: POD }));
      await provider.stop();
      provider = new ScriptedProvider(h.extraProvidersDir, 'scripted');
      await provider.start();
      provider.answer = () => ({
        files: [{ path: 's1', mode: 0o644, contents: 'moved' }],
        objectVersions: [{ id: 'secret/s1', version: 'v2' }],
      });
      await h.publish(publishRequest({ targetPath: h.targetPath(POD.uid, 'b'), spc: 'spc', pod: POD }));
      expect(fs.readFileSync(path.join(h.targetPath(POD.uid, 'b'), 's1'), 'utf8')).toBe('moved');
    });

    it('never puts a token or a secret value in a log line, an error or an Event', async () => {
      const tokens = JSON.stringify({
        'api://AzureADTokenExchange': { token: TOKEN, expirationTimestamp: '2030-01-01T00:00:00Z' },
      });
      provider.answer = () => ({ grpcError: { code: grpc.status.INTERNAL, details: 'keyvault said no' } });
      const target = h.targetPath(POD.uid);
      const req = publishRequest({
        targetPath: target,
        spc: 'spc',
        pod: POD,
        secrets: { clientsecret: SECRET_VALUE },
        extraContext: { 'csi.storage.k8s.io/serviceAccount.tokens': tokens },
      });
      const err = await grpcError(h.publish(req));
      expect(provider.requests[0].attributes).toContain(TOKEN); // the provider does get it
      provider.answer = () => ({
        files: [{ path: 's1', mode: 0o644, contents: SECRET_VALUE }],
        objectVersions: [{ id: 'secret/s1', version: 'v1' }],
      });
      await h.publish(req);
      await h.unpublish({ volume_id: 'v', target_path: target });
      const everything = [
        ...h.logLines,
        err.details,
        ...(await podEvents()).map((e) => e.message),
        await h.metricsText(),
      ].join('\n');
      expect(h.logLines.length).toBeGreaterThan(0);
      expect(everything).not.toContain(TOKEN);
      expect(everything).not.toContain('c2VjcmV0LXRva2VuLXBheWxvYWQ');
      expect(everything).not.toContain(SECRET_VALUE);
    });
  });

  describe('--max-call-recv-msg-size', () => {
    beforeEach(() => setUp(undefined, 64 * 1024));

    it('refuses a larger provider response and says which flag to raise', async () => {
      provider.answer = () => ({
        files: [{ path: 'big', mode: 0o644, contents: Buffer.alloc(100 * 1024, 'a') }],
        objectVersions: [{ id: 'secret/big', version: '1' }],
      });
      const target = h.targetPath(POD.uid);
      const err = await grpcError(h.publish(publishRequest({ targetPath: target, spc: 'spc', pod: POD })));
      expect(err.details).toMatch(/rpc error: code = ResourceExhausted desc = .*larger than max/);
      expect(err.details).toContain('raise that flag on the driver');
      expect(err.details).toContain('--max-call-recv-msg-size');
      expect(h.isMounted(target)).toBe(false);
    });
  });

  describe('NodeUnpublishVolume', () => {
    beforeEach(() => setUp());

    it('unmounts, removes the directory and is idempotent', async () => {
      const target = h.targetPath(POD.uid);
      await h.publish(publishRequest({ targetPath: target, spc: 'spc', pod: POD }));
      await writtenPodStatus(cluster.kube, NS, `${POD.name}-${NS}-spc`);
      await h.unpublish({ volume_id: 'v', target_path: target });
      expect(fs.existsSync(target)).toBe(false);
      // The SPCPS is deleted in the background: the unmount never waits for the API server.
      await eventually('the SPCPS deleted after the unmount', async () => (await podStatuses()).length === 0);
      await h.unpublish({ volume_id: 'v', target_path: target });
      const err = await grpcError(h.unpublish({ volume_id: '', target_path: target }));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toBe('Volume ID missing in request');
      expect(await h.metricsText()).toMatch(/node_unpublish_total\{os_type="linux"\} 2/);
    });
  });

  describe('rotation (republish)', () => {
    const INTERVAL = 120_000;
    beforeEach(() => setUp(INTERVAL));

    it('calls the provider at most once per interval, counted from the last successful check', async () => {
      const req = publishRequest({ targetPath: h.targetPath(POD.uid), spc: 'spc', pod: POD });
      const writesBefore = cluster.kube.acceptedWrites.length;
      await h.publish(req); // first mount
      for (let t = 0; t < 10; t++) {
        clock += INTERVAL / 4; // kubelet republishes four times per interval, content never changes
        await h.publish(req);
      }
      // 10 republishes over 2.5 intervals: one provider call per elapsed interval, not one per republish.
      expect(provider.requests).toHaveLength(1 + 2);
      await h.idle(); // the first mount's SPCPS write runs after its answer
      expect(podStatusWrites(writesBefore)).toBe(1); // unchanged versions: no SPCPS write per check
      expect(await h.metricsText()).toMatch(
        /rotation_reconcile_total\{os_type="linux",provider="scripted",rotated="false"\} 2/,
      );
      expect(await podEvents()).toEqual([]);
    });

    it('rotates changed content atomically and says so in an Event', async () => {
      const target = h.targetPath(POD.uid);
      const req = publishRequest({ targetPath: target, spc: 'spc', pod: POD });
      const writesBefore = cluster.kube.acceptedWrites.length;
      await h.publish(req);
      provider.answer = () => ({
        files: [{ path: 's1', mode: 0o644, contents: 'rotated' }],
        objectVersions: [{ id: 'secret/s1', version: 'v2' }],
      });
      clock += INTERVAL;
      await h.publish(req);
      expect(fs.readFileSync(path.join(target, 's1'), 'utf8')).toBe('rotated');
      const rotated = await writtenPodStatus(
        cluster.kube,
        NS,
        `${POD.name}-${NS}-spc`,
        (s) => s.status?.objects?.[0]?.version === 'v2',
      );
      expect(rotated.status?.objects).toEqual([{ id: 'secret/s1', version: 'v2' }]);
      await h.idle();
      expect(podStatusWrites(writesBefore)).toBe(2);
      expect(await eventsOnPod(1)).toEqual([
        {
          pod: POD,
          type: 'Normal',
          reason: 'MountRotationComplete',
          message: `successfully rotated mounted contents for spc ${NS}/spc`,
        },
      ]);
      expect(await h.metricsText()).toMatch(
        /rotation_reconcile_total\{os_type="linux",provider="scripted",rotated="true"\} 1/,
      );
    });

    it('keeps the last good content when a remount fails, returns OK and emits a Warning Event', async () => {
      const target = h.targetPath(POD.uid);
      const req = publishRequest({ targetPath: target, spc: 'spc', pod: POD });
      await h.publish(req);
      provider.answer = () => ({ errorCode: 'Throttled', objectVersions: [{ id: 'a', version: '1' }] });
      clock += INTERVAL;
      await h.publish(req); // resolves: an error would make kubelet tear the volume down
      expect(h.isMounted(target)).toBe(true);
      expect(fs.readFileSync(path.join(target, 's1'), 'utf8')).toBe(SECRET_VALUE);
      const events = await eventsOnPod(1);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: 'Warning', reason: 'MountRotationFailed' });
      expect(events[0].message).toContain('the previous content is kept');
      expect(events[0].message).toContain('mount request failed with provider error code Throttled');
      // A failed check does not restart the interval: the next republish tries again.
      provider.answer = () => ({
        files: [{ path: 's1', mode: 0o644, contents: 'recovered' }],
        objectVersions: [{ id: 'secret/s1', version: 'v3' }],
      });
      clock += 1000;
      await h.publish(req);
      expect(fs.readFileSync(path.join(target, 's1'), 'utf8')).toBe('recovered');
      expect(await h.metricsText()).toMatch(
        /rotation_reconcile_error_total\{os_type="linux",provider="scripted",rotated="false",error_type="Throttled"\} 1/,
      );
    });

    it('a remount with a path-traversal answer keeps the old content', async () => {
      const target = h.targetPath(POD.uid);
      const req = publishRequest({ targetPath: target, spc: 'spc', pod: POD });
      await h.publish(req);
      provider.answer = () => ({
        files: [{ path: '../../../evil', mode: 0o644, contents: 'x' }],
        objectVersions: [{ id: 'a', version: '2' }],
      });
      clock += INTERVAL;
      await h.publish(req);
      expect(fs.readFileSync(path.join(target, 's1'), 'utf8')).toBe(SECRET_VALUE);
      expect(fs.existsSync(path.join(target, '../../../evil'))).toBe(false);
      expect((await eventsOnPod(1))[0]).toMatchObject({ type: 'Warning', reason: 'MountRotationFailed' });
    });
  });
  describe('a reader during 1,000 rotations through NodePublishVolume', () => {
    beforeEach(() => setUp(0)); // interval 0: every republish calls the provider and rotates

    it('never sees a torn, empty, missing or mixed state', async () => {
      const target = h.targetPath(POD.uid);
      const names = ['a', 'b', 'nested/c'];
      let generation = 0;
      provider.answer = () => {
        const gen = generation;
        return {
          files: names.map((name) => ({
            path: name,
            mode: 0o644,
            contents: `gen=${gen};name=${name};${'x'.repeat(1024 + (gen % 5) * 700)};end`,
          })),
          objectVersions: [{ id: 'secret/a', version: String(gen) }],
        };
      };
      const req = publishRequest({ targetPath: target, spc: 'spc', pod: POD });
      await h.publish(req);
      const stopFile = path.join(os.tmpdir(), `stop-e2e-${process.pid}-${Date.now()}`);
      const reader = spawn(process.execPath, [
        path.join(__dirname, '..', 'support', 'torn-read-checker.js'),
        target,
        names.join(','),
        stopFile,
        // The reader's own bound: far above the ~170 s the 1,000 publishes took at load 16.
        '540000',
      ]);
      let output = '';
      reader.stdout.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number>((resolve) => reader.on('exit', (code) => resolve(code ?? -1)));
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (generation = 1; generation <= 1000; generation++) await h.publish(req);
      fs.writeFileSync(stopFile, '');
      expect(await exited).toBe(0);
      fs.rmSync(stopFile);
      const result = JSON.parse(output) as Record<string, number | unknown[]>;
      expect(result.samples).toEqual([]);
      expect(result).toMatchObject({ torn: 0, empty: 0, mixed: 0, missing: 0 });
      expect(result.reads as number).toBeGreaterThan(100);
      expect(result.generations as number).toBeGreaterThan(1);
      expect(provider.requests).toHaveLength(1001);
      expect(fs.readFileSync(path.join(target, 'nested/c'), 'utf8')).toContain('gen=1000;');
      expect(await h.metricsText()).toMatch(
        /rotation_reconcile_total\{os_type="linux",provider="scripted",rotated="true"\} 1000/,
      );
    }, 600_000);
  });
});
