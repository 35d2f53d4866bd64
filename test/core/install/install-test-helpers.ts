// Small typed accessors over rendered install objects, so assertions read like the facts they check.
import { KubeObject } from '../../../lib/core/kube-object';

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name: string; containerPort: number }[];
  securityContext?: Record<string, unknown>;
  livenessProbe?: { httpGet: { path: string; port: string | number } };
  volumeMounts: { name: string; mountPath: string; mountPropagation?: string }[];
  resources?: unknown;
}

export interface PodSpec {
  serviceAccountName: string;
  priorityClassName?: string;
  hostNetwork?: boolean;
  automountServiceAccountToken?: boolean;
  nodeSelector: Record<string, string>;
  tolerations: unknown[];
  containers: Container[];
  volumes: { name: string; hostPath: { path: string; type: string } }[];
}

export function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(`no ${kind} ${name} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

export function podSpec(daemonSet: KubeObject): PodSpec {
  return (daemonSet.spec as { template: { spec: PodSpec } }).template.spec;
}

export function container(daemonSet: KubeObject, name: string): Container {
  const found = podSpec(daemonSet).containers.find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name} in ${daemonSet.metadata.name}`);
  return found;
}
