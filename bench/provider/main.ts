// Provider benchmark (not a test): ours against the real upstream Azure provider, both as processes on
// their own unix sockets, against the fake Key Vault (50 ms injected latency) and token endpoint on
// loopback. Prints a table with ratios and writes bench/results/provider.json.
//
//   sudo npx ts-node --transpile-only bench/provider/main.ts [--baseline=<commit>]... [--churn-mounts=20000]
//       [--heap-snapshots=<dir>] [--only=<label>] [--our-env=NAME=value]...
//       [-- <flags for our provider, e.g. --mount-concurrency=32>]
//   (root: port 443 on loopback + unshare; UPSTREAM_AZURE_PROVIDER may name the upstream binary)
//
// Ours runs as the image runs it: compiled from the working tree (harness/bench/our-builds.ts), on the
// image's Node 24 with the NODE_OPTIONS/allocator environment the install sets on the provider container
// (harness/bench/shipped-runtime.ts). `--baseline=<commit>` adds that commit's build as one more column, so
// before, after and upstream are measured in one run under the same load. The contenders run one after
// the other, never at once.
//
// Measures, per contender:
//   - Mount latency for 1, 10, 50 cold objects (one identity);
//   - Key Vault GETs and token requests for 100 pods × 10 objects sharing one identity (a mount wave and a
//     rotation cycle);
//   - memory over 1,000 Mounts spread over 8 identities (5 service principals, 3 workload identities with
//     a token per pod) × 4 vaults: RSS (anonymous / file-backed), and for ours process.memoryUsage()
//     (heap, external, array buffers) from a preloaded probe, every 100 Mounts; growth 100 → 1,000;
//   - a churn run standing in for a day of a busy node: 20,000 Mounts over 200 identities × 10 vaults,
//     a sliding window of active identities (each goes idle and comes back), memory every 1,000 Mounts:
//     first, peak, last, and the slope of the second half (flat = ~0 KiB per 1,000 Mounts);
//   - CPU seconds of the provider process per phase.
// Every loop is bounded in count and in time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { canUsePrivilegedLoopback } from '../../harness/fakes/loopback-hosts';
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
  fakeServiceAccountToken,
  objectsYaml,
  ParityWorld,
  startParityWorld,
  TENANT_ID,
  VAULT,
} from '../../harness/provider/parity-world';
import {
  MountInput,
  ourProviderCommand,
  ProviderProcess,
  REPO_ROOT,
  upstreamProviderBinary,
  upstreamProviderCommand,
} from '../../harness/provider/provider-process';
import { SERVICE_ACCOUNT_TOKENS_KEY } from '../../runtime/wire/csi';

const LATENCY_MS = 50;
const LATENCY_SIZES = [1, 10, 50] as const;
const LATENCY_REPEATS = 3;
const SAMPLE_PAUSE_MS = 2500;
const WAVE_PODS = 100;
const WAVE_OBJECTS = 10;
const RSS_MOUNTS = 1000;
const RSS_SAMPLE_EVERY = 100;
const RSS_OBJECTS = 5;
const RSS_SERVICE_PRINCIPALS = 5;
const RSS_WORKLOAD_IDENTITIES = 3;
const RSS_VAULTS = 4;
const CHURN_IDENTITIES = 200;
/** One in this many churn identities is a workload identity (a fresh token per pod), the rest service principals. */
const CHURN_WORKLOAD_EVERY = 4;
const CHURN_VAULTS = 10;
const CHURN_OBJECTS = 2;
const CHURN_SAMPLE_EVERY = 1000;
/** Identities active at once in the churn run; the window moves by CHURN_WINDOW_STEP every sample. */
const CHURN_WINDOW = 40;
const CHURN_WINDOW_STEP = 10;
const CONCURRENCY = 20;
const MOUNT_DEADLINE_MS = 120_000;
const BENCH_BUDGET_MS = 75 * 60_000;
const WI_AUDIENCE = 'api://AzureADTokenExchange';

