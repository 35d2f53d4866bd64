// Pods for the target-path check, from a watch of this node's pods (upstream's manager caches pods with
// the same `spec.nodeName=<nodeid>` field selector), so a first mount does not wait on a pod GET. The
// cache is only trusted for a pod with the UID the volume names: a pod not seen by the watch yet, or a
// re-created pod of the same name whose new UID the watch has not delivered, is read with a GET, as before.
// Each cached pod is shrunk to its name, UID and this driver's CSI volumes (their SPC name only), so
// 110 pods cost a few KiB and no other volume attribute, env value or annotation stays in memory.
import type { KubeClient } from './kube/kube-client';
import { isForbidden } from './kube/kube-api-error';
import { PODS } from './kube/kube-resources';
import type { Pod } from './kube/kube-types';
import { isWorthReporting, WatchCache } from './kube/watch-cache';
import type { PodReference, PodSource } from './ports';

/** Where the node pod cache reports (a Logger's warn). */
export type NodePodCacheLog = (message: string, fields: Record<string, unknown>) => void;

/** Options of {@link nodePodCache}. */
export interface NodePodCacheProps {
  readonly client: KubeClient;
  /** `--nodeid`: kubelet's node name, the pods' `spec.nodeName`. */
  readonly nodeName: string;
  /** The CSI driver name whose volumes are kept. */
  readonly driverName: string;
  /** Failures of the list/watch (the first, then fewer). @default not reported */
  readonly warn?: NodePodCacheLog;
}

/**
 * The watch of this node's pods. A 403 (an install whose ClusterRole grants `get` on pods but not
 * `list`/`watch`) ends it for good: every check then reads its pod with a GET.
 */
export function nodePodCache(props: NodePodCacheProps): WatchCache<Pod> {
  return new WatchCache<Pod>({
    client: props.client,
    resource: PODS,
    fieldSelector: `spec.nodeName=${props.nodeName}`,
    transform: (pod) => shrinkPod(pod as Pod, props.driverName),
    giveUpOn: isForbidden,
    onError: (err, failures) => {
      if (!props.warn) return;
      if (isForbidden(err))
        props.warn(
          "cannot watch this node's pods (RBAC); each first mount reads its pod with a GET: grant list and watch on pods, as upstream's ClusterRole does",
          {
            error: (err as Error).message,
          },
        );
      else if (isWorthReporting(failures))
        props.warn(
          'pod list/watch failed; retrying with backoff (first mounts read their pod with a GET meanwhile)',
          {
            error: (err as Error).message,
            failures,
          },
        );
    },
  });
}

/** What the target-path check reads of a pod: its name, UID and the CSI volumes of `driverName`. */
export function shrinkPod(pod: Pod, driverName: string): Pod {
  const { name, namespace, uid, resourceVersion } = pod.metadata;
  const volumes = (pod.spec?.volumes ?? [])
    .filter((v) => v.csi?.driver === driverName)
    .map((v) => {
      const spc = v.csi?.volumeAttributes?.secretProviderClass;
      return {
        name: v.name,
        csi: {
          driver: driverName,
          ...(spc === undefined ? {} : { volumeAttributes: { secretProviderClass: spc } }),
        },
      };
    });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, uid, resourceVersion },
    spec: { volumes },
  };
}

/** Pods by reference: the node's pod cache when it holds the pod with this UID, else a direct GET. */
export class NodePodSource implements PodSource {
  /**
   * @param cache this node's pods ({@link nodePodCache}); without one, every read is a GET
   */
  constructor(
    private readonly client: KubeClient,
    private readonly cache?: WatchCache<Pod>,
  ) {}

  getPod(pod: PodReference): Promise<Pod> {
    const cached = this.cache?.get(pod.namespace, pod.name);
    if (cached && cached.metadata.uid === pod.uid) return Promise.resolve(cached);
    return this.client.get<Pod>(PODS, pod.name, pod.namespace);
  }
}
