// The self-hosted install (lib/core/install) as the node runs it: ours (our runtime image, built from this
// working tree) or upstream's (the rig-built upstream driver v1.6.1 and Azure provider v1.8.2 binaries in
// images of their own). Only what must differ on this machine is set: the kubelet's root dir and the
// providers dir (both under the node's temp dir), and the images that cannot be pulled (named below).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderSelfHostedInstall, SelfHostedInstallOptions } from '../../../lib/core/install';
import type { KubeObject } from '../../../lib/core/kube-object';
import { applyAll } from '../apply-objects';
import { KubeApi } from '../kube-api';
import { waitUntil } from '../processes';
import type { NodeEndpoints } from './node';
import { NODE_IMAGE_NAMES } from './node-images';

export type NodeFlavor = 'ours' | 'upstream';

/**
 * The install for the node. The stand-ins: node-driver-registrar and livenessprobe are
 * harness/rig/tools/csi-sidecars (their modules are not served); upstream's driver and provider images are
 * the rig-built binaries on a Debian rootfs (registry.k8s.io and mcr.microsoft.com are not reachable).
 */
export function nodeInstall(
  flavor: NodeFlavor,
  node: NodeEndpoints,
  options: Omit<SelfHostedInstallOptions, 'images' | 'kubeletRootDir' | 'providersDir'> = {},
): KubeObject[] {
  return renderSelfHostedInstall({
    ...options,
    kubeletRootDir: node.kubeletRootDir,
    providersDir: node.providersDir,
    // Upstream's legacy dir would be a host path outside the node's dir.
    additionalProvidersDirs: options.additionalProvidersDirs ?? [],
    images: {
      nodeDriverRegistrarImage: NODE_IMAGE_NAMES.registrar,
      livenessProbeImage: NODE_IMAGE_NAMES.livenessProbe,
      ...(flavor === 'upstream'
        ? {
            useUpstreamImages: true,
            driverImage: NODE_IMAGE_NAMES.upstreamDriver,
            providerImage: NODE_IMAGE_NAMES.upstreamProvider,
          }
        : {}),
    },
  });
}

interface PodList {
  readonly items: readonly {
    readonly metadata: { readonly name: string; readonly namespace: string };
    readonly spec: { readonly nodeName?: string };
    readonly status?: {
      readonly phase?: string;
      readonly conditions?: readonly { type: string; status: string }[];
      readonly containerStatuses?: readonly {
        name: string;
        restartCount: number;
        state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string } };
      }[];
    };
  }[];
}

function daemonSets(objects: readonly KubeObject[]): KubeObject[] {
  return objects.filter((object) => object.kind === 'DaemonSet');
}

function selectorOf(daemonSet: KubeObject): string {
  const labels = (daemonSet.spec as { selector: { matchLabels: Record<string, string> } }).selector
    .matchLabels;
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** The install's DaemonSet pods on the node. */
export async function installPods(api: KubeApi, objects: readonly KubeObject[], node: NodeEndpoints) {
  const pods: PodList['items'][number][] = [];
  for (const daemonSet of daemonSets(objects)) {
    const list = await api.get<PodList>(
      `/api/v1/namespaces/${daemonSet.metadata.namespace}/pods?labelSelector=${encodeURIComponent(selectorOf(daemonSet))}` +
        `&fieldSelector=${encodeURIComponent(`spec.nodeName=${node.nodeName}`)}`,
    );
    pods.push(...list.items);
  }
  return pods;
}

function describePods(pods: PodList['items']): string {
  return pods
    .map((pod) => {
      const containers = (pod.status?.containerStatuses ?? [])
        .map((c) => {
          const waiting = c.state?.waiting;
          return `${c.name}: restarts ${c.restartCount}${waiting ? `, waiting ${waiting.reason} ${waiting.message ?? ''}` : ''}`;
        })
        .join('; ');
      return `${pod.metadata.name} ${pod.status?.phase} [${containers}]`;
    })
    .join('\n');
}

/** Applies the install and waits until each DaemonSet has a Ready pod on the node. */
export async function installOnNode(
  api: KubeApi,
  objects: readonly KubeObject[],
  node: NodeEndpoints,
  timeoutMs = 240_000,
): Promise<void> {
  await applyAll(api, objects);
  await waitForInstallReady(api, objects, node, timeoutMs);
}

export async function waitForInstallReady(
  api: KubeApi,
  objects: readonly KubeObject[],
  node: NodeEndpoints,
  timeoutMs = 240_000,
): Promise<void> {
  let last = '';
  await waitUntil(
    async () => {
      const pods = await installPods(api, objects, node);
      last = describePods(pods);
      const ready = pods.filter((pod) =>
        pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return ready.length === daemonSets(objects).length && pods.length === ready.length;
    },
    {
      what: `the install's DaemonSet pods Ready on ${node.nodeName}`,
      timeoutMs,
      intervalMs: 1000,
    },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\npods:\n${last}`);
  });
}

/**
 * The last lines of every container log of the install's pods on the node (the kubelet keeps them under the
 * node's dir while the pods exist), for a failing test's message.
 */
export function installLogsTail(node: NodeEndpoints, lines = 15): string {
  return installContainerLogs(node)
    .map(({ pod, container, files }) => {
      const text = files.length ? fs.readFileSync(files[files.length - 1], 'utf8') : '';
      return `--- ${pod.split('_')[1]}/${container}:\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
    })
    .join('\n');
}

/** Each container of the install's pods on the node, with its log files (kubelet's CRI files, oldest first). */
export function installContainerLogs(
  node: NodeEndpoints,
): { readonly pod: string; readonly container: string; readonly files: readonly string[] }[] {
  const root = path.join(node.dir, 'pod-logs');
  const pods = fs.existsSync(root)
    ? fs.readdirSync(root).filter((d) => /^[^_]+_csi-secrets-store-/.test(d))
    : [];
  return pods.flatMap((pod) =>
    fs.readdirSync(path.join(root, pod)).map((container) => {
      const dir = path.join(root, pod, container);
      return {
        pod,
        container,
        files: fs
          .readdirSync(dir)
          .sort()
          .map((f) => path.join(dir, f)),
      };
    }),
  );
}

/** Deletes the install's node-facing objects and waits until its pods are gone from the node. */
export async function uninstallFromNode(
  api: KubeApi,
  objects: readonly KubeObject[],
  node: NodeEndpoints,
  timeoutMs = 120_000,
): Promise<void> {
  for (const object of [...objects].reverse()) {
    if (object.kind === 'CustomResourceDefinition' || object.kind === 'Namespace') continue;
    await api.delete(await api.objectPath(object));
  }
  await waitUntil(async () => (await installPods(api, objects, node)).length === 0, {
    what: `the install's pods gone from ${node.nodeName}`,
    timeoutMs,
    intervalMs: 1000,
  });
}
