import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { isClusterScopedKind, KubeObject } from '../core';

/**
 * An ApiObject that never takes the chart's namespace when its kind is cluster-scoped: cdk8s gives
 * every ApiObject without a namespace the chart's, which the apiserver rejects (or ignores) on
 * CRDs, CSIDriver, ClusterRoles and admission policies.
 */
class KubeApiObject extends ApiObject {
  public override toJson(): unknown {
    const json = super.toJson() as { metadata?: Record<string, unknown> };
    if (isClusterScopedKind(this.kind) && json.metadata) delete json.metadata.namespace;
    return json;
  }
}

/** A lib/core object as an ApiObject with the id `<kind>-<name>` (construct ids are API, DESIGN §7). */
export function kubeApiObject(scope: Construct, object: KubeObject): ApiObject {
  return new KubeApiObject(scope, `${object.kind}-${object.metadata.name}`, {
    ...object,
    metadata: { ...object.metadata },
  });
}
