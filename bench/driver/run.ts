// Driver benchmark (not a test): our driver against the upstream driver binary, the same bench provider
// behind both, the real kube-apiserver + etcd (+ controller-manager) from the rig. Prints a table with
// ratios and writes bench/results/driver.json.
//
//   sudo bash harness/rig/build.sh            # once: kube-apiserver, etcd, upstream driver, ...
//   sudo npx ts-node --transpile-only bench/driver/run.ts [--volumes=110] [--rotation-seconds=60]
//       [--baseline=<commit>]... [--only=<label>] [--our-node-option=<flag>]... [--our-env=NAME=value]...
//       [--cpu-prof=<dir>] [--apiserver-audit]
//
// Ours runs as the image runs it: compiled from the working tree (harness/bench/our-builds.ts) on the
// image's Node 24 with the NODE_OPTIONS/allocator environment the install sets on the driver container
// (harness/bench/shipped-runtime.ts); `--our-node-option` replaces NODE_OPTIONS. `--baseline=<commit>`
// adds that commit's build as one more column, so before, after and upstream run in one run under the
// same load. The drivers run one after the other.
//
// The volumes spread over SPC_COUNT SecretProviderClasses, each naming its own vault and identity (half
// service principals, whose nodePublishSecretRef data kubelet passes in the request; half workload
// identities), one in SYNC_EVERY with secretObjects (a synced Kubernetes Secret).
//
// Measures, per driver:
//   - NodePublish latency: first mount, unchanged republish, changed republish (after the poll interval);
//   - memory with all volumes mounted and at the end: RSS (anonymous / file-backed) for both, and for ours
//     process.memoryUsage() (heap, external, array buffers) from a preloaded probe; peak RSS (VmHWM);
//   - rotation cost in a scaled kubelet model: every volume republished every 1 s for 60 s with
//     --rotation-poll-interval=2s and an unchanged secret: provider Mount calls per volume (target ours <= 30);
//   - CPU seconds of the driver process;
//   - with --apiserver-audit (needs the bench's own rig): the driver's API requests while its first mounts
//     were timed, per first mount, by verb and resource, with the server-side time of each, from the
//     apiserver's audit log (apiserver-audit.ts).
// Needs root (tmpfs mounts). Every loop is bounded in count and time.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { secretProviderClassCrd, secretProviderClassPodStatusCrd } from '../../lib/core/install/crds';
import { baselineBuilds, buildWorkingTree, OurBuild } from '../../harness/bench/our-builds';
import { procCpuSeconds } from '../../harness/bench/process-cpu';
import {
  describeSample,
  MemoryProbe,
  MemorySample,
  mib,
  procMemory,
} from '../../harness/bench/process-memory';
import { shippedNode, shippedNodeFlags, shippedTuningEnv } from '../../harness/bench/shipped-runtime';
import {
  KubeClient,
  loadKubeConfig,
  NAMESPACES,
  Pod,
  PODS,
  SECRET_PROVIDER_CLASSES,
} from '../../runtime/driver/cluster/kube';
import { KubeResource, KubeResourceObject } from '../../runtime/driver/cluster/kube';
import { RunningRig, startRig, stopRig } from '../../harness/rig/cluster';
import { RigProcess, spawnLogged, stopProcess, waitUntil } from '../../harness/rig/processes';
import { rig, rigCacheDir, rigVersions } from '../../harness/rig/rig-env';
import { ApiserverRequests, describeRequests, driverRequests } from './apiserver-audit';
import { BenchProvider, startBenchProvider } from './bench-provider';
import { BenchVolume, KubeletModel, kubeletTargetPath } from './kubelet-model';

