// Cold-start benchmark (not a test): the node bench's burst without the kubelet. A FRESH provider process,
// ours and upstream's Go provider one after the other in one run, each inside a CPU-quota cgroup of the
// install's limit (upstream's chart: limits.cpu 50m), gets N cold Mounts × M objects at once, each pod with
// its own workload-identity service-account token (one identity, as bench/node), against the fake Key Vault
// and Entra ID on loopback under the public-cloud names. Prints a table with ratios and writes
// bench/results/provider-cold-start.json.
//
//   sudo npx ts-node --transpile-only bench/provider/cold-start.ts [--pods=50] [--objects=10]
//       [--cpu=50m] [--rounds=2] [--only=ours|upstream] [--our-env=NAME=value]...
//       [--our-node-flag=<flag|none>]... [--cpu-prof=<dir>] [--logs=<dir>] [-- <flags for our provider>]
//   (root: port 443 on loopback, unshare, cgroup v1 cpu + cpuacct; UPSTREAM_AZURE_PROVIDER may name the binary)
//
// Measured per contender and round, from the moment the process is spawned (the pods exist already: the
// driver sends their Mounts as soon as the socket is there): socket answering, then each Mount's answer
// (p50, p90, max, first), the process's CPU (utime + stime from /proc) and the cgroup's cpuacct.usage and
// cpu.stat (periods throttled) when the last Mount has answered, Entra token requests, Key Vault GETs and
// the TLS connections each fake accepted. Ours runs on the image's Node with the install's node flags and
// tuning environment (harness/bench/shipped-runtime.ts). Contenders alternate round by round. Every loop
// and wait is bounded; the cgroups are removed at the end (and on a signal).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { cpus, loadavg } from 'node:os';
import * as path from 'node:path';
import { buildWorkingTree } from '../../harness/bench/our-builds';
import { procCpuSeconds } from '../../harness/bench/process-cpu';
import { shippedNode, shippedNodeFlags, shippedTuningEnv } from '../../harness/bench/shipped-runtime';
import { startFakeAzure, FakeAzure } from '../../harness/fakes/fake-azure';
import { canUsePrivilegedLoopback } from '../../harness/fakes/loopback-hosts';
import { fakeServiceAccountToken, objectsYaml } from '../../harness/provider/parity-world';
import { cgroupV1CpuCounters } from '../../harness/rig/node/container-cgroup';
import {
  MountInput,
  ourProviderCommand,
  ProviderProcess,
  REPO_ROOT,
  upstreamProviderBinary,
  upstreamProviderCommand,
} from '../../harness/provider/provider-process';
import { SERVICE_ACCOUNT_TOKENS_KEY } from '../../runtime/wire/csi';

const TENANT_ID = '6b1a7d3e-0c5f-4a3e-9b1d-2f3e4a5b6c7d';
const CLIENT_ID = '3f2e1d0c-5b4a-4f3e-8d2c-1b0a9f8e7d6c';
const VAULT = 'benchkv';
const SUBJECT = 'system:serviceaccount:bench-cold:default';
const WI_AUDIENCE = 'api://AzureADTokenExchange';
const PERIOD_US = 100_000;
/** Kubelet's CSI call timeout; a Mount that takes longer fails the bench. */
const MOUNT_DEADLINE_MS = 120_000;
const START_TIMEOUT_MS = 120_000;
const BENCH_BUDGET_MS = 30 * 60_000;
const CGROUP_ROOT = '/sys/fs/cgroup';

interface Options {
  readonly pods: number;
  readonly objects: number;
  readonly quotaUs: number;
  readonly rounds: number;
  readonly only?: string;
  readonly ourEnv: Readonly<Record<string, string>>;
  readonly ourNodeFlags?: readonly string[];
  readonly cpuProfDir?: string;
  /** `--logs=<dir>`: each provider's stdout and stderr, one file per contender and round. */
  readonly logsDir?: string;
  readonly oursFlags: readonly string[];
}

