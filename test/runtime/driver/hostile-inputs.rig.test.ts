// What a pod author (or anything else that reaches kubelet's NodePublishVolume) can send our driver, sent
// to the driver process (build/runtime/cli.js) against the real kube-apiserver, with the driver's own
// CSIDriver as an install without workload identity renders it (no tokenRequests). Each row asserts a
// clear error, that nothing reached the provider or the node that should not have, that no hostile value
// or secret appears in a log line, an Event or a metric label, and that the next good request is served.
// docs/security.md (## Driver) lists the rows.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { KubeClient } from '../../../runtime/driver/cluster/kube/kube-client';
import { loadKubeConfigFile } from '../../../runtime/driver/cluster/kube/kube-config';
import { CSI_DRIVERS, EVENTS, NAMESPACES } from '../../../runtime/driver/cluster/kube/kube-resources';
import type { KubeEvent, Pod } from '../../../runtime/driver/cluster/kube/kube-types';
import { readMountPoints } from '../../../runtime/driver/volume/mounter';
import { DRIVER_REASONS } from '../../../runtime/driver/error-reasons';
import { SERVICE_ACCOUNT_TOKENS_KEY } from '../../../runtime/wire/csi';
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
} from './support/kube-test-support';
import { ScriptedProvider } from './support/scripted-provider';

const NS = `hostile-${process.pid}`;
const OTHER_NS = `hostile-other-${process.pid}`;
const DRIVER_NAME = `hostile-${process.pid}.secrets-store.test`;
const SECRET_VALUE = 'hostile-secret-DO-NOT-LOG';
const FORGED_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.Zm9yZ2VkLXRva2Vu.forged-sig-DO-NOT-LOG';
/** Put inside hostile values: it must never come back in a log line, an Event or a metric label. */
const MARK = 'HOSTILE-MARK';
const maybe = canMount('hostile-inputs.rig.test.ts') ? describe : notRunWithoutRoot;

interface Row {
  readonly what: string;
  /** Builds the request from a real pod of its own (created on the SPC `spc` unless `podSpc` says). */
  readonly request: (ctx: RowContext) => unknown;
  readonly code: grpc.status;
  /** Substrings the error details must contain. */
  readonly details: readonly string[];
  /** The SPC the row's pod mounts. @default 'spc' */
  readonly podSpc?: string;
  /** The provider may be asked (the failure comes from its answer). @default false */
  readonly reachesProvider?: boolean;
  /** Set up before the request (e.g. a provider answer). */
  readonly before?: () => void;
}

interface RowContext {
  readonly pod: { name: string; namespace: string; uid: string };
  readonly target: string;
  readonly root: string;
}