const REPO = path.resolve(__dirname, '..', '..');
/** One namespace per run, so a reused rig never holds a previous run's objects. */
const NAMESPACE = `bench-${process.pid}`;
const PROVIDER_NAME = 'bench';
/** `--nodeid` of both drivers and the pods' spec.nodeName: the pods are this node's, as kubelet's are. */
const NODE_NAME = 'bench-node';
const POLL_INTERVAL_S = 2;
/** SecretProviderClasses the volumes spread over (each its own vault and identity). */
const SPC_COUNT = 10;
/** One SPC in this many syncs a Kubernetes Secret (secretObjects). */
const SYNC_EVERY = 5;
const TENANT_ID = '6b1a7d3e-0c5f-4a3e-9b1d-2f3e4a5b6c7d';
const spcName = (i: number) => `bench-spc-${i}`;
const spcIdentity = (i: number): 'sp' | 'wi' => (i % 2 === 0 ? 'sp' : 'wi');

interface Options {
  volumes: number;
  rotationSeconds: number;
  republishPeriodMs: number;
  latencySamples: number;
  /**
   * NODE_OPTIONS for our driver process. Default: the ones the self-hosted install sets on our driver
   * container, so the bench measures what ships; any --our-node-option replaces them.
   */
  ourNodeOptions?: string[];
  /**
   * `--our-node-flag=<flag>` (repeatable; `none` for no flag): replaces the node flags the install puts on
   * our driver's command line (V8 flags NODE_OPTIONS refuses).
   */
  ourNodeFlags?: string[];
  /** Measure only the driver of this label (ours, ours@<commit>, upstream). */
  only?: string;
  /** `--baseline=<commit>` arguments. */
  baselines: string[];
  /** Write a CPU profile of our driver(s) here (`--cpu-prof`). */
  cpuProfDir?: string;
  /** `--our-env=NAME=value`: replaces the install's tuning variable NAME for ours. */
  ourEnv: Record<string, string>;
  /** `--apiserver-audit`: count and time each driver's API requests during its first mounts. */
  apiserverAudit: boolean;
}

/** The same upstream-named flags for both drivers, so the two runs differ only in the binary. */
function driverFlags(socketPath: string, providerDir: string): string[] {
  return [
    `--endpoint=unix://${socketPath}`,
    `--nodeid=${NODE_NAME}`,
    `--provider-volume=${providerDir}`,
    `--additional-provider-volume-paths=${providerDir}`,
    '--enable-secret-rotation=true',
    `--rotation-poll-interval=${POLL_INTERVAL_S}s`,
    '--metrics-addr=127.0.0.1:0',
  ];
}

function parseOptions(argv: string[]): Options {
  const opts: Options = {
    volumes: 110,
    rotationSeconds: 60,
    republishPeriodMs: 1000,
    latencySamples: 110,
    baselines: [],
    ourEnv: {},
    apiserverAudit: false,
  };
  for (const arg of argv) {
    const nodeFlag = /^--our-node-flag=(none|--[a-z0-9-]+(=[\w.]+)?)$/.exec(arg);
    if (nodeFlag) {
      opts.ourNodeFlags = [...(opts.ourNodeFlags ?? []), ...(nodeFlag[1] === 'none' ? [] : [nodeFlag[1]])];
      continue;
    }
    const nodeOption = /^--our-node-option=(--[a-z0-9-]+(=[\w.]+)?)$/.exec(arg);
    if (nodeOption) {
      opts.ourNodeOptions = [...(opts.ourNodeOptions ?? []), nodeOption[1]];
      continue;
    }
    const only = /^--only=(.+)$/.exec(arg);
    if (only) {
      opts.only = only[1];
      continue;
    }
    if (/^--baseline=.+$/.test(arg)) {
      opts.baselines.push(arg);
      continue;
    }
    const envVar = /^--our-env=([A-Z_][A-Z0-9_]*)=(.*)$/s.exec(arg);
    if (envVar) {
      opts.ourEnv[envVar[1]] = envVar[2];
      continue;
    }
    if (arg === '--apiserver-audit') {
      opts.apiserverAudit = true;
      continue;
    }
    const cpuProf = /^--cpu-prof=(.+)$/.exec(arg);
    if (cpuProf) {
      opts.cpuProfDir = path.resolve(cpuProf[1]);
      continue;
    }
    const m = /^--(volumes|rotation-seconds)=(\d+)$/.exec(arg);
    if (!m)
      throw new Error(
        `unknown argument ${arg}; expected --volumes=<n>, --rotation-seconds=<n>, --baseline=<commit>, --only=<label>, --cpu-prof=<dir>, --our-env=NAME=value, --our-node-option=<flag>, --our-node-flag=<flag|none> or --apiserver-audit`,
      );
    if (m[1] === 'volumes') opts.volumes = Number(m[2]);
    else opts.rotationSeconds = Number(m[2]);
  }
  if (opts.volumes < 1 || opts.volumes > 500) throw new Error('--volumes must be between 1 and 500');
  if (opts.rotationSeconds < 4 || opts.rotationSeconds > 600)
    throw new Error('--rotation-seconds must be between 4 and 600');
  opts.latencySamples = opts.volumes;
  return opts;
}