function parseOptions(argv: readonly string[]): Options {
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const oursFlags = dash < 0 ? [] : argv.slice(dash + 1);
  const opts: {
    pods: number;
    objects: number;
    quotaUs: number;
    rounds: number;
    only?: string;
    ourEnv: Record<string, string>;
    ourNodeFlags?: string[];
    cpuProfDir?: string;
    logsDir?: string;
  } = { pods: 50, objects: 10, quotaUs: 5000, rounds: 2, ourEnv: {} };
  const count = (name: string, value: string | undefined, max: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be 1..${max}`);
    return n;
  };
  for (const arg of own) {
    const [key, value] = arg.split(/=(.*)/s, 2);
    const envVar = key === '--our-env' ? /^([A-Z_][A-Z0-9_]*)=(.*)$/s.exec(value ?? '') : null;
    if (envVar) opts.ourEnv[envVar[1]] = envVar[2];
    else if (key === '--our-node-flag' && /^(none|--[a-z0-9-]+(=[\w.,/-]+)?)$/.test(value ?? ''))
      opts.ourNodeFlags = [...(opts.ourNodeFlags ?? []), ...(value === 'none' ? [] : [value!])];
    else if (key === '--pods') opts.pods = count('pods', value, 200);
    else if (key === '--objects') opts.objects = count('objects', value, 100);
    else if (key === '--rounds') opts.rounds = count('rounds', value, 10);
    else if (key === '--cpu' && /^\d+m$/.test(value ?? ''))
      opts.quotaUs = (count('cpu', value!.slice(0, -1), 4000) * PERIOD_US) / 1000;
    else if (key === '--only' && (value === 'ours' || value === 'upstream')) opts.only = value;
    else if (key === '--cpu-prof' && value) opts.cpuProfDir = path.resolve(value);
    else if (key === '--logs' && value) opts.logsDir = path.resolve(value);
    else
      throw new Error(
        `unknown argument ${arg}; expected --pods=<n>, --objects=<n>, --cpu=<millicores>m, --rounds=<n>, --only=ours|upstream, --our-env=NAME=value, --our-node-flag=<flag|none>, --cpu-prof=<dir>, --logs=<dir>, or -- <our provider's flags>`,
      );
  }
  return { ...opts, oursFlags };
}

/** A CPU-quota cgroup (v1: cpu + cpuacct hierarchies), as containerd makes one for a container's limit. */
class QuotaCgroup {
  private readonly dirs: string[];

  constructor(
    name: string,
    readonly quotaUs: number,
  ) {
    this.dirs = ['cpu', 'cpuacct'].map((controller) => path.join(CGROUP_ROOT, controller, name));
    for (const dir of this.dirs) fs.mkdirSync(dir);
    fs.writeFileSync(path.join(this.dirs[0], 'cpu.cfs_period_us'), String(PERIOD_US));
    fs.writeFileSync(path.join(this.dirs[0], 'cpu.cfs_quota_us'), String(quotaUs));
  }

  /** A shell line that moves the shell itself into the cgroup (it then execs the provider). */
  joinScript(): string {
    return this.dirs.map((dir) => `echo $$ > ${dir}/cgroup.procs`).join(' && ');
  }

  usageSeconds(): number {
    return cgroupV1CpuCounters(this.dirs[0], this.dirs[1]).cpuSeconds;
  }

  throttling(): { periods: number; throttled: number; throttledSeconds: number } {
    const counters = cgroupV1CpuCounters(this.dirs[0], this.dirs[1]);
    return {
      periods: counters.periods,
      throttled: counters.throttledPeriods,
      throttledSeconds: counters.throttledSeconds,
    };
  }

  /** Removes the cgroup once its processes are gone (bounded: 5 s). */
  remove(): void {
    for (const dir of this.dirs) {
      for (let i = 0; i < 50 && fs.existsSync(dir); i++) {
        try {
          fs.rmdirSync(dir);
        } catch {
          execFileSync('sleep', ['0.1']);
        }
      }
    }
  }
}

const cgroups = new Set<QuotaCgroup>();

interface Contender {
  readonly label: 'ours' | 'upstream';
  readonly runtime: Record<string, unknown>;
  start(azure: FakeAzure, cgroup: QuotaCgroup, round: number): Promise<ProviderProcess>;
}

/** `command args` run by a shell that first joins `cgroup` (pid stays: sh execs). */
function inCgroup(cgroup: QuotaCgroup, command: string, args: string[]): [string, string[]] {
  return ['sh', ['-c', `${cgroup.joinScript()} && exec "$@"`, 'sh', command, ...args]];
}

