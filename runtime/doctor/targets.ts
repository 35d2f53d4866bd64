// What to examine: the pod named, the pods of a workload (or its pod template when it has none yet), the
// pods mounting a SecretProviderClass (or the class alone), or every such pod of the namespace.
import { nearestName } from '../../lib/core/validation/nearest-name';
import { PODS, SECRET_PROVIDER_CLASSES } from '../driver/cluster/kube/kube-resources';
import type { KubeResourceObject, Pod, SecretProviderClass } from '../driver/cluster/kube/kube-types';
import { ClusterReader, CouldNotCheck, DAEMON_SETS, DEPLOYMENTS, STATEFUL_SETS } from './cluster-reader';
import { DaemonSet, PodSpec, selectorText } from './daemonsets';

/** Workload kinds whose pods the doctor follows. */
export const WORKLOAD_KINDS = {
  deployment: DEPLOYMENTS,
  statefulset: STATEFUL_SETS,
  daemonset: DAEMON_SETS,
} as const;
export type WorkloadKind = keyof typeof WORKLOAD_KINDS;

/** The command line's choice of target. */
export interface TargetRequest {
  readonly namespace: string;
  readonly pod?: string;
  readonly secretProviderClass?: string;
  readonly workload?: { readonly kind: WorkloadKind; readonly name: string };
}

/** A Secrets Store CSI volume of a pod (or pod template). */
export interface SecretsStoreVolume {
  readonly name: string;
  readonly driver: string;
  readonly secretProviderClass: string;
  readonly readOnly: boolean;
  readonly nodePublishSecretName?: string;
}

/** One pod to examine, or a pod template when its workload has no pods yet. */
export interface Subject {
  /** `pod/<name>` or `deployment/<name> (template)`. */
  readonly label: string;
  readonly namespace: string;
  readonly pod?: Pod;
  readonly spec: PodSpec;
  readonly labels: Readonly<Record<string, string>>;
  readonly volumes: readonly SecretsStoreVolume[];
}

/** What was asked for and what it resolved to. */
export interface ResolvedTargets {
  readonly requested: string;
  readonly subjects: readonly Subject[];
  /** SPC names to check even when no subject mounts them (`--secret-provider-class` alone). */
  readonly secretProviderClasses: readonly string[];
  /** Pods left out because of the bound. */
  readonly omittedPods: number;
}

/** The most pods one run examines (a large Deployment's pods are alike). */
export const MAX_PODS = 10;

/** The CSI volumes of a pod spec that name a driver of this kind (any driver name: custom names too). */
export function secretsStoreVolumes(spec: PodSpec, spcFilter?: string): SecretsStoreVolume[] {
  return (spec.volumes ?? []).flatMap((volume) => {
    const csi = volume.csi;
    if (!csi) return [];
    const spc = csi.volumeAttributes?.secretProviderClass;
    const isSecretsStore = spc !== undefined || /secrets-store/.test(csi.driver);
    if (!isSecretsStore) return [];
    if (spcFilter !== undefined && spc !== spcFilter) return [];
    return [
      {
        name: volume.name,
        driver: csi.driver,
        secretProviderClass: spc ?? '',
        readOnly: csi.readOnly === true,
        nodePublishSecretName: csi.nodePublishSecretRef?.name || undefined,
      },
    ];
  });
}

function podSubject(pod: Pod, spcFilter?: string): Subject {
  const spec = (pod.spec ?? {}) as PodSpec;
  return {
    label: `pod/${pod.metadata.name}`,
    namespace: pod.metadata.namespace ?? '',
    pod,
    spec,
    labels: pod.metadata.labels ?? {},
    volumes: secretsStoreVolumes(spec, spcFilter),
  };
}

function notFound(what: string, name: string, namespace: string, known: readonly string[]): CouldNotCheck {
  const near = nearestName(name, known);
  return new CouldNotCheck(
    `${what} ${name} not found in namespace ${namespace}`,
    near
      ? `did you mean ${near}? (-n/--namespace names the namespace)`
      : `check the name and the namespace (-n/--namespace); \`kubectl get ${what.toLowerCase()}s -n ${namespace}\` lists them`,
  );
}