// Distinct secrets per phase so that "cold" means cold for a caching provider too.
const LATENCY_SECRETS = LATENCY_REPEATS * (1 + 10 + 50);
const WAVE_FIRST = LATENCY_SECRETS;
const TOTAL_SECRETS = WAVE_FIRST + WAVE_OBJECTS;
/** Vaults of the multi-identity phases (the parity vault holds the latency and wave secrets). */
const benchVault = (i: number) => `benchkv${i}`;
const BENCH_VAULTS = Math.max(RSS_VAULTS, CHURN_VAULTS);
const SPREAD_OBJECTS = Math.max(RSS_OBJECTS, CHURN_OBJECTS);

interface Options {
  readonly churnMounts: number;
  readonly heapSnapshotDir?: string;
  readonly only?: string;
  readonly baselines: readonly string[];
  readonly oursFlags: readonly string[];
  /** `--our-env=NAME=value`: replaces the install's tuning variable NAME (e.g. NODE_OPTIONS) for ours. */
  readonly ourEnv: Readonly<Record<string, string>>;
  /**
   * `--our-node-flag=<flag>` (repeatable; `none` for no flag): replaces the node flags the install puts on
   * our provider's command line (V8 flags NODE_OPTIONS refuses).
   */
  readonly ourNodeFlags?: readonly string[];
}

function parseOptions(argv: readonly string[]): Options {
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const oursFlags = dash < 0 ? [] : argv.slice(dash + 1);
  let churnMounts = 20_000;
  let heapSnapshotDir: string | undefined;
  let only: string | undefined;
  const baselines: string[] = [];
  const ourEnv: Record<string, string> = {};
  let ourNodeFlags: string[] | undefined;
  for (const arg of own) {
    const [key, value] = arg.split(/=(.*)/s, 2);
    if (key === '--our-node-flag' && /^(none|--[a-z0-9-]+(=[\w.]+)?)$/.test(value ?? '')) {
      ourNodeFlags = [...(ourNodeFlags ?? []), ...(value === 'none' ? [] : [value!])];
      continue;
    }
    const envVar = key === '--our-env' ? /^([A-Z_][A-Z0-9_]*)=(.*)$/s.exec(value ?? '') : null;
    if (envVar) {
      ourEnv[envVar[1]] = envVar[2];
      continue;
    }
    if (key === '--churn-mounts' && /^\d+$/.test(value ?? '')) churnMounts = Number(value);
    else if (key === '--heap-snapshots' && value) heapSnapshotDir = value;
    else if (key === '--only' && value) only = value;
    else if (key === '--baseline' && value) baselines.push(arg);
    else
      throw new Error(
        `unknown argument ${arg}; expected --baseline=<commit>, --churn-mounts=<n>, --heap-snapshots=<dir>, --only=<label>, --our-env=NAME=value, --our-node-flag=<flag|none>, or -- <our provider's flags>`,
      );
  }
  if (churnMounts > 100_000) throw new Error('--churn-mounts must be at most 100000');
  return { churnMounts, heapSnapshotDir, only, baselines, oursFlags, ourEnv, ourNodeFlags };
}

interface MemoryPoint extends MemorySample {
  readonly mounts: number;
  /** Go heap in use from /metrics (upstream; ours has its probe). */
  readonly goHeapInUseKiB?: number;
}

interface ProviderResult {
  label: string;
  source: string;
  runtime: {
    node?: string;
    nodeFlags?: readonly string[];
    env?: Record<string, string>;
    fallbackReason?: string;
  };
  loadAverage1m: { start: number; end: number };
  mountLatencyMs: Record<string, number>;
  latencyRatio50to1: number;
  wave: {
    mounts: number;
    keyVaultGets: number;
    keyVaultChallenges: number;
    tokenRequests: number;
    entraMetadataAndDiscoveryRequests: number;
    failedMounts: number;
  };
  rss: {
    identities: number;
    vaults: number;
    samples: MemoryPoint[];
    after100MountsKiB: number;
    after1000MountsKiB: number;
    growthKiB: number;
    peakKiB: number;
    cpuSeconds: number;
    failedMounts: number;
  };
  churn: {
    mounts: number;
    identities: number;
    vaults: number;
    samples: MemoryPoint[];
    firstKiB: number;
    lastKiB: number;
    maxKiB: number;
    /** Least-squares slope of RSS over the second half, KiB per 1,000 Mounts. */
    secondHalfSlopeKiBPer1000: number;
    peakKiB: number;
    cpuSeconds: number;
    tokenRequests: number;
    keyVaultGets: number;
    failedMounts: number;
  };
}

