// Provider benchmark (not a test): ours against the real upstream Azure provider, both as processes on
// their own unix sockets, against the fake Key Vault (50 ms injected latency) and token endpoint on
// loopback. Prints a table and writes bench/results/provider.json.
//
//   npx ts-node --transpile-only bench/provider/main.ts [flags for our provider, e.g. --mount-concurrency=32]
//   (root: port 443 on loopback + unshare; UPSTREAM_AZURE_PROVIDER may name the upstream binary)
//
// Measures: Mount latency for 1, 10, 50 cold objects; Key Vault GETs and token requests for 100 pods ×
// 10 objects sharing one identity (one mount wave + one rotation cycle); provider RSS after 1,000 Mounts
// and its growth from 100 to 1,000. Every loop is bounded in count and in time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { canUsePrivilegedLoopback } from '../../harness/fakes/loopback-hosts';
import { objectsYaml, ParityWorld, startParityWorld } from '../../harness/provider/parity-world';
import {
  MountInput,
  ourProviderCommand,
  ProviderProcess,
  REPO_ROOT,
  upstreamProviderBinary,
  upstreamProviderCommand,
} from '../../harness/provider/provider-process';

const LATENCY_MS = 50;
const LATENCY_SIZES = [1, 10, 50] as const;
const LATENCY_REPEATS = 3;
const SAMPLE_PAUSE_MS = 2500;
const WAVE_PODS = 100;
const WAVE_OBJECTS = 10;
const RSS_MOUNTS = 1000;
const RSS_OBJECTS = 5;
const RSS_CONCURRENCY = 20;
const MOUNT_DEADLINE_MS = 120_000;
const BENCH_BUDGET_MS = 20 * 60_000;

// Distinct secrets per phase so that "cold" means cold for a caching provider too.
const LATENCY_SECRETS = LATENCY_REPEATS * (1 + 10 + 50);
const WAVE_FIRST = LATENCY_SECRETS;
const RSS_FIRST = WAVE_FIRST + WAVE_OBJECTS;
const TOTAL_SECRETS = RSS_FIRST + RSS_OBJECTS;

interface ProviderResult {
  name: string;
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
    after100MountsKiB: number;
    after1000MountsKiB: number;
    growthKiB: number;
    /** Live heap from the provider's own /metrics (Node or Go), to tell a leak from lazy collection. */
    heapAfter100MountsKiB?: number;
    heapAfter1000MountsKiB?: number;
    failedMounts: number;
  };
}

const started = Date.now();
function checkBudget(): void {
  if (Date.now() - started > BENCH_BUDGET_MS)
    throw new Error(`bench exceeded its ${BENCH_BUDGET_MS / 60000} min budget`);
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

const benchNames = (first: number, count: number) =>
  Array.from({ length: count }, (_, i) => `bench-${first + i}`);

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

async function benchProvider(world: ParityWorld, provider: ProviderProcess): Promise<ProviderResult> {
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

  const rssNames = benchNames(RSS_FIRST, RSS_OBJECTS);
  let rssFailed = 0;
  let after100 = 0;
  let heap100: number | undefined;
  for (const [from, to] of [
    [0, 100],
    [100, RSS_MOUNTS],
  ]) {
    checkBudget();
    const oks = await runAll(to - from, RSS_CONCURRENCY, (i) =>
      mountOk(provider, mountOf(world, rssNames, `rss-web-${from + i}`)),
    );
    rssFailed += oks.filter((ok) => !ok).length;
    if (to === 100) {
      after100 = provider.rssKiB();
      heap100 = await heapKiB(provider);
    }
  }
  const after1000 = provider.rssKiB();
  const heap1000 = await heapKiB(provider);
  return {
    name: provider.name,
    mountLatencyMs,
    latencyRatio50to1: round2(mountLatencyMs['50'] / mountLatencyMs['1']),
    wave,
    rss: {
      after100MountsKiB: after100,
      after1000MountsKiB: after1000,
      growthKiB: after1000 - after100,
      heapAfter100MountsKiB: heap100,
      heapAfter1000MountsKiB: heap1000,
      failedMounts: rssFailed,
    },
  };
}

/** Heap in use from the provider's /metrics: nodejs_heap_size_used_bytes or go_memstats_heap_inuse_bytes. */
function heapKiB(provider: ProviderProcess): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = get(`http://127.0.0.1:${provider.ports.metricsPort}/metrics`, { timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text = (text + chunk.toString()).slice(-2_000_000)));
      res.on('end', () => {
        const match =
          /^(?:nodejs_heap_size_used_bytes|go_memstats_heap_inuse_bytes)(?:\{[^}]*\})? ([0-9.e+]+)/m.exec(
            text,
          );
        resolve(match ? Math.round(Number(match[1]) / 1024) : undefined);
      });
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

const round2 = (n: number) => Math.round(n * 100) / 100;

