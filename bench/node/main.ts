// Node benchmark (not a test): pod start and rotation at node scale on a real kubelet + containerd, our
// driver + provider against upstream's (driver v1.6.1, provider v1.8.2), one after the other in one run on the
// same node. Prints a table and writes bench/results/node.json.
//
//   sudo bash harness/rig/build.sh              # once: the cluster, the node, the images
//   npm run build                               # our runtime image is built from build/
//   sudo npx ts-node --transpile-only bench/node/main.ts [--pods=50] [--objects=10]
//       [--our-provider-arg=--<flag>=<value>]... (appended to our provider container's args, e.g. an A/B of a flag)
//       [--our-driver-node-flag=--<v8-or-node-flag>[=<value>]]... (added to our driver container's `node` command)
//       [--settle=<seconds>] (wait after the install's pods run before creating the bench pods; default 0)
//
// Per flavor: install on the node, then N pods (busybox, each mounting one SPC of M Key Vault secrets through
// workload identity) created at once; measured: create → Running per pod (p50, p90, max), Key Vault GETs and
// Entra token requests during the start, RSS of the driver and provider processes (peak while starting, and
// after). Then one rotation (one object gets a new version): time until every container sees it. Last, each
// container's cgroup (harness/rig/node/container-cgroup.ts): its limits, memory peak and working set against
// the limit (the headroom of the install's resources), CPU used and CFS throttling, over the whole run and
// from the pods' create to all Running (the start's own share). Every wait is bounded.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { killRigNow } from '../../harness/rig/cluster';
import { KubeApi } from '../../harness/rig/kube-api';
import { containerPid, containerPids, readAsProcess, rssMiB } from '../../harness/rig/node/containers';
import { ContainerCgroupStats, containerCgroupStats } from '../../harness/rig/node/container-cgroup';
import { startNodeAzure } from '../../harness/rig/node/node-azure';
import type { NodeEndpoints } from '../../harness/rig/node/node';
import {
  installContainerLogs,
  installOnNode,
  installPods,
  NodeFlavor,
  nodeInstall,
  uninstallFromNode,
} from '../../harness/rig/node/node-install';
import { NODE_IMAGE_NAMES } from '../../harness/rig/node/node-images';
import { nodeUnavailable } from '../../harness/rig/node/node-requirements';
import { NodeRig, startNodeRig, stopNodeRig } from '../../harness/rig/node/node-rig';
import { sweepLeftovers } from '../../harness/rig/node/node';
import { RigProcess, waitUntil } from '../../harness/rig/processes';
import { RigEndpoints, rigVersions } from '../../harness/rig/rig-env';
import { SECRETS_STORE_API_GROUP } from '../../lib/core/install';

const TENANT_ID = '6b1a7d3e-0c5f-4a3e-9b1d-2f3e4a5b6c7d';
const CLIENT_ID = '3f2e1d0c-5b4a-4f3e-8d2c-1b0a9f8e7d6c';
const VAULT = 'benchkv';
const RESULTS = path.resolve(__dirname, '..', 'results', 'node.json');

interface Options {
  readonly pods: number;
  readonly objects: number;
  /** Appended to our provider container's args. */
  readonly ourProviderArgs: readonly string[];
  /** Node (V8) flags added to our driver container's command, before the script. */
  readonly ourDriverNodeFlags: readonly string[];
  /**
   * Seconds between the install's pods Running and the bench pods' create. 0 (the default) is a new
   * node: the processes may still be starting; more measures warm processes.
   */
  readonly settleSeconds: number;
}