const started = Date.now();
function checkBudget(): void {
  if (Date.now() - started > BENCH_BUDGET_MS)
    throw new Error(`bench exceeded its ${BENCH_BUDGET_MS / 60000} min budget`);
}

const benchNames = (first: number, count: number) =>
  Array.from({ length: count }, (_, i) => `bench-${first + i}`);
const spreadNames = (count: number) => Array.from({ length: count }, (_, i) => `spread-${i}`);

/** An identity of the multi-identity phases: a service principal or a workload identity. */
interface BenchIdentity {
  readonly kind: 'sp' | 'wi';
  readonly clientId: string;
  readonly clientSecret: string;
  readonly subject: string;
}

function benchIdentity(kind: 'sp' | 'wi', index: number): BenchIdentity {
  const hex = index.toString(16).padStart(12, '0');
  return {
    kind,
    clientId: `${kind === 'sp' ? 'b0000000' : 'c0000000'}-0000-4000-8000-${hex}`,
    clientSecret: `bench-sp-secret-${index}`,
    subject: `system:serviceaccount:bench-${index}:app`,
  };
}

/** Registers the identities with fake Entra and seeds every bench vault. */
function seedSpread(world: ParityWorld, identities: readonly BenchIdentity[]): void {
  for (const identity of identities) {
    if (identity.kind === 'sp')
      world.azure.entra.addClientSecret({
        tenantId: TENANT_ID,
        clientId: identity.clientId,
        clientSecret: identity.clientSecret,
      });
    else
      world.azure.entra.addFederatedClient({
        tenantId: TENANT_ID,
        clientId: identity.clientId,
        subject: identity.subject,
      });
  }
  for (let v = 0; v < BENCH_VAULTS; v++)
    for (const name of spreadNames(SPREAD_OBJECTS))
      world.azure.vault.setSecret(benchVault(v), name, `${name} of ${benchVault(v)}`);
}

function mountOf(world: ParityWorld, names: readonly string[], podName: string): MountInput {
  return {
    parameters: {
      ...world.baseParameters,
      objects: objectsYaml(names.map((objectName) => ({ objectName, objectType: 'secret' }))),
    },
    secrets: world.spSecrets,
    podName,
  };
}

/** A Mount by `identity` of `objects` objects of `vault`, from pod `podName` (a workload identity's token is the pod's). */
function spreadMount(
  world: ParityWorld,
  identity: BenchIdentity,
  vault: string,
  objects: number,
  podName: string,
): MountInput {
  const parameters: Record<string, string> = {
    ...world.baseParameters,
    keyvaultName: vault,
    objects: objectsYaml(spreadNames(objects).map((objectName) => ({ objectName, objectType: 'secret' }))),
  };
  if (identity.kind === 'wi') {
    parameters.clientID = identity.clientId;
    parameters[SERVICE_ACCOUNT_TOKENS_KEY] = JSON.stringify({
      [WI_AUDIENCE]: {
        token: fakeServiceAccountToken(identity.subject, WI_AUDIENCE, podName),
        expirationTimestamp: '2099-01-01T00:00:00Z',
      },
    });
  }
  return {
    parameters,
    secrets:
      identity.kind === 'sp' ? { clientid: identity.clientId, clientsecret: identity.clientSecret } : null,
    podName,
  };
}

async function mountOk(provider: ProviderProcess, input: MountInput): Promise<boolean> {
  const outcome = await provider.mount(input, MOUNT_DEADLINE_MS);
  if (!outcome.ok && process.env.BENCH_VERBOSE) console.error(`${provider.name}: ${outcome.message}`);
  return outcome.ok;
}

