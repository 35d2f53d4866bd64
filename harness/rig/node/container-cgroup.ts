// What the kernel counts against a container's limits: its cgroup's memory (limit, peak usage, working set as
// the kubelet computes it for eviction) and CPU (quota, time used, throttling). Read from the cgroup of a
// container's process (/proc/<pid>/cgroup), cgroup v1 (this machine) or v2. The node benchmark uses it to
// show the headroom of the install's resources under load (issue 14), not only the process's RSS.
import * as fs from 'node:fs';
import * as path from 'node:path';

const MIB = 1024 * 1024;

/** A container's cgroup counters at one moment. */
export interface ContainerCgroupStats {
  /** memory limit, MiB; undefined when unlimited. */
  readonly memoryLimitMiB?: number;
  /** highest memory usage so far (v1 max_usage_in_bytes, v2 memory.peak), page cache included, MiB. */
  readonly memoryPeakMiB: number;
  /** usage minus inactive file pages, as the kubelet's working set, MiB. */
  readonly workingSetMiB: number;
  /** times the limit was hit (v1 failcnt, v2 memory.events max). */
  readonly memoryLimitHits: number;
  /** OOM kills in the cgroup (v1 memory.oom_control oom_kill, v2 memory.events oom_kill). */
  readonly oomKills: number;
  /** CPU quota in millicores; undefined when unlimited. */
  readonly cpuLimitMillicores?: number;
  /** CPU time used, seconds. */
  readonly cpuSeconds: number;
  /** CFS periods, and those in which the cgroup was throttled. */
  readonly periods: number;
  readonly throttledPeriods: number;
  /** Time spent throttled, seconds. */
  readonly throttledSeconds: number;
}

/** Where /proc and the cgroup hierarchies are (a test points them at a fixture). */
export interface CgroupRoots {
  readonly proc: string;
  readonly cgroup: string;
}

const HOST: CgroupRoots = { proc: '/proc', cgroup: '/sys/fs/cgroup' };

/** The cgroup counters of the container whose process is `pid`. */
export function containerCgroupStats(pid: number, roots: CgroupRoots = HOST): ContainerCgroupStats {
  const cgroupFile = path.join(roots.proc, String(pid), 'cgroup');
  const lines = fs.readFileSync(cgroupFile, 'utf8').trim().split('\n');
  const v1 = new Map<string, string>();
  let unified: string | undefined;
  for (const line of lines) {
    const [, controllers, cgroupPath] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers === undefined) continue;
    if (controllers === '') unified = cgroupPath;
    for (const controller of controllers.split(',')) v1.set(controller, cgroupPath);
  }
  if (v1.has('memory')) return v1Stats(v1, roots.cgroup);
  if (unified !== undefined) return v2Stats(path.join(roots.cgroup, unified));
  throw new Error(`process ${pid} has no memory cgroup in ${cgroupFile}`);
}

function v1Stats(paths: Map<string, string>, root: string): ContainerCgroupStats {
  const dir = (controller: string) => {
    const candidates = [path.join(root, controller, paths.get(controller) ?? '/')];
    // cpu and cpuacct are often mounted together as cpu,cpuacct.
    if (controller !== 'memory')
      candidates.push(path.join(root, 'cpu,cpuacct', paths.get(controller) ?? '/'));
    const found = candidates.find((candidate) => fs.existsSync(candidate));
    if (!found) throw new Error(`no cgroup directory for ${controller} (looked in ${candidates.join(', ')})`);
    return found;
  };
  const memory = dir('memory');
  const cpu = dir('cpu');
  const cpuacct = dir('cpuacct');
  const memoryStat = keyValues(read(memory, 'memory.stat'));
  const usage = Number(read(memory, 'memory.usage_in_bytes'));
  const limit = Number(read(memory, 'memory.limit_in_bytes'));
  const quota = Number(read(cpu, 'cpu.cfs_quota_us'));
  const period = Number(read(cpu, 'cpu.cfs_period_us'));
  return {
    // v1 reports "unlimited" as a page-rounded LONG_MAX.
    memoryLimitMiB: limit >= 2 ** 62 ? undefined : limit / MIB,
    memoryPeakMiB: Number(read(memory, 'memory.max_usage_in_bytes')) / MIB,
    workingSetMiB: Math.max(0, usage - (memoryStat.get('total_inactive_file') ?? 0)) / MIB,
    memoryLimitHits: Number(read(memory, 'memory.failcnt')),
    oomKills: keyValues(read(memory, 'memory.oom_control')).get('oom_kill') ?? 0,
    cpuLimitMillicores: quota > 0 ? (quota / period) * 1000 : undefined,
    ...cgroupV1CpuCounters(cpu, cpuacct),
  };
}

/** CPU time used and CFS throttling of a cgroup v1, from its cpu and cpuacct directories. */
export function cgroupV1CpuCounters(
  cpuDir: string,
  cpuacctDir: string,
): Pick<ContainerCgroupStats, 'cpuSeconds' | 'periods' | 'throttledPeriods' | 'throttledSeconds'> {
  const cpuStat = keyValues(read(cpuDir, 'cpu.stat'));
  return {
    cpuSeconds: Number(read(cpuacctDir, 'cpuacct.usage')) / 1e9,
    periods: cpuStat.get('nr_periods') ?? 0,
    throttledPeriods: cpuStat.get('nr_throttled') ?? 0,
    throttledSeconds: (cpuStat.get('throttled_time') ?? 0) / 1e9,
  };
}

function v2Stats(dir: string): ContainerCgroupStats {
  const memoryStat = keyValues(read(dir, 'memory.stat'));
  const events = keyValues(read(dir, 'memory.events'));
  const cpuStat = keyValues(read(dir, 'cpu.stat'));
  const limit = read(dir, 'memory.max');
  const [quota, period] = read(dir, 'cpu.max').split(/\s+/);
  const usage = Number(read(dir, 'memory.current'));
  return {
    memoryLimitMiB: limit === 'max' ? undefined : Number(limit) / MIB,
    memoryPeakMiB: fs.existsSync(path.join(dir, 'memory.peak'))
      ? Number(read(dir, 'memory.peak')) / MIB
      : usage / MIB,
    workingSetMiB: Math.max(0, usage - (memoryStat.get('inactive_file') ?? 0)) / MIB,
    memoryLimitHits: events.get('max') ?? 0,
    oomKills: events.get('oom_kill') ?? 0,
    cpuLimitMillicores: quota === 'max' ? undefined : (Number(quota) / Number(period)) * 1000,
    cpuSeconds: (cpuStat.get('usage_usec') ?? 0) / 1e6,
    periods: cpuStat.get('nr_periods') ?? 0,
    throttledPeriods: cpuStat.get('nr_throttled') ?? 0,
    throttledSeconds: (cpuStat.get('throttled_usec') ?? 0) / 1e6,
  };
}

function read(dir: string, file: string): string {
  return fs.readFileSync(path.join(dir, file), 'utf8').trim();
}

function keyValues(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) values.set(key, Number(value));
  }
  return values;
}
