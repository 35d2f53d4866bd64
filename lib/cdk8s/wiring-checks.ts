import { Chart } from 'cdk8s';
import { AbstractPod, Container } from './plus';
import type { ISecretProviderClass } from './construct-contracts';
import { syncedSecretSource } from './synced-secret-env';

// A pod can mount only a SecretProviderClass of its own namespace, and read only Secrets synced
// there. The standalone helpers (mountSecretsStore, envFromSyncedSecret) are handed a container, not
// its pod, so this runs at synth, over the pods of the app, for one SPC.

function podNamespace(pod: AbstractPod): string | undefined {
  return pod.metadata.namespace ?? Chart.of(pod).namespace;
}

function containersOf(pod: AbstractPod): Container[] {
  return [...pod.initContainers, ...pod.containers];
}

/** Problems (as `field: detail`) of pods that mount `spc`, or read its synced Secrets, from another namespace. */
export function wiringProblems(spc: ISecretProviderClass): string[] {
  const problems: string[] = [];
  const spcNamespace = spc.namespace ?? '(none)';
  const pods = spc.node.root.node.findAll().filter((c): c is AbstractPod => c instanceof AbstractPod);
  for (const pod of pods) {
    const namespace = podNamespace(pod);
    if (namespace === spc.namespace) continue;
    const where = `${pod.node.path} (namespace "${namespace ?? '(none)'}")`;
    for (const container of containersOf(pod)) {
      for (const mount of container.mounts) {
        if (mount.volume.node.scope !== spc) continue;
        problems.push(
          `namespace: SecretProviderClass "${spc.name}" is in "${spcNamespace}", but ${where} mounts it as volume "${mount.volume.name}" in container "${container.name}"; a pod can only mount an SPC of its own namespace, so put both in one namespace`,
        );
      }
      for (const [variable, value] of Object.entries(container.env.variables)) {
        if (syncedSecretSource(value) !== spc) continue;
        problems.push(
          `secretObjects: ${where} reads env ${variable} of container "${container.name}" from a Secret this SecretProviderClass syncs into "${spcNamespace}"; a pod can only read Secrets of its own namespace, so put both in one namespace`,
        );
      }
    }
  }
  return problems;
}