async function runAll<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  });
  await Promise.all(workers);
  return results;
}

/** Runs Mounts `from`..`to`-1 of a phase and counts the failures. */
async function mountRange(
  provider: ProviderProcess,
  from: number,
  to: number,
  input: (i: number) => MountInput,
): Promise<number> {
  const oks = await runAll(to - from, CONCURRENCY, (i) => mountOk(provider, input(from + i)));
  return oks.filter((ok) => !ok).length;
}

interface Contender {
  readonly label: string;
  readonly source: string;
  readonly runtime: ProviderResult['runtime'];
  readonly probe?: MemoryProbe;
  start(world: ParityWorld): Promise<ProviderProcess>;
}

async function sampleMemory(contender: Contender, provider: ProviderProcess, mounts: number) {
  const sample: MemorySample = contender.probe
    ? await contender.probe.sample(provider.pid)
    : procMemory(provider.pid);
  const goHeapInUseKiB = contender.probe ? undefined : await goHeapKiB(provider);
  return { mounts, ...sample, goHeapInUseKiB };
}

async function benchProvider(
  world: ParityWorld,
  contender: Contender,
  provider: ProviderProcess,
  opts: Options,
  rssIdentities: readonly BenchIdentity[],
  churnIdentities: readonly BenchIdentity[],
): Promise<ProviderResult> {
  const loadStart = loadavg()[0];
  const vault = world.azure.vault;
  const entra = world.azure.entra;
  // The wave runs first, on the freshly started process: its token and challenge count too.
  vault.resetStats();
  entra.resetStats();
  const waveNames = benchNames(WAVE_FIRST, WAVE_OBJECTS);
  let failedMounts = 0;
  for (const phase of ['mount', 'rotation']) {
    checkBudget();
    const oks = await runAll(WAVE_PODS, WAVE_PODS, (i) =>
      mountOk(provider, mountOf(world, waveNames, `${phase}-web-${i}`)),
    );
    failedMounts += oks.filter((ok) => !ok).length;
  }
  const vs = vault.stats();
  const wave = {
    mounts: 2 * WAVE_PODS,
    keyVaultGets: vs.authorizedRequests,
    keyVaultChallenges: vs.challenges,
    tokenRequests: entra.stats().tokenRequests,
    entraMetadataAndDiscoveryRequests: entra.stats().metadataRequests + entra.stats().discoveryRequests,
    failedMounts,
  };

  // Warm-up on an object no phase uses, so process start, token and challenge are out of the latency figures.
  if (!(await mountOk(provider, mountOf(world, ['plain'], 'warmup')))) {
    throw new Error(`${provider.name}: warm-up Mount failed; logs:\n${provider.logs().slice(-4000)}`);
  }

  const mountLatencyMs: Record<string, number> = {};
  let offset = 0;
  for (const size of LATENCY_SIZES) {
    const samples: number[] = [];
    for (let r = 0; r < LATENCY_REPEATS; r++) {
      checkBudget();
      // Let a per-vault token bucket refill (ours: 100 burst, 50/s) so samples do not throttle each other.
      await new Promise((r) => setTimeout(r, SAMPLE_PAUSE_MS));
      const names = benchNames(offset, size);
      offset += size;
      const t0 = process.hrtime.bigint();
      const ok = await mountOk(provider, mountOf(world, names, `latency-${size}-${r}`));
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (!ok) throw new Error(`${provider.name}: latency Mount of ${size} objects failed`);
      samples.push(ms);
    }
    samples.sort((a, b) => a - b);
    mountLatencyMs[`${size}`] = Math.round(samples[Math.floor(samples.length / 2)]);
  }

  // Memory over 1,000 Mounts: every (identity, vault) pair in turn, a new pod (target path) per Mount.
  const rssInput = (i: number) =>
    spreadMount(
      world,
      rssIdentities[i % rssIdentities.length],
      benchVault(Math.floor(i / rssIdentities.length) % RSS_VAULTS),
      RSS_OBJECTS,
      `rss-${i}`,
    );
  const rssSamples: MemoryPoint[] = [];
  let rssFailed = 0;
  const rssCpu0 = procCpuSeconds(provider.pid);
  for (let done = 0; done < RSS_MOUNTS; done += RSS_SAMPLE_EVERY) {
    checkBudget();
    rssFailed += await mountRange(provider, done, done + RSS_SAMPLE_EVERY, rssInput);
    rssSamples.push(await sampleMemory(contender, provider, done + RSS_SAMPLE_EVERY));
  }
  const rssCpu = procCpuSeconds(provider.pid) - rssCpu0;
  const at = (samples: MemoryPoint[], mounts: number) => samples.find((s) => s.mounts === mounts)!;

  // Churn: a window of CHURN_WINDOW identities slides over all of them, each Mount a new pod.
  vault.resetStats();
  entra.resetStats();
  const churnInput = (i: number) => {
    const windowStart = Math.floor(i / CHURN_SAMPLE_EVERY) * CHURN_WINDOW_STEP;
    const identity = churnIdentities[(windowStart + (i % CHURN_WINDOW)) % churnIdentities.length];
    const vaultIndex = (i * 7 + Math.floor(i / CHURN_WINDOW)) % CHURN_VAULTS;
    return spreadMount(world, identity, benchVault(vaultIndex), CHURN_OBJECTS, `churn-${i}`);
  };
  const churnSamples: MemoryPoint[] = [];
  let churnFailed = 0;
  const churnCpu0 = procCpuSeconds(provider.pid);
  for (let done = 0; done < opts.churnMounts; done += CHURN_SAMPLE_EVERY) {
    checkBudget();
    const to = Math.min(opts.churnMounts, done + CHURN_SAMPLE_EVERY);
    churnFailed += await mountRange(provider, done, to, churnInput);
    churnSamples.push(await sampleMemory(contender, provider, to));
    if (process.env.BENCH_VERBOSE)
      console.error(`${contender.label}: churn ${to}: ${describeSample(churnSamples.at(-1))}`);
  }
  const churnCpu = procCpuSeconds(provider.pid) - churnCpu0;
  const churnRss = churnSamples.map((s) => s.rssKiB);
  const peakKiB = procMemory(provider.pid).peakRssKiB;
  const after100 = at(rssSamples, RSS_SAMPLE_EVERY).rssKiB;
  const after1000 = at(rssSamples, RSS_MOUNTS).rssKiB;
  return {
    label: contender.label,
    source: contender.source,
    runtime: contender.runtime,
    loadAverage1m: { start: loadStart, end: loadavg()[0] },
    mountLatencyMs,
    latencyRatio50to1: round2(mountLatencyMs['50'] / mountLatencyMs['1']),
    wave,
    rss: {
      identities: rssIdentities.length,
      vaults: RSS_VAULTS,
      samples: rssSamples,
      after100MountsKiB: after100,
      after1000MountsKiB: after1000,
      growthKiB: after1000 - after100,
      peakKiB: Math.max(...rssSamples.map((s) => s.peakRssKiB)),
      cpuSeconds: round2(rssCpu),
      failedMounts: rssFailed,
    },
    churn: {
      mounts: opts.churnMounts,
      identities: churnIdentities.length,
      vaults: CHURN_VAULTS,
      samples: churnSamples,
      firstKiB: churnRss[0] ?? NaN,
      lastKiB: churnRss.at(-1) ?? NaN,
      maxKiB: Math.max(...churnRss),
      secondHalfSlopeKiBPer1000: round2(
        slope(churnSamples.slice(Math.floor(churnSamples.length / 2))) * 1000,
      ),
      peakKiB,
      cpuSeconds: round2(churnCpu),
      tokenRequests: entra.stats().tokenRequests,
      keyVaultGets: vault.stats().authorizedRequests,
      failedMounts: churnFailed,
    },
  };
}