interface LatencyStats {
  n: number;
  p50Ms: number;
  p90Ms: number;
  maxMs: number;
}

interface DriverResult {
  driver: string;
  version: string;
  runtime: { node?: string; nodeFlags?: string[]; env?: Record<string, string>; fallbackReason?: string };
  loadAverage1m: { start: number; end: number };
  volumes: number;
  secretProviderClasses: number;
  firstMount: LatencyStats;
  /** Wall-clock window (ms since the epoch) in which the first mounts were timed. */
  firstMountWindow: { startMs: number; endMs: number };
  /** With --apiserver-audit: what the driver asked the API server in that window. */
  firstMountRequests?: ApiserverRequests;
  unchangedRepublish: LatencyStats;
  changedRepublish: LatencyStats;
  rssMiBWithVolumes: number;
  peakRssMiB: number;
  memoryWithVolumes: MemorySample;
  memoryAtEnd: MemorySample;
  cpuSeconds: { publishes: number; rotation: number };
  rotation: {
    seconds: number;
    republishPeriodMs: number;
    pollIntervalS: number;
    ticksRun: number;
    republishCalls: number;
    providerCalls: number;
    providerCallsPerVolume: number;
    republishErrors: number;
  };
  errors: string[];
}

function stats(samples: number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    n: sorted.length,
    p50Ms: round(at(0.5)),
    p90Ms: round(at(0.9)),
    maxMs: round(sorted[sorted.length - 1] ?? NaN),
  };
}

const toMiB = (kib: number) => Math.round((kib / 1024) * 10) / 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function prepareCluster(kube: KubeClient, volumes: number): Promise<Pod[]> {
  const crds: KubeResource = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    namespaced: false,
  };
  for (const crd of [secretProviderClassCrd(), secretProviderClassPodStatusCrd()]) {
    await kube.patch(crds, crd.metadata.name, crd, { type: 'apply', fieldManager: 'bench', force: true });
  }
  await waitUntil(
    async () => {
      const got = await kube.get<
        KubeResourceObject & { status?: { conditions?: Array<{ type: string; status: string }> } }
      >(crds, secretProviderClassCrd().metadata.name);
      return !!got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    },
    { what: 'SecretProviderClass CRD established', timeoutMs: 60_000 },
  );
  await kube.create(NAMESPACES, { metadata: { name: NAMESPACE } }).catch(() => undefined);
  await waitUntil(
    async () =>
      !!(await kube.get(
        { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
        'default',
        NAMESPACE,
      )),
    {
      what: 'default ServiceAccount',
      timeoutMs: 60_000,
    },
  );
  for (let i = 0; i < SPC_COUNT; i++) await kube.create(SECRET_PROVIDER_CLASSES, benchSpc(i));
  const pods: Pod[] = [];
  for (let i = 0; i < volumes; i++) {
    pods.push(
      await kube.create<Pod>(PODS, {
        metadata: { name: `app-${i}`, namespace: NAMESPACE },
        spec: {
          // Bound to the drivers' node, so a driver's cache of its node's pods holds them (no kubelet runs:
          // they are deleted with gracePeriodSeconds 0 at the end).
          nodeName: NODE_NAME,
          automountServiceAccountToken: false,
          containers: [{ name: 'app', image: 'registry.invalid/app:1' }],
          // The volume the kubelet model's target path names: our driver checks the path against the pod.
          volumes: [
            {
              name: 'secrets-store-inline',
              csi: {
                driver: 'secrets-store.csi.k8s.io',
                readOnly: true,
                volumeAttributes: { secretProviderClass: spcName(i % SPC_COUNT) },
              },
            },
          ],
        },
      } as Pod),
    );
  }
  return pods;
}

