// Applies a list of rendered objects the way `kubectl apply --server-side` would, in dependency order:
// namespaces and CRDs first (the rest needs them), custom resources last.
import type { KubeObject } from '../../lib/core/kube-object';
import { ApplyOptions, KubeApi } from './kube-api';

const FIRST_KINDS = ['Namespace', 'CustomResourceDefinition'];
/** Our custom resources (SecretProviderClass) go last, after their CRDs are Established. */
const CUSTOM_RESOURCE_GROUP = 'secrets-store.csi.x-k8s.io/';

function rank(object: KubeObject): number {
  const first = FIRST_KINDS.indexOf(object.kind);
  if (first >= 0) return first;
  return object.apiVersion.startsWith(CUSTOM_RESOURCE_GROUP) ? 20 : 10;
}

export function inApplyOrder(objects: readonly KubeObject[]): KubeObject[] {
  return [...objects].sort((a, b) => rank(a) - rank(b));
}

export function describeObject(object: KubeObject): string {
  const ns = object.metadata.namespace ? `${object.metadata.namespace}/` : '';
  return `${object.kind} ${ns}${object.metadata.name}`;
}

/**
 * Applies every object (server-side apply), waiting for CRDs to be Established before later objects.
 * Errors name the object.
 */
export async function applyAll(
  api: KubeApi,
  objects: readonly KubeObject[],
  options: ApplyOptions = {},
): Promise<void> {
  for (const object of inApplyOrder(objects)) {
    try {
      await api.apply(object, options);
    } catch (error) {
      throw new Error(
        `${describeObject(object)}${options.dryRun ? ' (dry-run)' : ''}: ${(error as Error).message}`,
      );
    }
    if (object.kind === 'CustomResourceDefinition' && !options.dryRun) {
      await api.waitForCrdEstablished(object.metadata.name);
    }
  }
}
