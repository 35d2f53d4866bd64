// Driver benchmark (not a test): our driver against the upstream driver binary, the same bench provider
// behind both, the real kube-apiserver + etcd (+ controller-manager) from the rig. Prints a table and
// writes bench/results/driver.json.
//
//   sudo bash harness/rig/build.sh            # once: kube-apiserver, etcd, upstream driver, ...
//   sudo npx ts-node --transpile-only bench/driver/run.ts [--volumes=110] [--rotation-seconds=60]
//
// Measures, per driver:
//   - NodePublish latency: first mount, unchanged republish, changed republish (after the poll interval);
//   - RSS of the driver process with all volumes mounted (target for ours: <= 100 MiB with 110 volumes);
//   - rotation cost in a scaled kubelet model: every volume republished every 1 s for 60 s with
//     --rotation-poll-interval=2s and an unchanged secret: provider Mount calls per volume (target ours <= 30).
// Needs root (tmpfs mounts). Every loop is bounded in count and time.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { secretProviderClassCrd, secretProviderClassPodStatusCrd } from '../../lib/core/install/crds';
import { DRIVER_NODE_OPTIONS } from '../../lib/core/install/driver-daemonset';
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
import { BenchProvider, startBenchProvider } from './bench-provider';
import { BenchVolume, KubeletModel, kubeletTargetPath } from './kubelet-model';

const REPO = path.resolve(__dirname, '..', '..');
/** One namespace per run, so a reused rig never holds a previous run's objects. */
const NAMESPACE = `bench-${process.pid}`;
const SPC_NAME = 'bench-spc';
const PROVIDER_NAME = 'bench';
const POLL_INTERVAL_S = 2;

interface Options {
  volumes: number;
  rotationSeconds: number;
  republishPeriodMs: number;
  latencySamples: number;
  /**
   * Node flags for our driver process. Default: the NODE_OPTIONS the self-hosted install sets on our driver
   * container (DRIVER_NODE_OPTIONS), so the bench measures what ships; any --our-node-option replaces them.
   */
  ourNodeOptions: string[];
  /** Measure only these drivers. */
  only?: 'ours' | 'upstream';
}

/** The same upstream-named flags for both drivers, so the two runs differ only in the binary. */
function driverFlags(socketPath: string, providerDir: string): string[] {
  return [
    `--endpoint=unix://${socketPath}`,
    '--nodeid=bench-node',
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
    ourNodeOptions: [],
  };
  let nodeOptionsGiven = false;
  for (const arg of argv) {
    const nodeOption = /^--our-node-option=(--[a-z0-9-]+(=[\w.]+)?)$/.exec(arg);
    if (nodeOption) {
      nodeOptionsGiven = true;
      opts.ourNodeOptions.push(nodeOption[1]);
      continue;
    }
    const only = /^--only=(ours|upstream)$/.exec(arg);
    if (only) {
      opts.only = only[1] as 'ours' | 'upstream';
      continue;
    }
    const m = /^--(volumes|rotation-seconds)=(\d+)$/.exec(arg);
    if (!m)
      throw new Error(
        `unknown argument ${arg}; expected --volumes=<n>, --rotation-seconds=<n>, --only=ours|upstream or --our-node-option=<flag>`,
      );
    if (m[1] === 'volumes') opts.volumes = Number(m[2]);
    else opts.rotationSeconds = Number(m[2]);
  }
  if (!nodeOptionsGiven) opts.ourNodeOptions = DRIVER_NODE_OPTIONS.split(' ');
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
  volumes: number;
  firstMount: LatencyStats;
  unchangedRepublish: LatencyStats;
  changedRepublish: LatencyStats;
  rssMiBWithVolumes: number;
  peakRssMiB: number;
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

function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Compiles runtime/ (and the lib/core files it imports) into the cache, as the image does. */
function buildOurDriver(): string {
  const cache = path.join(
    process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'),
    'aks-secrets-store',
    'bench-driver-build',
  );
  fs.rmSync(cache, { recursive: true, force: true });
  fs.mkdirSync(cache, { recursive: true });
  const tsconfig = path.join(cache, 'tsconfig.json');
  fs.writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: path.join(REPO, 'tsconfig.json'),
      compilerOptions: {
        outDir: path.join(cache, 'build'),
        rootDir: REPO,
        noEmit: false,
        declaration: false,
        sourceMap: false,
        types: ['node'],
        typeRoots: [path.join(REPO, 'node_modules', '@types')],
      },
      include: [path.join(REPO, 'runtime', '**', '*.ts')],
    }),
  );
  execFileSync(
    process.execPath,
    [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig],
    { stdio: 'inherit' },
  );
  fs.cpSync(path.join(REPO, 'runtime', 'proto'), path.join(cache, 'build', 'runtime', 'proto'), {
    recursive: true,
  });
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(cache, 'package.json'));
  return path.join(cache, 'build', 'runtime', 'cli.js');
}

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
  await kube.create(SECRET_PROVIDER_CLASSES, {
    metadata: { name: SPC_NAME, namespace: NAMESPACE },
    spec: { provider: PROVIDER_NAME, parameters: { objects: 'array: []' } },
  });
  const pods: Pod[] = [];
  for (let i = 0; i < volumes; i++) {
    pods.push(
      await kube.create<Pod>(PODS, {
        metadata: { name: `app-${i}`, namespace: NAMESPACE },
        spec: {
          automountServiceAccountToken: false,
          containers: [{ name: 'app', image: 'registry.invalid/app:1' }],
          // The volume the kubelet model's target path names: our driver checks the path against the pod.
          volumes: [
            {
              name: 'secrets-store-inline',
              csi: {
                driver: 'secrets-store.csi.k8s.io',
                readOnly: true,
                volumeAttributes: { secretProviderClass: SPC_NAME },
              },
            },
          ],
        },
      } as Pod),
    );
  }
  return pods;
}