function options(): Options {
  const arg = (name: string, fallback: number, min = 1) => {
    const found = process.argv.find((a) => a.startsWith(`--${name}=`));
    const value = found ? Number(found.split('=')[1]) : fallback;
    if (!Number.isInteger(value) || value < min || value > 100)
      throw new Error(`--${name} must be ${min}..100`);
    return value;
  };
  const ourProviderArgs = process.argv
    .filter((a) => a.startsWith('--our-provider-arg='))
    .map((a) => a.slice('--our-provider-arg='.length));
  for (const a of ourProviderArgs)
    if (!/^--[a-z0-9-]+=[\w.,/:-]*$/.test(a))
      throw new Error(`--our-provider-arg=${a}: expected --<flag>=<value>`);
  const ourDriverNodeFlags = process.argv
    .filter((a) => a.startsWith('--our-driver-node-flag='))
    .map((a) => a.slice('--our-driver-node-flag='.length));
  for (const a of ourDriverNodeFlags)
    if (!/^--[a-z0-9-]+(=[\w.,/:-]*)?$/.test(a))
      throw new Error(`--our-driver-node-flag=${a}: expected --<flag> or --<flag>=<value>`);
  return {
    pods: arg('pods', 50),
    objects: arg('objects', 10),
    settleSeconds: arg('settle', 0, 0),
    ourProviderArgs,
    ourDriverNodeFlags,
  };
}

interface FlavorResult {
  readonly flavor: NodeFlavor;
  readonly startMs: { p50: number; p90: number; max: number };
  readonly keyVaultGets: number;
  readonly tokenRequests: number;
  readonly driverRssMiB: { peak: number; after: number };
  readonly providerRssMiB: { peak: number; after: number };
  readonly rotationMs: number;
  /** The containers' cgroups after the rotation: their limits, peak, working set and CPU throttling. */
  readonly cgroups: { readonly driver: ContainerCgroupStats; readonly provider: ContainerCgroupStats };
  /** CPU used and periods throttled between the pods' create and all Running: the start's own share. */
  readonly startCpu: { readonly driver: CpuWindow; readonly provider: CpuWindow };
  /** Our driver's publishes from the pods' create to all Running, by outcome (from its log; ours only). */
  readonly startPublishes?: PublishCounts;
  /** When the pods were created (ISO time; the kubelet log copied next to the results is read against it). */
  readonly createdAt: string;
  /** When the pods' first publishes answered (from the driver's log), ms after the create. */
  readonly mountedAt?: MountedAt;
  /** Ours: when our driver and provider processes logged their start, ms after the pods' create. */
  readonly processesStarted?: ProcessesStarted;
}

/** Our driver's `volume mounted` / `volume content unchanged` / `volume content rotated` / `publish failed` lines. */
interface PublishCounts {
  readonly mounted: number;
  readonly unchanged: number;
  readonly rotated: number;
  readonly failed: number;
}

const PUBLISH_OUTCOMES: Record<string, keyof PublishCounts> = {
  'volume mounted': 'mounted',
  'volume content unchanged': 'unchanged',
  'volume content rotated': 'rotated',
  'publish failed': 'failed',
};

/** When each pod's first NodePublishVolume answered, ms after the pods' create: p50, p90 and the last. */
interface MountedAt {
  readonly first: number;
  readonly p50: number;
  readonly p90: number;
  readonly last: number;
}

/** Upstream's driver (klog) logs this once per successful NodePublishVolume, republishes included. */
const UPSTREAM_PUBLISHED = /"node publish volume complete" targetPath="([^"]+)"/;

/**
 * Reads the driver container's log (kubelet's CRI files: `<RFC 3339 time> <stream> <tag> <line>`) for the
 * lines in [from, to]: ours are counted by outcome; for both flavors, when each target path was first
 * published, so a start bunched at the end can be told apart from mounts that answered in turn.
 */
