// A Kubernetes object as plain data: what lib/core renders and both front ends (cdk8s, Pulumi) emit.
export interface ObjectMeta {
  readonly name: string;
  /** Omitted for cluster-scoped kinds (CSIDriver, ClusterRole, CRDs, admission policies). */
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly [field: string]: unknown;
}