/** The run's pods (bound to a node without a kubelet, so deleted at once) and then its namespace. */
async function deleteBenchObjects(kube: KubeClient, pods: readonly Pod[]): Promise<void> {
  for (const pod of pods)
    await kube
      .delete(PODS, pod.metadata.name!, { namespace: NAMESPACE, gracePeriodSeconds: 0 })
      .catch(() => undefined);
  await kube.delete(NAMESPACES, NAMESPACE).catch(() => undefined);
}

/** SPC `i`: its own vault and identity, the objects the bench provider answers, and sync for one in SYNC_EVERY. */
function benchSpc(i: number): KubeResourceObject {
  const objects = ['username', 'password', 'bundle.pem']
    .map((name) => `  - |\n    objectName: ${name}\n    objectType: secret\n`)
    .join('');
  return {
    metadata: { name: spcName(i), namespace: NAMESPACE },
    spec: {
      provider: PROVIDER_NAME,
      parameters: {
        keyvaultName: `benchkv${i}`,
        tenantId: TENANT_ID,
        ...(spcIdentity(i) === 'wi'
          ? { clientID: `c0000000-0000-4000-8000-${String(i).padStart(12, '0')}` }
          : {}),
        objects: `array:\n${objects}`,
      },
      ...(i % SYNC_EVERY === 0
        ? {
            secretObjects: [
              {
                secretName: `bench-synced-${i}`,
                type: 'Opaque',
                data: [
                  { objectName: 'username', key: 'username' },
                  { objectName: 'password', key: 'password' },
                ],
              },
            ],
          }
        : {}),
    },
  } as KubeResourceObject;
}

interface DriverUnderTest {
  name: string;
  version: string;
  runtime: DriverResult['runtime'];
  /** Present for ours: the process's own memory breakdown. */
  probe?: MemoryProbe;
  start(props: { socketPath: string; providerDir: string; logDir: string; kubeconfig: string }): RigProcess;
}