maybe('hostile NodePublishVolume inputs to the driver process (real apiserver)', () => {
  let kube: KubeClient;
  let driver: DriverProcess;
  let provider: ScriptedProvider;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-driver-'));
  const providerDir = path.join(root, 'providers');
  const results: { what: string; code: string; details: string }[] = [];
  let pods = 0;

  const targetFor = (uid: string, volume = 'secrets-store') =>
    path.join(root, 'kubelet', 'pods', uid, 'volumes', 'kubernetes.io~csi', volume, 'mount');

  async function newPod(spc = 'spc'): Promise<RowContext['pod']> {
    const pod: Pod = await createPodWithSecretsStoreVolumes(kube, NS, `p-${++pods}`, spc, ['secrets-store'], {
      driver: DRIVER_NAME,
    });
    return { name: pod.metadata.name!, namespace: NS, uid: pod.metadata.uid! };
  }

  /** A legitimate publish and unpublish: the driver still serves after the row before. */
  async function goodPublishWorks(): Promise<void> {
    const pod = await newPod();
    const target = targetFor(pod.uid);
    await driver.publish(publishRequest({ targetPath: target, spc: 'spc', pod }));
    expect(fs.readFileSync(path.join(target, 'db-password'), 'utf8')).toBe(SECRET_VALUE);
    await driver.unpublish({ volume_id: `csi-${pod.uid}`, target_path: target });
    expect(fs.existsSync(target)).toBe(false);
  }

  const big = (bytes: number) => `${MARK}${'x'.repeat(bytes)}`;
  const forgedTokens = JSON.stringify({
    'api://AzureADTokenExchange': { token: FORGED_TOKEN, expirationTimestamp: '2030-01-01T00:00:00Z' },
  });

  const rows: Row[] = [
    {
      what: 'target path climbing out with ".." segments',
      request: ({ pod, target }) =>
        publishRequest({
          targetPath: `${target}/../../../../../../../../escape/pods/${pod.uid}/volumes/kubernetes.io~csi/v/mount`,
          spc: 'spc',
          pod,
        }),
      code: grpc.status.UNKNOWN,
      details: ['failed to check the target path of pod', 'is not an absolute path without ".", ".."'],
    },
    {
      what: 'relative target path',
      request: ({ pod }) =>
        publishRequest({
          targetPath: `pods/${pod.uid}/volumes/kubernetes.io~csi/secrets-store/mount`,
          spc: 'spc',
          pod,
        }),
      code: grpc.status.UNKNOWN,
      details: ['is not an absolute path'],
    },
    {
      what: 'target path outside kubelet pods dir (/etc-like)',
      request: ({ pod, root: r }) =>
        publishRequest({ targetPath: path.join(r, 'etc', 'cron.d'), spc: 'spc', pod }),
      code: grpc.status.UNKNOWN,
      details: ['is not of the form <kubelet>/pods/<pod uid>/volumes/kubernetes.io~csi/<volume>/mount'],
    },
    {
      what: "target path of another pod's uid",
      request: ({ pod }) => publishRequest({ targetPath: targetFor('someone-elses-uid'), spc: 'spc', pod }),
      code: grpc.status.UNKNOWN,
      details: [`belongs to pod uid someone-elses-uid, not `],
    },
    {
      what: "forged pod uid (a real pod's name, the attacker's own uid and path)",
      request: ({ pod }) => {
        const forged = { ...pod, uid: 'attacker-uid' };
        return publishRequest({ targetPath: targetFor(forged.uid), spc: 'spc', pod: forged });
      },
      code: grpc.status.UNKNOWN,
      details: ['failed to check the target path of pod', 'targetPath did not match pod UID'],
    },
    {
      what: 'forged pod namespace (a pod of another namespace)',
      request: ({ pod, target }) =>
        publishRequest({ targetPath: target, spc: 'elsewhere', pod: { ...pod, namespace: OTHER_NS } }),
      code: grpc.status.UNKNOWN,
      details: [`failed to check the target path of pod ${OTHER_NS}/`, 'not found'],
    },
    {
      what: 'target path of a volume the pod does not have on that SPC',
      request: ({ pod }) =>
        publishRequest({ targetPath: targetFor(pod.uid, 'other-volume'), spc: 'spc', pod }),
      code: grpc.status.UNKNOWN,
      details: ['failed to check the target path of pod'],
    },
    {
      what: 'unknown SecretProviderClass',
      request: ({ pod, target }) => publishRequest({ targetPath: target, spc: 'no-such-spc', pod }),
      podSpc: 'no-such-spc',
      code: grpc.status.UNKNOWN,
      details: [`failed to get secretproviderclass ${NS}/no-such-spc`, 'not found'],
    },
    {
      what: "another namespace's SecretProviderClass",
      request: ({ pod, target }) => publishRequest({ targetPath: target, spc: 'elsewhere', pod }),
      podSpc: 'elsewhere',
      code: grpc.status.UNKNOWN,
      details: [`failed to get secretproviderclass ${NS}/elsewhere`, 'not found'],
    },
    {
      what: 'SecretProviderClass name with path characters',
      request: ({ pod, target }) => publishRequest({ targetPath: target, spc: `../../${MARK}/x`, pod }),
      code: grpc.status.INVALID_ARGUMENT,
      details: ['is not a SecretProviderClass name'],
    },
    {
      what: 'SecretProviderClass name with control characters and ANSI escapes',
      request: ({ pod, target }) =>
        publishRequest({ targetPath: target, spc: `spc\n\u001b[31m${MARK}\u0000`, pod }),
      code: grpc.status.INVALID_ARGUMENT,
      details: ['\\n\\u001b[31m', 'is not a SecretProviderClass name'],
    },
    {
      what: 'oversized attribute value (200 KiB)',
      request: ({ pod, target }) =>
        publishRequest({ targetPath: target, spc: 'spc', pod, extraContext: { objects: big(200 * 1024) } }),
      code: grpc.status.INVALID_ARGUMENT,
      details: ['the volume attributes are too large: "objects" is 204812 bytes, more than 131072'],
    },
    {
      what: 'huge attribute map (2,000 keys)',
      request: ({ pod, target }) =>
        publishRequest({
          targetPath: target,
          spc: 'spc',
          pod,
          extraContext: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, MARK])),
        }),
      code: grpc.status.INVALID_ARGUMENT,
      details: ['2006 keys, more than 256'],
    },
    {
      what: 'oversized attribute key (1 KiB)',
      request: ({ pod, target }) =>
        publishRequest({ targetPath: target, spc: 'spc', pod, extraContext: { [big(1024)]: 'v' } }),
      code: grpc.status.INVALID_ARGUMENT,
      details: ['a key of 1036 bytes, more than 316'],
    },
    {
      what: 'attributes too large in all (3 values of 100 KiB)',
      request: ({ pod, target }) =>
        publishRequest({
          targetPath: target,
          spc: 'spc',
          pod,
          extraContext: { a: big(100 * 1024), b: big(100 * 1024), c: big(100 * 1024) },
        }),
      code: grpc.status.INVALID_ARGUMENT,
      details: ['bytes in all, more than 262144'],
    },
    {
      what: 'forged service-account token in volumeAttributes (CSIDriver without tokenRequests)',
      request: ({ pod, target }) =>
        publishRequest({
          targetPath: target,
          spc: 'spc',
          pod,
          extraContext: { [SERVICE_ACCOUNT_TOKENS_KEY]: forgedTokens },
        }),
      code: grpc.status.INVALID_ARGUMENT,
      details: [
        `${SERVICE_ACCOUNT_TOKENS_KEY} in the volume attributes did not come from kubelet`,
        `CSIDriver ${DRIVER_NAME} has no tokenRequests`,
        "list the audience in the CSIDriver's spec.tokenRequests",
      ],
    },
    {
      what: 'forged service-account token in nodePublishSecretRef data',
      request: ({ pod, target }) =>
        publishRequest({
          targetPath: target,
          spc: 'spc',
          pod,
          secrets: { [SERVICE_ACCOUNT_TOKENS_KEY]: forgedTokens },
        }),
      code: grpc.status.INVALID_ARGUMENT,
      details: [`${SERVICE_ACCOUNT_TOKENS_KEY} in the secrets did not come from kubelet`],
    },
    {
      what: 'oversized service-account tokens value (64 KiB)',
      request: ({ pod, target }) =>
        publishRequest({
          targetPath: target,
          spc: 'spc',
          pod,
          extraContext: { [SERVICE_ACCOUNT_TOKENS_KEY]: big(64 * 1024) },
        }),
      code: grpc.status.INVALID_ARGUMENT,
      details: [`"${SERVICE_ACCOUNT_TOKENS_KEY}" is 65548 bytes, more than 16384`],
    },
    {
      what: 'SPC provider name with path traversal',
      request: ({ pod, target }) => publishRequest({ targetPath: target, spc: 'traversal', pod }),
      podSpc: 'traversal',
      code: grpc.status.UNKNOWN,
      details: ['invalid provider: provider "../../../run/evil'],
    },
    {
      what: 'SPC provider name of 1,000 characters with control characters',
      request: ({ pod, target }) => publishRequest({ targetPath: target, spc: 'longprovider', pod }),
      podSpc: 'longprovider',
      code: grpc.status.UNKNOWN,
      details: ['invalid provider: provider "\\u001b[31m', '..."'],
    },
    {
      what: 'providerName attribute naming a provider not installed',
      request: ({ pod, target }) =>
        publishRequest({
          targetPath: target,
          spc: 'notinstalled',
          pod,
          extraContext: { providerName: MARK },
        }),
      podSpc: 'notinstalled',
      code: grpc.status.UNKNOWN,
      details: ['provider-not-installed-here'],
    },
    {
      what: 'provider error code of free-form text (label bounded)',
      request: ({ pod, target }) => publishRequest({ targetPath: target, spc: 'spc', pod }),
      reachesProvider: true,
      before: () => {
        provider.answer = () => ({ errorCode: `${MARK} free text, not an identifier`, objectVersions: [] });
      },
      code: grpc.status.UNKNOWN,
      details: ['failed to mount secrets store objects for pod'],
    },
    {
      what: 'read-write volume',
      request: ({ pod, target }) => publishRequest({ targetPath: target, spc: 'spc', pod, readonly: false }),
      code: grpc.status.INVALID_ARGUMENT,
      details: ['Readonly is not true in request'],
    },
  ];

  beforeAll(async () => {
    fs.mkdirSync(providerDir);
    kube = new KubeClient(loadKubeConfigFile(rig().kubeconfig));
    for (const ns of [NS, OTHER_NS])
      await kube.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await createTestCsiDriver(kube, DRIVER_NAME, { audiences: [] });
    const objects = 'array:\n  - |\n    objectName: db-password\n';
    await createSecretProviderClass(kube, NS, 'spc', { provider: 'scripted', parameters: { objects } });
    await createSecretProviderClass(kube, OTHER_NS, 'elsewhere', {
      provider: 'scripted',
      parameters: { objects },
    });
    await createSecretProviderClass(kube, NS, 'traversal', {
      provider: '../../../run/evil',
      parameters: { objects },
    });
    await createSecretProviderClass(kube, NS, 'longprovider', {
      provider: `\u001b[31m${MARK}${'p'.repeat(1000)}`,
      parameters: { objects },
    });
    await createSecretProviderClass(kube, NS, 'notinstalled', {
      provider: 'provider-not-installed-here',
      parameters: { objects },
    });
    provider = new ScriptedProvider(providerDir, 'scripted');
    await provider.start();
    driver = await DriverProcess.start({
      name: 'ours',
      ...ourDriverCommand(),
      providerDir,
      kubeconfig: rig().kubeconfig,
      extraArgs: [`--drivername=${DRIVER_NAME}`],
    });
    await eventually('the driver to read its CSIDriver', async () =>
      driver.logs.includes('"msg":"csidriver read"'),
    );
  }, 90_000);

  afterAll(async () => {
    if (results.length > 0)
      fs.writeFileSync(
        path.join(os.tmpdir(), 'aks-secrets-store-driver-hostile-inputs.json'),
        JSON.stringify(results, null, 2),
      );
    await driver?.stop();
    await provider?.stop();
    for (const ns of [NS, OTHER_NS]) await kube?.delete(NAMESPACES, ns).catch(() => undefined);
    await kube?.delete(CSI_DRIVERS, DRIVER_NAME).catch(() => undefined);
    kube?.close();
    await removeTestRoot(root);
  });

  const goodAnswer = () => ({
    files: [{ path: 'db-password', mode: 0o600, contents: SECRET_VALUE }],
    objectVersions: [{ id: 'secret/db-password', version: 'v1' }],
  });
  beforeEach(() => (provider.answer = goodAnswer));

  it('has at least 15 rows', () => expect(rows.length).toBeGreaterThanOrEqual(15));

  it.each(rows.map((row) => [row.what, row] as const))(
    '%s: a clear error, nothing leaked, the next request served',
    async (_what, row) => {
      const pod = await newPod(row.podSpc);
      const ctx = { pod, target: targetFor(pod.uid), root };
      row.before?.();
      const calls = provider.requests.length;
      const err = await grpcError(driver.publish(row.request(ctx)));
      results.push({ what: row.what, code: grpc.status[err.code], details: err.details.slice(0, 300) });
      expect(grpc.status[err.code]).toBe(grpc.status[row.code]);
      for (const text of row.details) expect(err.details).toContain(text);
      // Named by key and size, never echoed whole; no secret or token in it.
      expect(err.details.length).toBeLessThan(1024);
      expect(err.details).not.toContain(SECRET_VALUE);
      expect(err.details).not.toContain(FORGED_TOKEN);
      if (!row.reachesProvider) expect(provider.requests.length).toBe(calls);
      expect([...readMountPoints('/proc/self/mountinfo')].filter((m) => m.startsWith(root))).toEqual([]);
      expect(fs.existsSync(path.join(root, 'escape'))).toBe(false);
      expect(fs.existsSync(path.join(root, 'etc'))).toBe(false);
      provider.answer = goodAnswer;
      await goodPublishWorks();
    },
    60_000,
  );

  it('kept every hostile value and secret out of logs, Events and metric labels, with bounded label values', async () => {
    const events = await kube.list<KubeEvent>(EVENTS, { namespace: NS });
    const everything = [driver.logs, JSON.stringify(events.items)].join('\n');
    for (const leak of [SECRET_VALUE, FORGED_TOKEN]) expect(everything).not.toContain(leak);
    expect(everything).not.toContain('\u001b[31m'); // escaped, never raw

    const metrics = (await driver.httpGet('/metrics')).body;
    const labels = [...metrics.matchAll(/^(node_\w+|rotation_\w+|sync_\w+)\{([^}]*)\}/gm)].map((m) => m[2]);
    expect(labels.length).toBeGreaterThan(0);
    for (const set of labels) {
      expect(set).not.toContain(MARK);
      expect(set).not.toContain(SECRET_VALUE);
      const provider = /provider="([^"]*)"/.exec(set)?.[1];
      if (provider !== undefined) expect(['', 'scripted', 'unknown']).toContain(provider);
      const errorType = /error_type="([^"]*)"/.exec(set)?.[1];
      if (errorType !== undefined) expect(DRIVER_REASONS.has(errorType)).toBe(true);
    }
    // The driver is still the one process that started (no crash), and still serves, within the
    // memory budget of upstream's DaemonSet request (100 MiB) after the whole table.
    expect(driver.exitCode).toBeUndefined();
    const rss = driver.rssBytes();
    console.log(`driver RSS after the hostile table: ${(rss / 1048576).toFixed(1)} MiB`);
    expect(rss).toBeLessThan(100 * 1048576);
    await goodPublishWorks();
  }, 60_000);
});
