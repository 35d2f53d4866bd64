// The node bench's cgroup reader against fixture trees laid out as the kernel does (v1 and v2): limits,
// peak, working set (usage minus inactive file), limit hits, OOM kills and CPU throttling.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { containerCgroupStats } from '../../harness/rig/node/container-cgroup';

const MIB = 1024 * 1024;
let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cgroup-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function write(relative: string, content: string): void {
  const file = path.join(root, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

const roots = () => ({ proc: path.join(root, 'proc'), cgroup: path.join(root, 'cgroup') });

test('cgroup v1: memory and cpu,cpuacct hierarchies of a throttled container', () => {
  const pod = '/kubepods/burstable/pod1/abc';
  write('proc/42/cgroup', `12:memory:${pod}\n4:cpu,cpuacct:${pod}\n1:name=systemd:${pod}\n`);
  write(`cgroup/memory${pod}/memory.usage_in_bytes`, `${90 * MIB}\n`);
  write(`cgroup/memory${pod}/memory.limit_in_bytes`, `${100 * MIB}\n`);
  write(`cgroup/memory${pod}/memory.max_usage_in_bytes`, `${99 * MIB}\n`);
  write(`cgroup/memory${pod}/memory.failcnt`, '7\n');
  write(`cgroup/memory${pod}/memory.stat`, `cache 100\ntotal_inactive_file ${30 * MIB}\ntotal_rss 5\n`);
  write(`cgroup/memory${pod}/memory.oom_control`, 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
  write(`cgroup/cpu,cpuacct${pod}/cpu.cfs_quota_us`, '5000\n');
  write(`cgroup/cpu,cpuacct${pod}/cpu.cfs_period_us`, '100000\n');
  write(
    `cgroup/cpu,cpuacct${pod}/cpu.stat`,
    'nr_periods 449\nnr_throttled 402\nthrottled_time 42100000000\n',
  );
  write(`cgroup/cpu,cpuacct${pod}/cpuacct.usage`, '2080000000\n');
  expect(containerCgroupStats(42, roots())).toEqual({
    memoryLimitMiB: 100,
    memoryPeakMiB: 99,
    workingSetMiB: 60,
    memoryLimitHits: 7,
    oomKills: 1,
    cpuLimitMillicores: 50,
    cpuSeconds: 2.08,
    periods: 449,
    throttledPeriods: 402,
    throttledSeconds: 42.1,
  });
});

test('cgroup v1 without limits reads as unlimited', () => {
  write('proc/7/cgroup', '4:memory:/\n3:cpu:/\n2:cpuacct:/\n');
  write('cgroup/memory/memory.usage_in_bytes', `${10 * MIB}`);
  write('cgroup/memory/memory.limit_in_bytes', '9223372036854771712');
  write('cgroup/memory/memory.max_usage_in_bytes', `${12 * MIB}`);
  write('cgroup/memory/memory.failcnt', '0');
  write('cgroup/memory/memory.stat', 'total_inactive_file 0\n');
  write('cgroup/memory/memory.oom_control', 'oom_kill_disable 0\n');
  write('cgroup/cpu/cpu.cfs_quota_us', '-1');
  write('cgroup/cpu/cpu.cfs_period_us', '100000');
  write('cgroup/cpu/cpu.stat', 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n');
  write('cgroup/cpuacct/cpuacct.usage', '1000000000');
  const stats = containerCgroupStats(7, roots());
  expect(stats.memoryLimitMiB).toBeUndefined();
  expect(stats.cpuLimitMillicores).toBeUndefined();
  expect(stats).toMatchObject({ memoryPeakMiB: 12, workingSetMiB: 10, oomKills: 0, cpuSeconds: 1 });
});

test('cgroup v2: the unified hierarchy', () => {
  const pod = '/kubepods.slice/pod2/def';
  write('proc/9/cgroup', `0::${pod}\n`);
  write(`cgroup${pod}/memory.current`, `${50 * MIB}\n`);
  write(`cgroup${pod}/memory.max`, `${200 * MIB}\n`);
  write(`cgroup${pod}/memory.peak`, `${80 * MIB}\n`);
  write(`cgroup${pod}/memory.stat`, `anon 1\ninactive_file ${8 * MIB}\n`);
  write(`cgroup${pod}/memory.events`, 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
  write(`cgroup${pod}/cpu.max`, '20000 100000\n');
  write(
    `cgroup${pod}/cpu.stat`,
    'usage_usec 4250000\nnr_periods 311\nnr_throttled 153\nthrottled_usec 9400000\n',
  );
  expect(containerCgroupStats(9, roots())).toEqual({
    memoryLimitMiB: 200,
    memoryPeakMiB: 80,
    workingSetMiB: 42,
    memoryLimitHits: 3,
    oomKills: 1,
    cpuLimitMillicores: 200,
    cpuSeconds: 4.25,
    periods: 311,
    throttledPeriods: 153,
    throttledSeconds: 9.4,
  });
});

test('a process without a memory cgroup is an error naming the file', () => {
  write('proc/5/cgroup', '3:cpu:/\n');
  expect(() => containerCgroupStats(5, roots())).toThrow(/no memory cgroup in .*proc\/5\/cgroup/);
});
