// Owners of a synced Secret, as upstream (reference/upstream-driver.md §3.3): the consuming pod's own
// owners (ReplicaSet, StatefulSet, Job, ...), or the pod's SecretProviderClassPodStatus for a bare pod,
// so the garbage collector removes the Secret when the workload (or the last bare pod) goes.
import { OwnerReference, Pod, SecretProviderClassPodStatus } from '../cluster/kube/kube-types';

/** The owner references to put on a Secret consumed by `pod` (copied as apiVersion, kind, name, uid). */
export function secretOwnersFor(
  pod: Pod,
  podStatus: SecretProviderClassPodStatus | undefined,
): OwnerReference[] {
  const podOwners = pod.metadata.ownerReferences ?? [];
  if (podOwners.length > 0) {
    return podOwners.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.name, uid: o.uid }));
  }
  if (!podStatus?.metadata.uid || !podStatus.metadata.name) return [];
  return [
    {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClassPodStatus',
      name: podStatus.metadata.name,
      uid: podStatus.metadata.uid,
    },
  ];
}

/**
 * `existing` plus the `wanted` owners it lacks. Deduplicated by uid (upstream dedupes by name, which keeps
 * a stale reference when an owner is re-created under the same name and lets GC delete a live Secret).
 */
export function mergeOwners(
  existing: readonly OwnerReference[],
  wanted: readonly OwnerReference[],
): OwnerReference[] {
  const merged = [...existing];
  for (const owner of wanted) {
    if (!merged.some((o) => o.uid === owner.uid)) merged.push(owner);
  }
  return merged;
}
