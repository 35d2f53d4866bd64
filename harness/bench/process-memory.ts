// Memory of a process under benchmark, read the same way for a Go and a Node process: RSS and its split
// (anonymous vs file-backed pages) from /proc/<pid>/status, and for a Node process that preloads
// memory-probe.js, its own process.memoryUsage() (heap, external, array buffers) at the same moment.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** What /proc says of any process, in KiB. */
export interface ProcMemory {
  readonly rssKiB: number;
  /** Anonymous pages: heaps, allocator arenas, stacks, JIT code. */
  readonly rssAnonKiB: number;
  /** File-backed pages: the executable and libraries as far as they were touched. */
  readonly rssFileKiB: number;
  /** Peak RSS of the process's life (VmHWM). */
  readonly peakRssKiB: number;
}

/** process.memoryUsage() and V8's view of a Node process, in KiB (memory-probe.js). */
export interface NodeMemory {
  readonly heapUsedKiB: number;
  readonly heapTotalKiB: number;
  readonly externalKiB: number;
  readonly arrayBuffersKiB: number;
  /** Memory V8 allocated with malloc outside its heap (compiler zones, etc.). */
  readonly mallocedKiB: number;
  readonly threads: number;
  /** V8 heap space → committed size and used size, KiB. */
  readonly heapSpaces: Readonly<Record<string, { sizeKiB: number; usedKiB: number }>>;
  /** Path of the heap snapshot written with this sample, when snapshots were asked for. */
  readonly snapshot?: string;
}

/** One sample: /proc always, Node's own breakdown when the process preloads the probe. */
export interface MemorySample extends ProcMemory {
  readonly node?: NodeMemory;
}

/** The memory of `pid` from /proc/<pid>/status. */
export function procMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(match[1]);
  };
  return {
    rssKiB: kib('VmRSS'),
    rssAnonKiB: kib('RssAnon'),
    rssFileKiB: kib('RssFile'),
    peakRssKiB: kib('VmHWM'),
  };
}

/** The preload a measured Node process is started with (`--require <file>`). */
export const MEMORY_PROBE_FILE = resolve(__dirname, 'memory-probe.js');

/**
 * A file the probe writes to, the environment and Node flags that arm it, and the call that samples.
 * One probe per process.
 */
export class MemoryProbe {
  private readonly dir = mkdtempSync(join(tmpdir(), 'aks-ss-memory-probe-'));
  private readonly file = join(this.dir, 'sample.json');
  private lastSeq = 0;

  /** @param heapSnapshotDir when set, every sample also writes a heap snapshot there (slow: analysis runs only). */
  constructor(private readonly heapSnapshotDir?: string) {}

  /** Node flags that load the probe. */
  nodeArgs(): string[] {
    return ['--require', MEMORY_PROBE_FILE];
  }

  /** Environment that arms it. */
  env(): Record<string, string> {
    return {
      AKS_SS_MEMORY_PROBE: this.file,
      ...(this.heapSnapshotDir ? { AKS_SS_HEAP_SNAPSHOT_DIR: this.heapSnapshotDir } : {}),
    };
  }

  /** /proc of `pid` and, when it answers SIGUSR2 within `timeoutMs`, its own breakdown. */
  async sample(pid: number, timeoutMs = 10_000): Promise<MemorySample> {
    const proc = procMemory(pid);
    process.kill(pid, 'SIGUSR2');
    const deadline = Date.now() + (this.heapSnapshotDir ? 120_000 : timeoutMs);
    for (;;) {
      const raw = existsSync(this.file) ? JSON.parse(readFileSync(this.file, 'utf8')) : undefined;
      if (raw && raw.seq > this.lastSeq) {
        this.lastSeq = raw.seq;
        return { ...proc, node: nodeMemory(raw) };
      }
      if (Date.now() > deadline) return proc;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

interface RawSample {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  mallocedMemory: number;
  threads: number;
  heapSpaces: Record<string, { size: number; used: number }>;
  snapshot?: string;
}

function nodeMemory(raw: RawSample): NodeMemory {
  const k = (bytes: number) => Math.round(bytes / 1024);
  return {
    heapUsedKiB: k(raw.heapUsed),
    heapTotalKiB: k(raw.heapTotal),
    externalKiB: k(raw.external),
    arrayBuffersKiB: k(raw.arrayBuffers),
    mallocedKiB: k(raw.mallocedMemory),
    threads: raw.threads,
    heapSpaces: Object.fromEntries(
      Object.entries(raw.heapSpaces).map(([name, s]) => [name, { sizeKiB: k(s.size), usedKiB: k(s.used) }]),
    ),
    snapshot: raw.snapshot,
  };
}

/** MiB with one decimal. */
export function mib(kib: number | undefined): string {
  return kib === undefined || Number.isNaN(kib) ? '?' : (kib / 1024).toFixed(1);
}

/** `rss 81.2 (anon 30.1, file 51.1) heap 17.3/21.0 ext 2.1 ab 0.3` for a table cell. */
export function describeSample(sample: MemorySample | undefined): string {
  if (!sample) return '?';
  const proc = `${mib(sample.rssKiB)} (anon ${mib(sample.rssAnonKiB)}, file ${mib(sample.rssFileKiB)})`;
  const n = sample.node;
  if (!n) return proc;
  return `${proc} heap ${mib(n.heapUsedKiB)}/${mib(n.heapTotalKiB)} ext ${mib(n.externalKiB)} ab ${mib(n.arrayBuffersKiB)}`;
}