function bounded(pods: Pod[], spcFilter?: string): { subjects: Subject[]; omitted: number } {
  const sorted = [...pods].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  return {
    subjects: sorted.slice(0, MAX_PODS).map((pod) => podSubject(pod, spcFilter)),
    omitted: Math.max(0, sorted.length - MAX_PODS),
  };
}

export async function resolveTargets(
  reader: ClusterReader,
  request: TargetRequest,
): Promise<ResolvedTargets> {
  const { namespace } = request;
  const spc = request.secretProviderClass;

  if (request.pod) {
    const pod = await reader.find<Pod>(PODS, request.pod, namespace);
    if (!pod) {
      const all = await reader.readList<Pod>(PODS, { namespace });
      throw notFound(
        'Pod',
        request.pod,
        namespace,
        all.ok ? all.value.map((p) => p.metadata.name ?? '') : [],
      );
    }
    return {
      requested: `pod/${request.pod}${spc ? ` (secretproviderclass/${spc})` : ''}`,
      subjects: [podSubject(pod, spc)],
      secretProviderClasses: spc ? [spc] : [],
      omittedPods: 0,
    };
  }

  if (request.workload) {
    const { kind, name } = request.workload;
    const workload = await reader.find<KubeResourceObject>(WORKLOAD_KINDS[kind], name, namespace);
    if (!workload) {
      const all = await reader.readList(WORKLOAD_KINDS[kind], { namespace });
      throw notFound(
        WORKLOAD_KINDS[kind].kind,
        name,
        namespace,
        all.ok ? all.value.map((o) => o.metadata.name ?? '') : [],
      );
    }
    const pods = await reader.list<Pod>(PODS, {
      namespace,
      labelSelector: selectorText(workload as DaemonSet),
    });
    const { subjects, omitted } = bounded(pods, spc);
    if (subjects.length > 0)
      return {
        requested: `${kind}/${name}`,
        subjects,
        secretProviderClasses: spc ? [spc] : [],
        omittedPods: omitted,
      };
    const template = ((workload as DaemonSet).spec?.template ?? {}) as {
      metadata?: { labels?: Record<string, string> };
      spec?: PodSpec;
    };
    const spec = template.spec ?? {};
    return {
      requested: `${kind}/${name}`,
      subjects: [
        {
          label: `${kind}/${name} (pod template: no pods yet)`,
          namespace,
          spec,
          labels: template.metadata?.labels ?? {},
          volumes: secretsStoreVolumes(spec, spc),
        },
      ],
      secretProviderClasses: spc ? [spc] : [],
      omittedPods: 0,
    };
  }

  const pods = await reader.list<Pod>(PODS, { namespace });
  const mounting = pods.filter((pod) => secretsStoreVolumes((pod.spec ?? {}) as PodSpec, spc).length > 0);
  if (spc) {
    const { subjects, omitted } = bounded(mounting, spc);
    return {
      requested: `secretproviderclass/${spc}`,
      subjects,
      secretProviderClasses: [spc],
      omittedPods: omitted,
    };
  }
  if (mounting.length > 0) {
    const { subjects, omitted } = bounded(mounting);
    return {
      requested: 'every pod with a Secrets Store volume',
      subjects,
      secretProviderClasses: [],
      omittedPods: omitted,
    };
  }
  const classes = await reader.list<SecretProviderClass>(SECRET_PROVIDER_CLASSES, { namespace });
  if (classes.length === 0) {
    throw new CouldNotCheck(
      `nothing to check in namespace ${namespace}: no pod mounts a Secrets Store volume and there is no SecretProviderClass`,
      'name the pod, workload or SecretProviderClass (--pod, deployment/<name>, --secret-provider-class) and its namespace (-n)',
    );
  }
  return {
    requested: 'every SecretProviderClass',
    subjects: [],
    secretProviderClasses: classes.map((c) => c.metadata.name ?? ''),
    omittedPods: 0,
  };
}
