// What a container really sees: files read inside its mount namespace and its environment, found through
// containerd (the pod's containerID → the task's pid), not through the host path of the volume.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { NodeEndpoints } from './node';

interface PodWithStatus {
  readonly metadata: { readonly name: string };
  readonly status?: { readonly containerStatuses?: readonly { name: string; containerID?: string }[] };
}

/** The pid of a running container of the pod, from containerd's task list. */
export function containerPid(node: NodeEndpoints, pod: PodWithStatus, container: string): number {
  const status = pod.status?.containerStatuses?.find((c) => c.name === container);
  const id = status?.containerID?.replace(/^containerd:\/\//, '');
  if (!id) throw new Error(`pod ${pod.metadata.name} has no running container ${container}`);
  const tasks = execFileSync('ctr', ['--address', node.containerdAddress, '-n', 'k8s.io', 'tasks', 'ls'], {
    encoding: 'utf8',
  });
  const line = tasks.split('\n').find((l) => l.startsWith(`${id} `));
  const pid = Number(line?.trim().split(/\s+/)[1]);
  if (!pid) throw new Error(`containerd has no task for container ${id} of pod ${pod.metadata.name}`);
  return pid;
}

/** A file as the container sees it (read in its mount namespace); undefined when it does not exist there. */
export function readInContainer(
  node: NodeEndpoints,
  pod: PodWithStatus,
  container: string,
  file: string,
): string | undefined {
  const pid = containerPid(node, pod, container);
  try {
    return execFileSync('nsenter', ['-t', String(pid), '-m', 'cat', file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
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