/** Least-squares slope of RSS (KiB) over Mounts. */
function slope(samples: readonly MemoryPoint[]): number {
  if (samples.length < 2) return 0;
  const xs = samples.map((s) => s.mounts);
  const ys = samples.map((s) => s.rssKiB);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

/** Heap in use of a Go provider from its /metrics (go_memstats_heap_inuse_bytes). */
function goHeapKiB(provider: ProviderProcess): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = get(`http://127.0.0.1:${provider.ports.metricsPort}/metrics`, { timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text = (text + chunk.toString()).slice(-2_000_000)));
      res.on('end', () => {
        const match = /^go_memstats_heap_inuse_bytes(?:\{[^}]*\})? ([0-9.e+]+)/m.exec(text);
        resolve(match ? Math.round(Number(match[1]) / 1024) : undefined);
      });
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function ourContender(build: OurBuild, opts: Options): Contender {
  const node = shippedNode();
  const env = { ...shippedTuningEnv('provider-azure-installer'), ...opts.ourEnv };
  const nodeFlags = opts.ourNodeFlags ?? shippedNodeFlags('provider-azure-installer');
  const probe = new MemoryProbe(opts.heapSnapshotDir);
  return {
    label: build.label,
    source: build.source,
    runtime: { node: node.version, nodeFlags, env, fallbackReason: node.fallbackReason },
    probe,
    start: (world) =>
      ProviderProcess.start({
        name: build.label,
        ...ourProviderCommand([...world.ourProviderFlags, ...opts.oursFlags], {
          cli: build.cli,
          node: node.binary,
          nodeArgs: [...probe.nodeArgs(), ...nodeFlags],
        }),
        hostsFile: world.azure.hostsFile,
        env: { ...world.providerEnv, ...env, ...probe.env() },
      }),
  };
}