async function benchDriver(
  driver: DriverUnderTest,
  pods: Pod[],
  opts: Options,
  kubeconfig: string,
  baseDir: string,
): Promise<DriverResult> {
  const dir = path.join(baseDir, driver.name);
  const providerDir = path.join(dir, 'providers');
  const kubeletRoot = path.join(dir, 'kubelet');
  const socketPath = path.join(dir, 'csi', 'csi.sock');
  fs.mkdirSync(path.dirname(socketPath), { recursive: true });
  fs.mkdirSync(providerDir, { recursive: true });
  const errors: string[] = [];
  const provider: BenchProvider = await startBenchProvider({
    socketPath: path.join(providerDir, `${PROVIDER_NAME}.sock`),
  });
  const proc = driver.start({ socketPath, providerDir, logDir: dir, kubeconfig });
  const kubelet = new KubeletModel(socketPath);
  const volumes: BenchVolume[] = pods.map((pod, i) => ({
    podName: pod.metadata.name!,
    podNamespace: NAMESPACE,
    podUid: pod.metadata.uid!,
    spcName: spcName(i % SPC_COUNT),
    targetPath: kubeletTargetPath(kubeletRoot, pod.metadata.uid!, 'secrets-store-inline'),
    // A service principal's SPC: kubelet passes the nodePublishSecretRef data in the request.
    ...(spcIdentity(i % SPC_COUNT) === 'sp'
      ? {
          secrets: {
            clientid: `b0000000-0000-4000-8000-${String(i % SPC_COUNT).padStart(12, '0')}`,
            clientsecret: 'bench-sp-secret',
          },
        }
      : {}),
  }));
  const loadStart = os.loadavg()[0];
  const sample = (): Promise<MemorySample> =>
    driver.probe ? driver.probe.sample(proc.pid) : Promise.resolve(procMemory(proc.pid));
  const mounted = new Set<BenchVolume>();
  try {
    await waitUntil(async () => fs.existsSync(socketPath) && (await kubelet.probe(), true), {
      what: `${driver.name} driver socket`,
      timeoutMs: 60_000,
      process: proc,
    });
    // Let the driver's caches fill (upstream's informers; our watch cache) before timing anything.
    await sleep(2000);

    const cpuAtStart = procCpuSeconds(proc.pid);
    const first: number[] = [];
    const firstMountWindow = { startMs: Date.now(), endMs: 0 };
    for (const volume of volumes) {
      first.push(await kubelet.publish(volume));
      mounted.add(volume);
    }
    firstMountWindow.endMs = Date.now();
    await sleep(500);
    const memoryWithVolumes = await sample();

    // Unchanged republish after the poll interval: the provider is asked, nothing changes.
    await sleep(POLL_INTERVAL_S * 1000 + 200);
    const unchanged: number[] = [];
    for (const volume of volumes) unchanged.push(await kubelet.publish(volume));

    // Changed republish after the poll interval: new content is written.
    provider.bumpGeneration();
    await sleep(POLL_INTERVAL_S * 1000 + 200);
    const changed: number[] = [];
    for (const volume of volumes) changed.push(await kubelet.publish(volume));
    const changedFiles = volumes.filter((v) => {
      try {
        return fs.readFileSync(path.join(v.targetPath, 'password'), 'utf8') === 'password-generation-2';
      } catch {
        return false;
      }
    }).length;
    if (changedFiles !== volumes.length)
      errors.push(`changed republish: only ${changedFiles}/${volumes.length} volumes show the new content`);

    const cpuAfterPublishes = procCpuSeconds(proc.pid);
    // Rotation model: republish every volume every period for the duration, unchanged content.
    provider.resetCounts();
    const started = Date.now();
    let ticks = 0;
    let republishCalls = 0;
    let republishErrors = 0;
    const maxTicks = Math.ceil((opts.rotationSeconds * 1000) / opts.republishPeriodMs);
    for (; ticks < maxTicks; ticks++) {
      const tickStart = started + ticks * opts.republishPeriodMs;
      const wait = tickStart - Date.now();
      if (wait > 0) await sleep(wait);
      if (Date.now() - started >= opts.rotationSeconds * 1000) break;
      // kubelet's volume manager runs republishes in parallel workers; 10 at a time here.
      const queue = [...volumes];
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          for (let v = queue.shift(); v; v = queue.shift()) {
            republishCalls++;
            await kubelet.publish(v).catch(() => republishErrors++);
          }
        }),
      );
    }
    const providerCalls = [...provider.callsByTarget.values()].reduce((a, b) => a + b, 0);
    const cpuAtEnd = procCpuSeconds(proc.pid);
    const memoryAtEnd = await sample();
    return {
      driver: driver.name,
      version: driver.version,
      runtime: driver.runtime,
      loadAverage1m: { start: loadStart, end: os.loadavg()[0] },
      volumes: volumes.length,
      secretProviderClasses: SPC_COUNT,
      firstMount: stats(first),
      firstMountWindow,
      unchangedRepublish: stats(unchanged),
      changedRepublish: stats(changed),
      rssMiBWithVolumes: toMiB(memoryWithVolumes.rssKiB),
      peakRssMiB: toMiB(memoryAtEnd.peakRssKiB),
      memoryWithVolumes,
      memoryAtEnd,
      cpuSeconds: {
        publishes: Math.round((cpuAfterPublishes - cpuAtStart) * 100) / 100,
        rotation: Math.round((cpuAtEnd - cpuAfterPublishes) * 100) / 100,
      },
      rotation: {
        seconds: opts.rotationSeconds,
        republishPeriodMs: opts.republishPeriodMs,
        pollIntervalS: POLL_INTERVAL_S,
        ticksRun: ticks,
        republishCalls,
        providerCalls,
        providerCallsPerVolume: Math.round((providerCalls / volumes.length) * 10) / 10,
        republishErrors,
      },
      errors,
    };
  } finally {
    for (const volume of mounted) {
      await kubelet
        .unpublish(volume)
        .catch((err: unknown) => errors.push(`unpublish ${volume.podName}: ${(err as Error).message}`));
    }
    kubelet.close();
    await stopProcess(proc);
    await provider.close();
    // Whatever a failed unpublish left mounted under this driver's kubelet root goes too.
    const leftovers = fs
      .readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1])
      .filter((mountPoint) => mountPoint?.startsWith(kubeletRoot));
    for (const mountPoint of leftovers) {
      try {
        execFileSync('umount', [mountPoint]);
      } catch {
        errors.push(`left mounted: ${mountPoint}`);
      }
    }
  }
}

