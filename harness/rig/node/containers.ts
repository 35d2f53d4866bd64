// What a container really sees: files read through its process's root (/proc/<pid>/root resolves paths in
// the container's mount namespace, its volumes included) and its environment, with the pid found through
// containerd (the pod's containerID → the task), never through the host path of a volume.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { NodeEndpoints } from './node';

interface PodWithStatus {
  readonly metadata: { readonly name: string };
  readonly status?: { readonly containerStatuses?: readonly { name: string; containerID?: string }[] };
}

/** Container id → pid of every task of the node's containerd (one `ctr` call). */
export function containerPids(node: NodeEndpoints): Map<string, number> {
  const tasks = execFileSync('ctr', ['--address', node.containerdAddress, '-n', 'k8s.io', 'tasks', 'ls'], {
    encoding: 'utf8',
  });
  const pids = new Map<string, number>();
  for (const line of tasks.split('\n').slice(1)) {
    const [id, pid, status] = line.trim().split(/\s+/);
    if (id && status === 'RUNNING') pids.set(id, Number(pid));
  }
  return pids;
}

/** The pid of a running container of the pod; `pids` from {@link containerPids} saves the lookup. */
export function containerPid(
  node: NodeEndpoints,
  pod: PodWithStatus,
  container: string,
  pids: Map<string, number> = containerPids(node),
): number {
  const status = pod.status?.containerStatuses?.find((c) => c.name === container);
  const id = status?.containerID?.replace(/^containerd:\/\//, '');
  if (!id) throw new Error(`pod ${pod.metadata.name} has no running container ${container}`);
  const pid = pids.get(id);
  if (!pid) throw new Error(`containerd has no running task for container ${id} of pod ${pod.metadata.name}`);
  return pid;
}

/** A file as the process `pid` sees it; undefined when it does not exist there. */
export function readAsProcess(pid: number, file: string): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/root${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** A file as the container sees it; undefined when it does not exist there. */
export function readInContainer(
  node: NodeEndpoints,
  pod: PodWithStatus,
  container: string,
  file: string,
): string | undefined {
  return readAsProcess(containerPid(node, pod, container), file);
}

/** The container's environment (its process's, as the kubelet set it). */
export function containerEnvironment(
  node: NodeEndpoints,
  pod: PodWithStatus,
  container: string,
): Record<string, string> {
  const pid = containerPid(node, pod, container);
  const entries = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return Object.fromEntries(
    entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

/** The container's mount table (its process's /proc/<pid>/mounts). */
export function containerMounts(node: NodeEndpoints, pod: PodWithStatus, container: string): string {
  return fs.readFileSync(`/proc/${containerPid(node, pod, container)}/mounts`, 'utf8');
}

/** VmRSS of a process, MiB. */
export function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}
