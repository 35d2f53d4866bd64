import { RELOADER_SECRET_ANNOTATION, ValidationError } from '../core';
import { AbstractPod, Pod, Workload } from './plus';

// Restart on rotation: env vars from a synced Secret never change in a running pod, so Reloader
// rolls the workload when one of those Secrets changes.

const reloadedSecrets = new WeakMap<Workload, Set<string>>();

/**
 * Annotates `workload` for Reloader so it rolls when one of `secretNames` changes (env vars from a
 * synced Secret do not change in a running pod). Bare Pods cannot be restarted by Reloader.
 */
export function restartOnRotation(workload: AbstractPod, secretNames: readonly string[]): void {
  if (workload instanceof Pod || !(workload instanceof Workload)) {
    throw new ValidationError(
      'restartOnRotation',
      `Reloader restarts Deployments, StatefulSets and DaemonSets, not a bare Pod ("${workload.name}"); run it as a Deployment or drop restartOnRotation`,
      { constructPath: workload.node.path },
    );
  }
  if (secretNames.length === 0) {
    throw new ValidationError(
      'restartOnRotation',
      'no Secret names given; pass the synced Secrets whose changes should restart the workload',
      { constructPath: workload.node.path },
    );
  }
  const names = reloadedSecrets.get(workload) ?? new Set<string>();
  secretNames.forEach((name) => names.add(name));
  reloadedSecrets.set(workload, names);
  workload.metadata.addAnnotation(RELOADER_SECRET_ANNOTATION, [...names].join(','));
}