function upstreamContender(): Contender {
  const binary = upstreamProviderBinary(); // Throws naming `bash harness/rig/build.sh` when missing.
  return {
    label: 'upstream',
    source: binary,
    runtime: {},
    start: (world) =>
      ProviderProcess.start({
        name: 'upstream',
        ...upstreamProviderCommand(binary),
        hostsFile: world.azure.hostsFile,
        env: world.providerEnv,
      }),
  };
}

function table(results: readonly ProviderResult[], opts: Options): string {
  const upstream = results.find((r) => r.label === 'upstream');
  const ours = results.filter((r) => r !== upstream);
  type Pick = (r: ProviderResult) => number | string;
  const rows: Array<[string, Pick, 'fewer' | 'ratio' | 'none']> = [
    ...LATENCY_SIZES.map((n): [string, Pick, 'ratio'] => [
      `Mount latency, ${n} cold object(s), ms (median)`,
      (r) => r.mountLatencyMs[n],
      'ratio',
    ]),
    ['latency 50 objects / 1 object', (r) => r.latencyRatio50to1, 'none'],
    [
      `Key Vault GETs, ${WAVE_PODS} pods × ${WAVE_OBJECTS} obj, wave+rotation`,
      (r) => r.wave.keyVaultGets,
      'fewer',
    ],
    ['  (+ 401 challenges)', (r) => r.wave.keyVaultChallenges, 'none'],
    ['token requests, same', (r) => r.wave.tokenRequests, 'fewer'],
    ['  (+ Entra metadata/discovery requests)', (r) => r.wave.entraMetadataAndDiscoveryRequests, 'none'],
    ['failed Mounts in wave+rotation', (r) => r.wave.failedMounts, 'none'],
    [`RSS after 100 Mounts (8 id × 4 vaults), MiB`, (r) => mib(r.rss.after100MountsKiB), 'ratio'],
    [`RSS after ${RSS_MOUNTS} Mounts, MiB (target ≤ 80)`, (r) => mib(r.rss.after1000MountsKiB), 'ratio'],
    ['  anon / file-backed after 1,000, MiB', (r) => anonFile(at(r.rss.samples, RSS_MOUNTS)), 'none'],
    ['  heap used / total after 1,000, MiB', (r) => heap(at(r.rss.samples, RSS_MOUNTS)), 'none'],
    ['  external / arrayBuffers after 1,000, MiB', (r) => external(at(r.rss.samples, RSS_MOUNTS)), 'none'],
    ['RSS growth 100 → 1,000 Mounts, MiB (target ≤ 4)', (r) => mib(r.rss.growthKiB), 'none'],
    ['CPU s for the 1,000 Mounts', (r) => r.rss.cpuSeconds, 'ratio'],
    ['failed Mounts in RSS run', (r) => r.rss.failedMounts, 'none'],
    [
      `churn ${opts.churnMounts} Mounts, ${CHURN_IDENTITIES} id × ${CHURN_VAULTS} vaults: RSS first → last, MiB`,
      (r) => `${mib(r.churn.firstKiB)} → ${mib(r.churn.lastKiB)}`,
      'none',
    ],
    [
      '  churn RSS max of samples / VmHWM, MiB',
      (r) => `${mib(r.churn.maxKiB)} / ${mib(r.churn.peakKiB)}`,
      'none',
    ],
    ['  churn slope, 2nd half, KiB per 1,000 Mounts', (r) => r.churn.secondHalfSlopeKiBPer1000, 'none'],
    ['  churn heap used / total at the end, MiB', (r) => heap(r.churn.samples.at(-1)), 'none'],
    ['  churn CPU s', (r) => r.churn.cpuSeconds, 'ratio'],
    [
      '  churn token requests / Key Vault GETs',
      (r) => `${r.churn.tokenRequests} / ${r.churn.keyVaultGets}`,
      'none',
    ],
    ['  failed Mounts in churn', (r) => r.churn.failedMounts, 'none'],
  ];
  const labels = results.map((r) => r.label);
  const ratioLabels = upstream ? ours.map((r) => `${r.label}/upstream`) : [];
  const width = Math.max(...rows.map(([l]) => l.length));
  const cell = (v: number | string) => String(v).padStart(16);
  const row = (first: string, cells: string[]) => `| ${[first.padEnd(width), ...cells].join(' | ')} |`;
  const header = row('metric', [...labels, ...ratioLabels].map(cell));
  const sep = `|${'-'.repeat(width + 2)}|${[...labels, ...ratioLabels].map(() => '-'.repeat(18)).join('|')}|`;
  const lines = rows.map(([label, pick, kind]) => {
    const values = results.map(pick);
    const ratios = upstream
      ? ours.map((r) => {
          const o = Number(pick(r));
          const u = Number(pick(upstream));
          if (kind === 'none' || !Number.isFinite(o) || !Number.isFinite(u)) return '';
          if (kind === 'fewer') return o === 0 ? (u === 0 ? '1' : '∞') : `${round2(u / o)}× fewer`;
          return u === 0 ? '' : `${round2(o / u)}×`;
        })
      : [];
    return row(label, [...values, ...ratios].map(cell));
  });
  return [header, sep, ...lines].join('\n');
}