function ourContender(opts: Options): Contender {
  const build = buildWorkingTree();
  const node = shippedNode();
  const env = { ...shippedTuningEnv('provider-azure-installer'), ...opts.ourEnv };
  const nodeFlags = opts.ourNodeFlags ?? shippedNodeFlags('provider-azure-installer');
  return {
    label: 'ours',
    runtime: { node: node.version, nodeFlags, env, fallbackReason: node.fallbackReason },
    start: (azure, cgroup, round) => {
      const profile = opts.cpuProfDir
        ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`, `--cpu-prof-name=ours-${round}.cpuprofile`]
        : [];
      const ours = ourProviderCommand(opts.oursFlags, {
        cli: build.cli,
        node: node.binary,
        nodeArgs: [...nodeFlags, ...profile],
      });
      return ProviderProcess.start({
        name: 'ours',
        command: 'sh',
        args: (ports) => inCgroup(cgroup, ours.command, ours.args(ports))[1],
        hostsFile: azure.hostsFile,
        env: { ...azure.ca.childEnv(), ...env },
        startTimeoutMs: START_TIMEOUT_MS,
      });
    },
  };
}

function upstreamContender(): Contender {
  const binary = upstreamProviderBinary();
  return {
    label: 'upstream',
    runtime: { binary },
    start: (azure, cgroup) => {
      const upstream = upstreamProviderCommand(binary);
      return ProviderProcess.start({
        name: 'upstream',
        command: 'sh',
        args: (ports) => inCgroup(cgroup, upstream.command, upstream.args(ports))[1],
        hostsFile: azure.hostsFile,
        env: azure.ca.childEnv(),
        startTimeoutMs: START_TIMEOUT_MS,
      });
    },
  };
}

/** Pod `i`'s Mount: the SPC of bench/node, the pod's own projected token for the one identity. */
function podMount(i: number, objects: number): MountInput {
  return {
    parameters: {
      keyvaultName: VAULT,
      tenantId: TENANT_ID,
      clientID: CLIENT_ID,
      objects: objectsYaml(
        Array.from({ length: objects }, (_, o) => ({ objectName: `bench-${o}`, objectType: 'secret' })),
      ),
      [SERVICE_ACCOUNT_TOKENS_KEY]: JSON.stringify({
        [WI_AUDIENCE]: {
          token: fakeServiceAccountToken(SUBJECT, WI_AUDIENCE, `bench-${i}`),
          expirationTimestamp: '2099-01-01T00:00:00Z',
        },
      }),
    },
    secrets: null,
    podName: `bench-${i}`,
    podNamespace: 'bench-cold',
    // Each pod its own volume, as on a node: a path served before would make the Mount a rotation check.
    targetPath: `/var/lib/kubelet/pods/bench-cold-${i}/volumes/kubernetes.io~csi/secrets-store/mount`,
  };
}

interface RoundResult {
  readonly label: string;
  readonly round: number;
  /** Spawn → the socket answers Version. */
  readonly socketMs: number;
  /** Spawn → each Mount's answer, sorted. */
  readonly mountMs: { first: number; p50: number; p90: number; max: number };
  readonly failedMounts: number;
  readonly firstFailure?: string;
  /** utime + stime of the process when the last Mount answered. */
  readonly processCpuSeconds: number;
  /** utime + stime per thread name (main loop, V8 workers, libuv pool, Go's threads) then. */
  readonly threadCpuSeconds: Readonly<Record<string, number>>;
  /** cpuacct.usage of the cgroup then (every thread, the shell before exec included). */
  readonly cgroupCpuSeconds: number;
  readonly throttling: { periods: number; throttled: number; throttledSeconds: number };
  readonly tokenRequests: number;
  readonly entraMetadataRequests: number;
  readonly keyVaultGets: number;
  readonly keyVaultChallenges: number;
  readonly tlsConnections: { entra: number; keyVault: number };
}

/** CPU seconds per thread name of `pid` (threads of one name summed), from /proc/<pid>/task. */
function threadCpu(pid: number): Record<string, number> {
  const byName: Record<string, number> = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let name: string;
    let seconds: number;
    try {
      name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      seconds = (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, USER_HZ ticks
    } catch {
      continue; // The thread ended meanwhile.
    }
    const key = Number(tid) === pid ? `${name} (main)` : name;
    byName[key] = round3((byName[key] ?? 0) + seconds);
  }
  return byName;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function runRound(
  azure: FakeAzure,
  contender: Contender,
  round: number,
  opts: Options,
): Promise<RoundResult> {
  azure.vault.resetStats();
  azure.entra.resetStats();
  const cgroup = new QuotaCgroup(`aks-ss-cold-${process.pid}-${contender.label}-${round}`, opts.quotaUs);
  cgroups.add(cgroup);
  const inputs = Array.from({ length: opts.pods }, (_, i) => podMount(i, opts.objects));
  const spawnedAt = performance.now();
  const provider = await contender.start(azure, cgroup, round);
  try {
    const socketMs = performance.now() - spawnedAt;
    const answers = await Promise.all(
      inputs.map(async (input) => {
        const outcome = await provider.mount(input, MOUNT_DEADLINE_MS);
        return { ms: performance.now() - spawnedAt, outcome };
      }),
    );
    const processCpuSeconds = procCpuSeconds(provider.pid);
    const threadCpuSeconds = threadCpu(provider.pid);
    const cgroupCpuSeconds = cgroup.usageSeconds();
    const throttling = cgroup.throttling();
    const failures = answers.flatMap((a) => (a.outcome.ok ? [] : [a.outcome.message]));
    const sorted = answers.map((a) => a.ms).sort((a, b) => a - b);
    const vault = azure.vault.stats();
    const entra = azure.entra.stats();
    return {
      label: contender.label,
      round,
      socketMs: Math.round(socketMs),
      mountMs: {
        first: Math.round(sorted[0]),
        p50: Math.round(percentile(sorted, 50)),
        p90: Math.round(percentile(sorted, 90)),
        max: Math.round(sorted[sorted.length - 1]),
      },
      failedMounts: failures.length,
      firstFailure: failures[0],
      processCpuSeconds: round3(processCpuSeconds),
      threadCpuSeconds,
      cgroupCpuSeconds: round3(cgroupCpuSeconds),
      throttling: { ...throttling, throttledSeconds: round3(throttling.throttledSeconds) },
      tokenRequests: entra.tokenRequests,
      entraMetadataRequests: entra.metadataRequests + entra.discoveryRequests,
      keyVaultGets: vault.authorizedRequests,
      keyVaultChallenges: vault.challenges,
      tlsConnections: { entra: entra.tlsConnections, keyVault: vault.tlsConnections },
    };
  } finally {
    await provider.stop();
    if (opts.logsDir) {
      fs.mkdirSync(opts.logsDir, { recursive: true });
      fs.writeFileSync(path.join(opts.logsDir, `${contender.label}-${round}.log`), provider.logs());
    }
    cgroup.remove();
    cgroups.delete(cgroup);
  }
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
};

function table(results: readonly RoundResult[]): string {
  const of = (label: string) => results.filter((r) => r.label === label);
  const ours = of('ours');
  const upstream = of('upstream');
  const rows: Array<[string, (r: RoundResult) => number]> = [
    ['spawn → socket answers (ms)', (r) => r.socketMs],
    ['spawn → first Mount answered (ms)', (r) => r.mountMs.first],
    ['spawn → Mount answered p50 (ms)', (r) => r.mountMs.p50],
    ['spawn → Mount answered p90 (ms)', (r) => r.mountMs.p90],
    ['spawn → Mount answered max (ms)', (r) => r.mountMs.max],
    ['failed Mounts', (r) => r.failedMounts],
    ['process CPU utime+stime (s)', (r) => r.processCpuSeconds],
    ['cgroup cpuacct.usage (s)', (r) => r.cgroupCpuSeconds],
    ['periods throttled', (r) => r.throttling.throttled],
    ['Entra token requests', (r) => r.tokenRequests],
    ['Entra metadata requests', (r) => r.entraMetadataRequests],
    ['Key Vault GETs (+ challenges)', (r) => r.keyVaultGets + r.keyVaultChallenges],
    ['TLS connections to Entra ID', (r) => r.tlsConnections.entra],
    ['TLS connections to Key Vault', (r) => r.tlsConnections.keyVault],
  ];
  const cell = (values: readonly number[]) =>
    values.length === 0 ? 'n/a' : `${median(values)} (${values.join(', ')})`;
  const lines = [
    '| metric (median of rounds; each round) | ours | upstream | ours / upstream |',
    '|---|---|---|---|',
    ...rows.map(([name, pick]) => {
      const [a, b] = [ours.map(pick), upstream.map(pick)];
      const ratio = a.length && b.length && median(b) ? (median(a) / median(b)).toFixed(2) : 'n/a';
      return `| ${name} | ${cell(a)} | ${cell(b)} | ${ratio} |`;
    }),
  ];
  return lines.join('\n');
}

function uptime(): string {
  return execFileSync('uptime', { encoding: 'utf8' }).trim();
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (!canUsePrivilegedLoopback())
    throw new Error('the cold-start bench needs root: port 443 on loopback, unshare --mount, cgroups');
  if (!fs.existsSync(path.join(CGROUP_ROOT, 'cpu', 'cpu.cfs_quota_us')))
    throw new Error(`the cold-start bench needs cgroup v1's cpu controller at ${CGROUP_ROOT}/cpu`);
  const onSignal = () => {
    for (const cgroup of cgroups) cgroup.remove();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  const uptimeBefore = uptime();
  const contenders = [ourContender(opts), upstreamContender()].filter(
    (c) => !opts.only || c.label === opts.only,
  );
  const azure = await startFakeAzure({
    tenantId: TENANT_ID,
    vaultNames: [VAULT],
    keyVaultDnsSuffix: 'vault.azure.net',
    loginHost: 'login.microsoftonline.com',
    port443: true,
  });
  const results: RoundResult[] = [];
  try {
    azure.entra.addFederatedClient({ tenantId: TENANT_ID, clientId: CLIENT_ID, subject: SUBJECT });
    for (let o = 0; o < opts.objects; o++) azure.vault.setSecret(VAULT, `bench-${o}`, `value-${o}-v1`);
    for (let round = 0; round < opts.rounds; round++) {
      for (const contender of contenders) {
        if (Date.now() - started > BENCH_BUDGET_MS)
          throw new Error(`the bench exceeded its ${BENCH_BUDGET_MS / 60_000} min budget`);
        const result = await runRound(azure, contender, round, opts);
        console.log(
          `${contender.label} round ${round}: p50 ${result.mountMs.p50} ms, max ${result.mountMs.max} ms, CPU ${result.processCpuSeconds} s ${JSON.stringify(result.threadCpuSeconds)}, failed ${result.failedMounts}${result.firstFailure ? ` (${result.firstFailure})` : ''}`,
        );
        results.push(result);
      }
    }
  } finally {
    await azure.dispose();
  }
  const uptimeAfter = uptime();
  const header =
    `provider cold start: ${opts.pods} Mounts × ${opts.objects} objects at once on a fresh process, ` +
    `one workload identity, a token per pod, CPU quota ${opts.quotaUs}/${PERIOD_US} µs (${opts.quotaUs / 100}m), ` +
    `${cpus().length} CPUs\n  before: ${uptimeBefore}\n  after:  ${uptimeAfter}\n` +
    contenders.map((c) => `  ${c.label}: ${JSON.stringify(c.runtime)}`).join('\n');
  console.log(`${header}\n${table(results)}`);
  const out = path.join(REPO_ROOT, 'bench', 'results', 'provider-cold-start.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        command: ['npx ts-node --transpile-only bench/provider/cold-start.ts', ...process.argv.slice(2)].join(
          ' ',
        ),
        uptime: { before: uptimeBefore, after: uptimeAfter },
        loadAverage1m: loadavg()[0],
        setup: {
          pods: opts.pods,
          objects: opts.objects,
          cpuQuotaUs: opts.quotaUs,
          cpuPeriodUs: PERIOD_US,
          rounds: opts.rounds,
          contenders: Object.fromEntries(contenders.map((c) => [c.label, c.runtime])),
        },
        results,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${out}`);
}

main().catch((error: Error) => {
  for (const cgroup of cgroups) cgroup.remove();
  console.error(`cold-start bench failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