async function main(): Promise<void> {
  const oursFlags = process.argv.slice(2);
  const loadAtStart = loadavg()[0];
  if (!canUsePrivilegedLoopback())
    throw new Error('the provider bench needs root: port 443 on loopback addresses and unshare --mount');
  const upstreamBinary = upstreamProviderBinary(); // Throws naming `bash harness/rig/build.sh` when missing.
  const world = await startParityWorld({ keyVaultLatencyMs: LATENCY_MS, benchSecrets: TOTAL_SECRETS });
  const results: ProviderResult[] = [];
  try {
    const common = { hostsFile: world.azure.hostsFile, env: world.providerEnv };
    // One provider at a time, so neither competes with the other for the two cores.
    for (const spec of [
      { name: 'ours', ...ourProviderCommand([...world.ourProviderFlags, ...oursFlags]) },
      { name: 'upstream', ...upstreamProviderCommand(upstreamBinary) },
    ]) {
      const provider = await ProviderProcess.start({ ...spec, ...common });
      try {
        results.push(await benchProvider(world, provider));
      } finally {
        await provider.stop();
      }
    }
  } finally {
    await world.dispose();
  }

  const [ours, upstream] = results;
  const row = (label: string, o: number | string, u: number | string, ratio = '') =>
    `| ${label.padEnd(50)} | ${String(o).padStart(10)} | ${String(u).padStart(10)} | ${ratio.padStart(12)} |`;
  const ratio = (o: number, u: number) => (o === 0 ? (u === 0 ? '1' : `∞ (u/0)`) : `${round2(u / o)}× fewer`);
  const lines = [
    `provider bench: fake Key Vault latency ${LATENCY_MS} ms, loopback, ${new Date().toISOString()}, ` +
      `${cpus().length} CPUs, load average ${loadAtStart.toFixed(1)} → ${loadavg()[0].toFixed(1)} (latency is CPU-sensitive)`,
    row('metric', 'ours', 'upstream', 'upstream/ours'),
    `|${'-'.repeat(52)}|${'-'.repeat(12)}|${'-'.repeat(12)}|${'-'.repeat(14)}|`,
    ...LATENCY_SIZES.map((n) =>
      row(
        `Mount latency, ${n} cold object(s), ms (median)`,
        ours.mountLatencyMs[n],
        upstream.mountLatencyMs[n],
        `${round2(upstream.mountLatencyMs[n] / ours.mountLatencyMs[n])}×`,
      ),
    ),
    row('latency 50 objects / 1 object (target ≤ 3)', ours.latencyRatio50to1, upstream.latencyRatio50to1),
    row(
      `Key Vault GETs, ${WAVE_PODS} pods × ${WAVE_OBJECTS} obj, wave+rotation`,
      ours.wave.keyVaultGets,
      upstream.wave.keyVaultGets,
      ratio(ours.wave.keyVaultGets, upstream.wave.keyVaultGets),
    ),
    row('  (+ 401 challenges)', ours.wave.keyVaultChallenges, upstream.wave.keyVaultChallenges),
    row(
      'token requests, same (target ours ≤ 1)',
      ours.wave.tokenRequests,
      upstream.wave.tokenRequests,
      ratio(ours.wave.tokenRequests, upstream.wave.tokenRequests),
    ),
    row(
      '  (+ Entra metadata/discovery requests)',
      ours.wave.entraMetadataAndDiscoveryRequests,
      upstream.wave.entraMetadataAndDiscoveryRequests,
    ),
    row('failed Mounts in wave+rotation', ours.wave.failedMounts, upstream.wave.failedMounts),
    row(`RSS after 100 Mounts, KiB`, ours.rss.after100MountsKiB, upstream.rss.after100MountsKiB),
    row(`RSS after ${RSS_MOUNTS} Mounts, KiB`, ours.rss.after1000MountsKiB, upstream.rss.after1000MountsKiB),
    row('RSS growth 100 → 1,000 Mounts, KiB', ours.rss.growthKiB, upstream.rss.growthKiB),
    row(
      'heap in use after 100 → 1,000 Mounts, KiB',
      `${ours.rss.heapAfter100MountsKiB ?? '?'}→${ours.rss.heapAfter1000MountsKiB ?? '?'}`,
      `${upstream.rss.heapAfter100MountsKiB ?? '?'}→${upstream.rss.heapAfter1000MountsKiB ?? '?'}`,
    ),
    row('failed Mounts in RSS run', ours.rss.failedMounts, upstream.rss.failedMounts),
  ];
  console.log(lines.join('\n'));
  const out = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'provider.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        command: ['npx ts-node --transpile-only bench/provider/main.ts', ...oursFlags].join(' '),
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
          rss: { mounts: RSS_MOUNTS, objectsPerMount: RSS_OBJECTS, concurrency: RSS_CONCURRENCY },
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
  console.error(`provider bench failed: ${error.message}`);
  process.exit(1);
});