function publishesInWindow(
  node: NodeEndpoints,
  flavor: NodeFlavor,
  from: number,
  to: number,
): { counts: PublishCounts; mountedAt?: MountedAt; processesStarted?: ProcessesStarted } {
  const counts = { mounted: 0, unchanged: 0, rotated: 0, failed: 0 };
  const firstPublish = new Map<string, number>();
  const driverLines = containerLogLines(node, 'secrets-store');
  for (const { at, line } of driverLines) {
    if (!(at >= from && at <= to)) continue;
    if (flavor === 'upstream') {
      const target = UPSTREAM_PUBLISHED.exec(line)?.[1];
      if (target && !firstPublish.has(target)) firstPublish.set(target, at);
      continue;
    }
    let entry: { msg?: unknown; targetPath?: unknown };
    try {
      entry = JSON.parse(line.slice(line.indexOf('{'))) as typeof entry;
    } catch {
      continue;
    }
    const outcome = typeof entry.msg === 'string' ? PUBLISH_OUTCOMES[entry.msg] : undefined;
    if (outcome) counts[outcome]++;
    if (outcome === 'mounted' && typeof entry.targetPath === 'string' && !firstPublish.has(entry.targetPath))
      firstPublish.set(entry.targetPath, at);
  }
  const times = [...firstPublish.values()].map((at) => at - from).sort((a, b) => a - b);
  const mountedAt = times.length
    ? {
        first: times[0],
        p50: percentile(times, 50),
        p90: percentile(times, 90),
        last: times[times.length - 1],
      }
    : undefined;
  if (flavor !== 'ours') return { counts, mountedAt };
  const startedAt = (lines: readonly LogLine[], msg: string) => {
    const found = lines.filter((l) => l.line.includes(`"msg":"${msg}"`)).pop();
    return found ? found.at - from : undefined;
  };
  const providerLines = containerLogLines(node, 'provider-azure-installer');
  const processesStarted = {
    driver: startedAt(driverLines, 'driver started'),
    provider: startedAt(providerLines, 'provider started'),
    memoryRelease: { driver: memoryReleaseState(driverLines), provider: memoryReleaseState(providerLines) },
  };
  return { counts, mountedAt, processesStarted };
}

/**
 * When our driver and provider logged that they had started, ms after the pods' create (negative: before).
 * The install's pods are Running once their containers run, not once the processes serve, so the pods can
 * be created while a process still loads; under the provider's 50m limit that is seconds.
 */
interface ProcessesStarted {
  readonly driver?: number;
  readonly provider?: number;
  /** What each process logged of its memory release at start (runtime/common/memory). */
  readonly memoryRelease: { readonly driver: string; readonly provider: string };
}

/** `on, <MiB> released at start`, `off: <reason>`, or `not logged`. */
function memoryReleaseState(lines: readonly LogLine[]): string {
  for (const { line } of lines) {
    const json = line.slice(line.indexOf('{'));
    if (!json.includes('"msg":"memory release')) continue;
    try {
      const entry = JSON.parse(json) as { msg: string; releasedKiB?: number; reason?: string };
      if (entry.msg === 'memory release on')
        return `on, ${((entry.releasedKiB ?? 0) / 1024).toFixed(1)} MiB released at start`;
      if (entry.reason) return `off: ${entry.reason}`;
    } catch {
      // a line cut by the log rotation: keep looking
    }
  }
  return 'not logged';
}

/** A line of a container's log with its kubelet (CRI) time. */
interface LogLine {
  readonly at: number;
  readonly line: string;
}

/** Every line the install's `container` containers logged, oldest file first, each read once. */
function containerLogLines(node: NodeEndpoints, container: string): LogLine[] {
  return installContainerLogs(node)
    .filter((c) => c.container === container)
    .flatMap((c) => c.files)
    .flatMap((file) => fs.readFileSync(file, 'utf8').split('\n'))
    .map((line) => ({ at: Date.parse(line.slice(0, line.indexOf(' '))), line }));
}

interface CpuWindow {
  readonly cpuSeconds: number;
  readonly throttledPercent: number;
}

function cpuWindow(before: ContainerCgroupStats, after: ContainerCgroupStats): CpuWindow {
  const periods = after.periods - before.periods;
  return {
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
    throttledPercent: round((100 * (after.throttledPeriods - before.throttledPeriods)) / (periods || 1)),
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface PodItem {
  readonly metadata: { name: string; namespace: string };
  readonly status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; containerID?: string }[];
  };
}