function table(results: DriverResult[]): string {
  const upstream = results.find((r) => r.driver === 'upstream');
  const ours = results.filter((r) => r !== upstream);
  // [label, cell, number compared with upstream (ours/upstream) or undefined]
  const rows: Array<[string, (r: DriverResult) => string, ((r: DriverResult) => number)?]> = [
    ['version', (r) => r.version],
    ['volumes / SecretProviderClasses', (r) => `${r.volumes} / ${r.secretProviderClasses}`],
    [
      'first mount p50 / p90 (ms)',
      (r) => `${r.firstMount.p50Ms} / ${r.firstMount.p90Ms}`,
      (r) => r.firstMount.p50Ms,
    ],
    [
      'unchanged republish p50 / p90 (ms)',
      (r) => `${r.unchangedRepublish.p50Ms} / ${r.unchangedRepublish.p90Ms}`,
      (r) => r.unchangedRepublish.p50Ms,
    ],
    [
      'changed republish p50 / p90 (ms)',
      (r) => `${r.changedRepublish.p50Ms} / ${r.changedRepublish.p90Ms}`,
      (r) => r.changedRepublish.p50Ms,
    ],
    [
      'RSS with volumes mounted (MiB, target ≤ 64)',
      (r) => String(r.rssMiBWithVolumes),
      (r) => r.rssMiBWithVolumes,
    ],
    [
      '  anon / file-backed (MiB)',
      (r) => `${mib(r.memoryWithVolumes.rssAnonKiB)} / ${mib(r.memoryWithVolumes.rssFileKiB)}`,
    ],
    [
      '  heap used / total, external / arrayBuffers (MiB)',
      (r) => {
        const n = r.memoryWithVolumes.node;
        return n
          ? `${mib(n.heapUsedKiB)} / ${mib(n.heapTotalKiB)}, ${mib(n.externalKiB)} / ${mib(n.arrayBuffersKiB)}`
          : '';
      },
    ],
    ['peak RSS (MiB, target ≤ 72)', (r) => String(r.peakRssMiB), (r) => r.peakRssMiB],
    ['RSS at the end (after the rotation model)', (r) => describeSample(r.memoryAtEnd)],
    [
      'CPU s: first mounts + republishes',
      (r) => String(r.cpuSeconds.publishes),
      (r) => r.cpuSeconds.publishes,
    ],
    ['CPU s: rotation model', (r) => String(r.cpuSeconds.rotation), (r) => r.cpuSeconds.rotation],
    [
      'rotation: provider calls per volume',
      (r) => `${r.rotation.providerCallsPerVolume} (${r.rotation.ticksRun} ticks)`,
    ],
    ['rotation: republish errors', (r) => String(r.rotation.republishErrors)],
    ...(results.some((r) => r.firstMountRequests)
      ? ([
          [
            'API requests per first mount (server p50)',
            (r) => (r.firstMountRequests ? describeRequests(r.firstMountRequests) : ''),
            (r) => r.firstMountRequests?.perFirstMount ?? 0,
          ],
        ] as typeof rows)
      : []),
  ];
  const ratioHeads = upstream ? ours.map((r) => `${r.driver}/upstream`) : [];
  const cellsOf = ([, f, n]: (typeof rows)[number]) => [
    ...results.map(f),
    ...(upstream ? ours.map((r) => (n && n(upstream) ? `${(n(r) / n(upstream)).toFixed(2)}×` : '')) : []),
  ];
  const heads = [...results.map((r) => r.driver), ...ratioHeads];
  const width = Math.max(...rows.map(([label]) => label.length));
  const cols = heads.map((h, i) => Math.max(h.length, ...rows.map((row) => cellsOf(row)[i].length)));
  const line = (label: string, cells: string[]) =>
    `| ${label.padEnd(width)} | ${cells.map((c, i) => c.padEnd(cols[i])).join(' | ')} |`;
  return [
    line('', heads),
    `|${'-'.repeat(width + 2)}|${cols.map((c) => '-'.repeat(c + 2)).join('|')}|`,
    ...rows.map((row) => line(row[0], cellsOf(row))),
  ].join('\n');
}