interface DriverUnderTest {
  name: string;
  version: string;
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
  const volumes: BenchVolume[] = pods.map((pod) => ({
    podName: pod.metadata.name!,
    podNamespace: NAMESPACE,
    podUid: pod.metadata.uid!,
    spcName: SPC_NAME,
    targetPath: kubeletTargetPath(kubeletRoot, pod.metadata.uid!, 'secrets-store-inline'),
  }));
  const mounted = new Set<BenchVolume>();
  try {
    await waitUntil(async () => fs.existsSync(socketPath) && (await kubelet.probe(), true), {
      what: `${driver.name} driver socket`,
      timeoutMs: 60_000,
      process: proc,
    });
    // Let the driver's caches fill (upstream's informers; our watch cache) before timing anything.
    await sleep(2000);

    const first: number[] = [];
    for (const volume of volumes) {
      first.push(await kubelet.publish(volume));
      mounted.add(volume);
    }
    await sleep(500);
    const rssWithVolumes = rssMiB(proc.pid, 'VmRSS');

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
    const peak = rssMiB(proc.pid, 'VmHWM');
    return {
      driver: driver.name,
      version: driver.version,
      volumes: volumes.length,
      firstMount: stats(first),
      unchangedRepublish: stats(unchanged),
      changedRepublish: stats(changed),
      rssMiBWithVolumes: rssWithVolumes,
      peakRssMiB: peak,
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
  const rows: Array<[string, (r: DriverResult) => string]> = [
    ['version', (r) => r.version],
    ['volumes', (r) => String(r.volumes)],
    ['first mount p50 / p90 (ms)', (r) => `${r.firstMount.p50Ms} / ${r.firstMount.p90Ms}`],
    [
      'unchanged republish p50 / p90 (ms)',
      (r) => `${r.unchangedRepublish.p50Ms} / ${r.unchangedRepublish.p90Ms}`,
    ],
    ['changed republish p50 / p90 (ms)', (r) => `${r.changedRepublish.p50Ms} / ${r.changedRepublish.p90Ms}`],
    ['RSS with volumes mounted (MiB)', (r) => String(r.rssMiBWithVolumes)],
    ['peak RSS (MiB)', (r) => String(r.peakRssMiB)],
    [
      'rotation: provider calls per volume',
      (r) => `${r.rotation.providerCallsPerVolume} (${r.rotation.ticksRun} ticks)`,
    ],
    ['rotation: republish errors', (r) => String(r.rotation.republishErrors)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const cols = results.map((r) => Math.max(r.driver.length, ...rows.map(([, f]) => f(r).length)));
  const line = (label: string, cells: string[]) =>
    `${label.padEnd(width)} | ${cells.map((c, i) => c.padEnd(cols[i])).join(' | ')}`;
  return [
    line(
      '',
      results.map((r) => r.driver),
    ),
    '-'.repeat(width + cols.reduce((a, c) => a + c + 3, 0)),
    ...rows.map(([label, f]) => line(label, results.map(f))),
  ].join('\n');
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the driver benchmark mounts tmpfs: run it as root');
  const cli = buildOurDriver();
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
  const running: RunningRig | undefined = process.env.RIG_KUBECONFIG
    ? undefined
    : await startRig({ lowkeyVault: false });
  const endpoints = running?.endpoints ?? rig();
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aks-bench-driver-'));
  const results: DriverResult[] = [];
  const kube = new KubeClient(loadKubeConfig({ env: { KUBECONFIG: endpoints.kubeconfig } }));
  try {
    const pods = await prepareCluster(kube, opts.volumes);
    const drivers: DriverUnderTest[] = [
      {
        name: 'ours',
        version: JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version,
        start: ({ socketPath, providerDir, logDir, kubeconfig }) =>
          spawnLogged({
            name: 'ours',
            binary: process.execPath,
            args: [...opts.ourNodeOptions, cli, 'driver', ...driverFlags(socketPath, providerDir)],
            logDir,
            env: { KUBECONFIG: kubeconfig, NODE_PATH: path.join(REPO, 'node_modules') },
          }),
      },
    ];
    if (upstreamDriver) {
      drivers.push({
        name: 'upstream',
        version: upstreamVersion,
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
        results.push(await benchDriver(driver, pods, opts, endpoints.kubeconfig, baseDir));
      } catch (err) {
        process.stdout.write(`bench: ${driver.name} failed: ${(err as Error).message}\n`);
        results.push({ driver: driver.name, errors: [(err as Error).message] } as DriverResult);
      }
    }
  } finally {
    kube.close();
    if (running) await stopRig(running);
    fs.rmSync(baseDir, { recursive: true, force: true });
  }
  const complete = results.filter((r) => r.firstMount);
  if (complete.length) process.stdout.write(`\n${table(complete)}\n`);
  for (const r of results) for (const e of r.errors) process.stdout.write(`  ${r.driver}: ${e}\n`);
  if (upstreamMissing) process.stdout.write(`  upstream driver not measured: ${upstreamMissing}\n`);
  const ours = complete.find((r) => r.driver === 'ours');
  const targets = ours
    ? {
        rssWith110VolumesMaxMiB: 100,
        rssMet: opts.volumes === 110 ? ours.rssMiBWithVolumes <= 100 : undefined,
        providerCallsPerVolumeMax: 30,
        providerCallsMet: ours.rotation.providerCallsPerVolume <= 30,
      }
    : undefined;
  const outDir = path.join(REPO, 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const out = {
    when: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
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