const isReady = (pod: PodItem) =>
  pod.status?.phase === 'Running' &&
  !!pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** Appends `args` to the provider container of the install's provider DaemonSet. */
function withProviderArgs(install: ReturnType<typeof nodeInstall>, args: readonly string[]): void {
  type Container = { name: string; args?: string[] };
  const daemonSet = install.find(
    (o) => o.kind === 'DaemonSet' && String(o.metadata?.name).startsWith('csi-secrets-store-provider-'),
  ) as { spec?: { template?: { spec?: { containers?: Container[] } } } } | undefined;
  const container = daemonSet?.spec?.template?.spec?.containers?.find(
    (c) => c.name === 'provider-azure-installer',
  );
  if (!container) throw new Error('--our-provider-arg: the install has no provider DaemonSet container');
  container.args = [...(container.args ?? []), ...args];
  console.log(`bench/node: our provider's args: ${container.args.join(' ')}`);
}

/** Adds node `flags` to our driver container's command (`node <flags> <cli.js>`). */
function withDriverNodeFlags(install: ReturnType<typeof nodeInstall>, flags: readonly string[]): void {
  type Container = { name: string; command?: string[] };
  const container = install
    .filter((o) => o.kind === 'DaemonSet')
    .flatMap(
      (o) =>
        (o as { spec?: { template?: { spec?: { containers?: Container[] } } } }).spec?.template?.spec
          ?.containers ?? [],
    )
    .find((c) => c.name === 'secrets-store');
  if (!container?.command || container.command[0] !== 'node')
    throw new Error("--our-driver-node-flag: the install's driver container has no `node ...` command");
  container.command = [container.command[0], ...flags, ...container.command.slice(1)];
  console.log(`bench/node: our driver's command: ${container.command.join(' ')}`);
}