function ourDriver(build: OurBuild, opts: Options): DriverUnderTest {
  const node = shippedNode();
  const env = {
    ...shippedTuningEnv('secrets-store'),
    ...(opts.ourNodeOptions ? { NODE_OPTIONS: opts.ourNodeOptions.join(' ') } : {}),
    ...opts.ourEnv,
  };
  const nodeFlags = opts.ourNodeFlags ?? shippedNodeFlags('secrets-store');
  const probe = new MemoryProbe();
  const profile = opts.cpuProfDir
    ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`, `--cpu-prof-name=${build.label}.cpuprofile`]
    : [];
  return {
    name: build.label,
    version: `${JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version} (${build.source})`,
    runtime: { node: node.version, nodeFlags, env, fallbackReason: node.fallbackReason },
    probe,
    start: ({ socketPath, providerDir, logDir, kubeconfig }) =>
      spawnLogged({
        name: build.label,
        binary: node.binary,
        args: [
          ...probe.nodeArgs(),
          ...profile,
          ...nodeFlags,
          build.cli,
          'driver',
          ...driverFlags(socketPath, providerDir),
        ],
        logDir,
        env: { KUBECONFIG: kubeconfig, ...env, ...probe.env() },
      }),
  };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the driver benchmark mounts tmpfs: run it as root');
  const builds = [buildWorkingTree(), ...baselineBuilds(opts.baselines)];
  // Only the upstream driver binary is needed here (rigBinaries() insists on every rig component).
  const upstreamVersion = rigVersions().upstreamDriver;
  const upstreamPath = path.join(
    rigCacheDir(),
    `secrets-store-csi-driver-${upstreamVersion}`,
    'secrets-store-csi-driver',
  );
  const upstreamDriver = fs.existsSync(upstreamPath) ? upstreamPath : undefined;
  const upstreamMissing = upstreamDriver
    ? undefined
    : `${upstreamPath} is not built: run \`bash harness/rig/build.sh\``;
  // A rig already running (RIG_KUBECONFIG etc. exported, e.g. by a jest rig session) is reused; else one is started.
  if (opts.apiserverAudit && process.env.RIG_KUBECONFIG)
    throw new Error('--apiserver-audit needs the bench to start its own rig: unset RIG_KUBECONFIG');
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aks-bench-driver-'));
  const auditLog = opts.apiserverAudit ? path.join(baseDir, 'apiserver-audit.log') : undefined;
  const running: RunningRig | undefined = process.env.RIG_KUBECONFIG
    ? undefined
    : await startRig({ lowkeyVault: false, auditLogPath: auditLog });
  const endpoints = running?.endpoints ?? rig();
  const results: DriverResult[] = [];
  const kube = new KubeClient(loadKubeConfig({ env: { KUBECONFIG: endpoints.kubeconfig } }));
  const loadAtStart = os.loadavg()[0];
  let pods: Pod[] = [];
  try {
    pods = await prepareCluster(kube, opts.volumes);
    const drivers: DriverUnderTest[] = builds.map((b) => ourDriver(b, opts));
    if (upstreamDriver) {
      drivers.push({
        name: 'upstream',
        version: upstreamVersion,
        runtime: {},
        start: ({ socketPath, providerDir, logDir, kubeconfig }) =>
          spawnLogged({
            name: 'upstream',
            binary: upstreamDriver!,
            args: driverFlags(socketPath, providerDir),
            logDir,
            env: { KUBECONFIG: kubeconfig },
          }),
      });
    }
    for (const driver of drivers.filter((d) => !opts.only || d.name === opts.only)) {
      process.stdout.write(`bench: ${driver.name} driver, ${opts.volumes} volumes...\n`);
      try {
        const result = await benchDriver(driver, pods, opts, endpoints.kubeconfig, baseDir);
        if (auditLog)
          result.firstMountRequests = driverRequests(auditLog, result.firstMountWindow, result.firstMount.n);
        results.push(result);
      } catch (err) {
        process.stdout.write(`bench: ${driver.name} failed: ${(err as Error).message}\n`);
        results.push({ driver: driver.name, errors: [(err as Error).message] } as DriverResult);
      } finally {
        driver.probe?.dispose();
      }
    }
  } finally {
    await deleteBenchObjects(kube, pods);
    kube.close();
    if (running) await stopRig(running);
    fs.rmSync(baseDir, { recursive: true, force: true });
  }
  const complete = results.filter((r) => r.firstMount);
  process.stdout.write(
    `\ndriver bench: ${os.cpus().length} CPUs, load average ${loadAtStart.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}\n`,
  );
  for (const r of complete)
    process.stdout.write(
      `  ${r.driver}: ${r.runtime.node ? `Node ${r.runtime.node} ${(r.runtime.nodeFlags ?? []).join(' ')} ${JSON.stringify(r.runtime.env)}` : 'Go'}` +
        `${r.runtime.fallbackReason ? ` (NOT the image's Node: ${r.runtime.fallbackReason})` : ''}, load ${r.loadAverage1m.start.toFixed(1)} → ${r.loadAverage1m.end.toFixed(1)}\n`,
    );
  if (complete.length) process.stdout.write(`\n${table(complete)}\n`);
  for (const r of results) for (const e of r.errors) process.stdout.write(`  ${r.driver}: ${e}\n`);
  if (upstreamMissing) process.stdout.write(`  upstream driver not measured: ${upstreamMissing}\n`);
  const ours = complete.find((r) => r.driver === 'ours');
  const up = complete.find((r) => r.driver === 'upstream');
  const targets = ours
    ? {
        rssWith110VolumesMaxMiB: 64,
        rssMet: opts.volumes === 110 ? ours.rssMiBWithVolumes <= 64 : undefined,
        peakRssMaxMiB: 72,
        peakMet: opts.volumes === 110 ? ours.peakRssMiB <= 72 : undefined,
        firstMountP50AtMostUpstream: up ? ours.firstMount.p50Ms <= up.firstMount.p50Ms : undefined,
        changedRepublishP50AtMostUpstream: up
          ? ours.changedRepublish.p50Ms <= up.changedRepublish.p50Ms
          : undefined,
        unchangedRepublishP50BelowUpstream: up
          ? ours.unchangedRepublish.p50Ms < up.unchangedRepublish.p50Ms
          : undefined,
        providerCallsPerVolumeMax: 30,
        providerCallsMet: ours.rotation.providerCallsPerVolume <= 30,
      }
    : undefined;
  const outDir = path.join(REPO, 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const out = {
    when: new Date().toISOString(),
    command: ['npx ts-node --transpile-only bench/driver/run.ts', ...process.argv.slice(2)].join(' '),
    cpus: os.cpus().length,
    loadAverage1m: { start: loadAtStart, end: os.loadavg()[0] },
    options: opts,
    results,
    targets,
    upstreamMissing,
  };
  fs.writeFileSync(path.join(outDir, 'driver.json'), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`\nwrote bench/results/driver.json\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