const at = (samples: readonly MemoryPoint[], mounts: number) => samples.find((s) => s.mounts === mounts);
const anonFile = (s: MemoryPoint | undefined) => (s ? `${mib(s.rssAnonKiB)} / ${mib(s.rssFileKiB)}` : '?');
const heap = (s: MemoryPoint | undefined) =>
  s?.node
    ? `${mib(s.node.heapUsedKiB)} / ${mib(s.node.heapTotalKiB)}`
    : s?.goHeapInUseKiB !== undefined
      ? `go ${mib(s.goHeapInUseKiB)}`
      : '?';
const external = (s: MemoryPoint | undefined) =>
  s?.node ? `${mib(s.node.externalKiB)} / ${mib(s.node.arrayBuffersKiB)}` : '';

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const loadAtStart = loadavg()[0];
  if (!canUsePrivilegedLoopback())
    throw new Error('the provider bench needs root: port 443 on loopback addresses and unshare --mount');
  const contenders: Contender[] = [
    ourContender(buildWorkingTree(), opts),
    ...baselineBuilds(opts.baselines).map((b) => ourContender(b, opts)),
    upstreamContender(),
  ].filter((c) => !opts.only || c.label === opts.only);
  const rssIdentities = [
    ...Array.from({ length: RSS_SERVICE_PRINCIPALS }, (_, i) => benchIdentity('sp', i)),
    ...Array.from({ length: RSS_WORKLOAD_IDENTITIES }, (_, i) => benchIdentity('wi', 1000 + i)),
  ];
  const churnIdentities = Array.from({ length: CHURN_IDENTITIES }, (_, i) =>
    benchIdentity(i % CHURN_WORKLOAD_EVERY === CHURN_WORKLOAD_EVERY - 1 ? 'wi' : 'sp', 2000 + i),
  );
  const world = await startParityWorld({
    keyVaultLatencyMs: LATENCY_MS,
    benchSecrets: TOTAL_SECRETS,
    extraVaultNames: Array.from({ length: BENCH_VAULTS }, (_, i) => benchVault(i)),
  });
  seedSpread(world, [...rssIdentities, ...churnIdentities]);
  const results: ProviderResult[] = [];
  try {
    for (const contender of contenders) {
      console.log(`provider bench: ${contender.label} ...`);
      const provider = await contender.start(world);
      try {
        results.push(await benchProvider(world, contender, provider, opts, rssIdentities, churnIdentities));
      } finally {
        await provider.stop();
        contender.probe?.dispose();
      }
    }
  } finally {
    await world.dispose();
  }

  const header =
    `provider bench: fake Key Vault latency ${LATENCY_MS} ms, loopback, ${new Date().toISOString()}, ` +
    `${cpus().length} CPUs, load average ${loadAtStart.toFixed(1)} → ${loadavg()[0].toFixed(1)} (latency is CPU-sensitive)\n` +
    results
      .map(
        (r) =>
          `  ${r.label}: ${r.runtime.node ? `Node ${r.runtime.node} ${(r.runtime.nodeFlags ?? []).join(' ')}` : 'Go'}${r.runtime.env ? ` ${JSON.stringify(r.runtime.env)}` : ''}` +
          `${r.runtime.fallbackReason ? ` (NOT the image's Node: ${r.runtime.fallbackReason})` : ''}, load ${r.loadAverage1m.start.toFixed(1)} → ${r.loadAverage1m.end.toFixed(1)}`,
      )
      .join('\n');
  console.log(`${header}\n${table(results, opts)}`);
  const out = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'provider.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        command: ['npx ts-node --transpile-only bench/provider/main.ts', ...process.argv.slice(2)].join(' '),
        setup: {
          keyVaultLatencyMs: LATENCY_MS,
          cpus: cpus().length,
          loadAverage1m: { start: loadAtStart, end: loadavg()[0] },
          latencyRepeats: LATENCY_REPEATS,
          latencySamplePauseMs: SAMPLE_PAUSE_MS,
          wave: {
            pods: WAVE_PODS,
            objects: WAVE_OBJECTS,
            identity: 'one service principal',
            cycles: ['mount', 'rotation'],
            note: "first phase on a freshly started provider; the 100 Mounts of a cycle run concurrently; the rotation cycle follows immediately (inside a caching provider's freshness window)",
          },
          rss: {
            mounts: RSS_MOUNTS,
            objectsPerMount: RSS_OBJECTS,
            concurrency: CONCURRENCY,
            servicePrincipals: RSS_SERVICE_PRINCIPALS,
            workloadIdentities: RSS_WORKLOAD_IDENTITIES,
            vaults: RSS_VAULTS,
            sampleEvery: RSS_SAMPLE_EVERY,
          },
          churn: {
            mounts: opts.churnMounts,
            identities: CHURN_IDENTITIES,
            workloadIdentityEvery: CHURN_WORKLOAD_EVERY,
            vaults: CHURN_VAULTS,
            objectsPerMount: CHURN_OBJECTS,
            activeWindow: CHURN_WINDOW,
            windowStepPerSample: CHURN_WINDOW_STEP,
            sampleEvery: CHURN_SAMPLE_EVERY,
          },
          vault: VAULT,
          baseline:
            'the real upstream provider (secrets-store-csi-driver-provider-azure, built by harness/rig/build.sh)',
        },
        results,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${join(out, 'provider.json')}`);
}

main().catch((error: Error) => {
  console.error(`provider bench failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