async function runFlavor(
  flavor: NodeFlavor,
  cluster: RigEndpoints,
  node: NodeEndpoints,
  opts: Options,
): Promise<FlavorResult> {
  const api = KubeApi.forEndpoints(cluster);
  const namespace = `bench-node-${flavor}-${randomBytes(3).toString('hex')}`;
  const azure = await startNodeAzure(node, { tenantId: TENANT_ID, vaultNames: [VAULT] });
  const install = nodeInstall(flavor, node, { rotationPollInterval: '5s' });
  if (flavor === 'ours' && opts.ourProviderArgs.length > 0) withProviderArgs(install, opts.ourProviderArgs);
  if (flavor === 'ours' && opts.ourDriverNodeFlags.length > 0)
    withDriverNodeFlags(install, opts.ourDriverNodeFlags);
  try {
    azure.entra.addFederatedClient({
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      subject: `system:serviceaccount:${namespace}:default`,
    });
    for (let i = 0; i < opts.objects; i++) azure.vault.setSecret(VAULT, `bench-${i}`, `value-${i}-v1`);
    await api.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    });
    await installOnNode(api, install, node);
    const objects = Array.from(
      { length: opts.objects },
      (_, i) => `  - |\n    objectName: bench-${i}\n    objectType: secret\n`,
    );
    await api.apply({
      apiVersion: `${SECRETS_STORE_API_GROUP}/v1`,
      kind: 'SecretProviderClass',
      metadata: { name: 'bench', namespace },
      spec: {
        provider: 'azure',
        parameters: {
          keyvaultName: VAULT,
          tenantId: TENANT_ID,
          clientID: CLIENT_ID,
          objects: `array:\n${objects.join('')}`,
        },
      },
    });
    const installed = await installPods(api, install, node);
    if (opts.settleSeconds > 0)
      await new Promise((resolve) => setTimeout(resolve, opts.settleSeconds * 1000));
    const driverPod = installed.find((p) => !p.metadata.name.startsWith('csi-secrets-store-provider-'))!;
    const providerPod = installed.find((p) => p.metadata.name.startsWith('csi-secrets-store-provider-'))!;
    const fullPod = (pod: { metadata: { name: string; namespace: string } }) =>
      api.get<PodItem>(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`);
    // Pids looked up once: the sampler and the rotation poll must not block the fakes' event loop.
    const pidsNow = containerPids(node);
    const driverPid = containerPid(node, await fullPod(driverPod), 'secrets-store', pidsNow);
    const providerPid = containerPid(node, await fullPod(providerPod), 'provider-azure-installer', pidsNow);
    const sampleRss = () => ({ driver: rssMiB(driverPid), provider: rssMiB(providerPid) });
    const peak = { driver: 0, provider: 0 };
    const sampler = setInterval(() => {
      const rss = sampleRss();
      peak.driver = Math.max(peak.driver, rss.driver);
      peak.provider = Math.max(peak.provider, rss.provider);
    }, 250);

    azure.vault.resetStats();
    azure.entra.resetStats();
    const cgroupsAt = () => ({
      driver: containerCgroupStats(driverPid),
      provider: containerCgroupStats(providerPid),
    });
    const beforeStart = cgroupsAt();
    const startedAt = Date.now();
    const names = Array.from({ length: opts.pods }, (_, i) => `bench-${i}`);
    const createdAt = new Map<string, number>();
    const readyAt = new Map<string, number>();
    await Promise.all(
      names.map(async (name) => {
        createdAt.set(name, Date.now());
        await api.create(`/api/v1/namespaces/${namespace}/pods`, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'busybox',
                image: NODE_IMAGE_NAMES.seedBusybox,
                command: ['/bin/sleep', '10000'],
                volumeMounts: [{ name: 'secrets', mountPath: '/mnt/secrets-store', readOnly: true }],
              },
            ],
            volumes: [
              {
                name: 'secrets',
                csi: {
                  driver: 'secrets-store.csi.k8s.io',
                  readOnly: true,
                  volumeAttributes: { secretProviderClass: 'bench' },
                },
              },
            ],
          },
        });
      }),
    );
    await waitUntil(
      async () => {
        const list = await api.get<{ items: PodItem[] }>(`/api/v1/namespaces/${namespace}/pods`);
        const now = Date.now();
        for (const pod of list.items)
          if (isReady(pod) && !readyAt.has(pod.metadata.name)) readyAt.set(pod.metadata.name, now);
        return readyAt.size === names.length;
      },
      { what: `${opts.pods} pods Running (${flavor})`, timeoutMs: 600_000, intervalMs: 250 },
    );
    const atRunning = cgroupsAt();
    const runningAt = Date.now();
    const startCpu = {
      driver: cpuWindow(beforeStart.driver, atRunning.driver),
      provider: cpuWindow(beforeStart.provider, atRunning.provider),
    };
    const starts = names.map((n) => readyAt.get(n)! - createdAt.get(n)!).sort((a, b) => a - b);
    const keyVaultGets = azure.vault.stats().authorizedRequests;
    const tokenRequests = azure.entra.stats().tokenRequests;
    clearInterval(sampler);
    const after = sampleRss();

    // One rotation: a new version of one object; every container must see it.
    const pods = (await api.get<{ items: PodItem[] }>(`/api/v1/namespaces/${namespace}/pods`)).items;
    const podPids = containerPids(node);
    const busyboxPids = pods.map(
      (pod) => [pod.metadata.name, containerPid(node, pod, 'busybox', podPids)] as const,
    );
    const rotatedAt = Date.now();
    azure.vault.setSecret(VAULT, 'bench-0', 'value-0-v2');
    const seen = new Set<string>();
    await waitUntil(
      async () => {
        for (const [name, pid] of busyboxPids) {
          if (!seen.has(name) && readAsProcess(pid, '/mnt/secrets-store/bench-0') === 'value-0-v2')
            seen.add(name);
        }
        return seen.size === pods.length;
      },
      { what: `every container sees the rotation (${flavor})`, timeoutMs: 300_000, intervalMs: 500 },
    );
    const rotationMs = Date.now() - rotatedAt;
    const cgroups = cgroupsAt();

    return {
      flavor,
      startMs: { p50: percentile(starts, 50), p90: percentile(starts, 90), max: starts[starts.length - 1] },
      keyVaultGets,
      tokenRequests,
      driverRssMiB: { peak: round(peak.driver), after: round(after.driver) },
      providerRssMiB: { peak: round(peak.provider), after: round(after.provider) },
      rotationMs,
      cgroups,
      startCpu,
      createdAt: new Date(startedAt).toISOString(),
      ...publishFacts(publishesInWindow(node, flavor, startedAt, runningAt), flavor),
    };
  } finally {
    await api.delete(`/api/v1/namespaces/${namespace}`);
    await waitUntil(async () => !(await api.find(`/api/v1/namespaces/${namespace}`)), {
      what: `namespace ${namespace} deleted`,
      timeoutMs: 300_000,
      intervalMs: 1000,
    }).catch((error: Error) => console.warn(error.message));
    await uninstallFromNode(api, install, node);
    await azure.dispose();
    api.close();
  }
}

function publishFacts(
  found: ReturnType<typeof publishesInWindow>,
  flavor: NodeFlavor,
): Pick<FlavorResult, 'startPublishes' | 'mountedAt' | 'processesStarted'> {
  return {
    ...(found.processesStarted ? { processesStarted: found.processesStarted } : {}),
    ...(flavor === 'ours' ? { startPublishes: found.counts } : {}),
    ...(found.mountedAt ? { mountedAt: found.mountedAt } : {}),
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function table(results: readonly FlavorResult[], opts: Options): string {
  const [ours, upstream] = results;
  const rows: [string, (r: FlavorResult) => number][] = [
    ['create → Running p50 (ms)', (r) => r.startMs.p50],
    ['create → Running p90 (ms)', (r) => r.startMs.p90],
    ['create → Running max (ms)', (r) => r.startMs.max],
    ['first publish answered, p50 (ms after create; driver log)', (r) => r.mountedAt?.p50 ?? NaN],
    ['first publish answered, p90 (ms after create)', (r) => r.mountedAt?.p90 ?? NaN],
    ['first publish answered, last (ms after create)', (r) => r.mountedAt?.last ?? NaN],
    ['Key Vault GETs', (r) => r.keyVaultGets],
    ['Entra token requests', (r) => r.tokenRequests],
    ['driver RSS peak (MiB)', (r) => r.driverRssMiB.peak],
    ['driver RSS after start (MiB)', (r) => r.driverRssMiB.after],
    ['provider RSS peak (MiB)', (r) => r.providerRssMiB.peak],
    ['provider RSS after start (MiB)', (r) => r.providerRssMiB.after],
    ['rotation: all containers see it (ms)', (r) => r.rotationMs],
    ...(['driver', 'provider'] as const).flatMap((c): [string, (r: FlavorResult) => number][] => [
      [`${c} CPU from create to all Running (s)`, (r) => Math.round(r.startCpu[c].cpuSeconds * 100) / 100],
      [`${c} CFS periods throttled from create to all Running (%)`, (r) => r.startCpu[c].throttledPercent],
    ]),
    ...(['driver', 'provider'] as const).flatMap((c): [string, (r: FlavorResult) => number][] => [
      [`${c} cgroup memory peak, page cache included (MiB)`, (r) => round(r.cgroups[c].memoryPeakMiB)],
      [`${c} cgroup working set after (MiB)`, (r) => round(r.cgroups[c].workingSetMiB)],
      [`${c} CPU used (s)`, (r) => Math.round(r.cgroups[c].cpuSeconds * 100) / 100],
      [
        `${c} CFS periods throttled (%)`,
        (r) => round((100 * r.cgroups[c].throttledPeriods) / (r.cgroups[c].periods || 1)),
      ],
    ]),
  ];
  const lines = [
    `node bench: ${opts.pods} pods × ${opts.objects} objects, created at once ${opts.settleSeconds} s after the install's pods run (kubelet syncFrequency 10s, rotation poll 5s)`,
    `| metric | ours | upstream (driver ${rigVersions().upstreamDriver}, provider ${rigVersions().upstreamProvider}) | ours / upstream |`,
    '|---|---|---|---|',
    ...rows.map(([name, pick]) => {
      const [a, b] = [pick(ours), pick(upstream)];
      return `| ${name} | ${a} | ${b} | ${b ? (a / b).toFixed(2) : 'n/a'} |`;
    }),
  ];
  for (const r of results)
    for (const c of ['driver', 'provider'] as const) {
      const g = r.cgroups[c];
      lines.push(
        `${r.flavor} ${c}: limits ${g.cpuLimitMillicores ?? 'none'}m CPU / ${g.memoryLimitMiB ?? 'none'} MiB; ` +
          `headroom over the cgroup peak ${g.memoryLimitMiB === undefined ? 'n/a' : round(g.memoryLimitMiB - g.memoryPeakMiB)} MiB, ` +
          `over the working set ${g.memoryLimitMiB === undefined ? 'n/a' : round(g.memoryLimitMiB - g.workingSetMiB)} MiB; ` +
          `limit hits ${g.memoryLimitHits}, OOM kills ${g.oomKills}; throttled ${round(g.throttledSeconds)} s`,
      );
    }
  lines.push("(cgroup counters from container start, through the pods' start and the rotation)");
  const started = ours.processesStarted;
  if (started)
    lines.push(
      `ours: the processes logged their start ${started.driver ?? 'n/a'} ms (driver) and ` +
        `${started.provider ?? 'n/a'} ms (provider) after the pods' create (negative: before it); ` +
        `memory release: driver ${started.memoryRelease.driver}, provider ${started.memoryRelease.provider}`,
    );
  const publishes = ours.startPublishes;
  if (publishes)
    lines.push(
      `ours: driver publishes from create to all Running: ${publishes.mounted} first mounts, ` +
        `${publishes.unchanged + publishes.rotated} rotation checks that called the provider ` +
        `(${publishes.rotated} changed), ${publishes.failed} failed first mounts`,
    );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const opts = options();
  const unavailable = nodeUnavailable();
  if (unavailable) throw new Error(`the node cannot run here: ${unavailable}`);
  const processes: RigProcess[] = [];
  const rig: NodeRig = {};
  const onSignal = () => {
    killRigNow({ processes });
    if (rig.node) sweepLeftovers(rig.node.leftovers);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { running, node } = await startNodeRig(rig, processes);
    const results: FlavorResult[] = [];
    for (const flavor of ['ours', 'upstream'] as const) {
      console.log(`bench/node: ${flavor} ...`);
      results.push(await runFlavor(flavor, running.endpoints, node.endpoints, opts));
    }
    // The kubelet's log (its --v=2 lines: volume setup, sandbox and container starts) for a look at where a
    // start's time goes; the node's dir is removed with the node.
    const kubeletLog = path.join(node.endpoints.dir, 'logs', 'kubelet.log');
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    if (fs.existsSync(kubeletLog))
      fs.copyFileSync(kubeletLog, path.join(path.dirname(RESULTS), 'node-kubelet.log'));
    const report = table(results, opts);
    console.log(report);
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(
      RESULTS,
      JSON.stringify({ date: new Date().toISOString(), options: opts, results }, null, 2),
    );
    console.log(`bench/node: wrote ${RESULTS}`);
  } finally {
    await stopNodeRig(rig);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
