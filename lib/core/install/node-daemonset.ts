import { KubeObject } from '../kube-object';
import { INSTALL_COMMON_LABELS } from './names';
import { ResolvedInstallImages } from './images';
import { Toleration } from './scheduling';

// The frame both node DaemonSets (driver and Azure provider) share: labels, selector, rolling update,
// scheduling on every Linux (or Windows) node but virtual-kubelet ones. Each DaemonSet file adds its own containers.

/** Upstream keeps both DaemonSets off virtual-kubelet nodes (ACI), where hostPath and CSI do not exist. */
export const VIRTUAL_KUBELET_ANTI_AFFINITY = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [
        { matchExpressions: [{ key: 'type', operator: 'NotIn', values: ['virtual-kubelet'] }] },
      ],
    },
  },
};

export function hostPathVolume(name: string, path: string, type: string): Record<string, unknown> {
  return { name, hostPath: { path, type } };
}

/** What both node DaemonSets take from the install options, already defaulted and validated. */
export interface InstallDaemonSetProps {
  readonly namespace: string;
  readonly images: ResolvedInstallImages;
  readonly tolerations: readonly Toleration[];
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly priorityClassName: string;
  /** `-v` for the driver or provider; undefined leaves the binary's default (0) and passes no flag. */
  readonly logVerbosity?: number;
}

/** One node DaemonSet of the install, already defaulted. */
export interface NodeDaemonSetProps {
  readonly name: string;
  readonly namespace: string;
  /** Pod label `app`; also the selector. */
  readonly appLabel: string;
  readonly serviceAccountName: string;
  /** Pod template annotations; none when undefined. */
  readonly podAnnotations?: Record<string, string>;
  /** Pod spec fields that only this DaemonSet sets (e.g. hostNetwork), placed after serviceAccountName. */
  readonly hostSpec?: Record<string, unknown>;
  readonly priorityClassName: string;
  /** Extra node selector; `kubernetes.io/os` is added from `operatingSystem`. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** Which nodes it runs on. @default 'linux' */
  readonly operatingSystem?: 'linux' | 'windows';
  readonly tolerations: readonly Toleration[];
  readonly containers: readonly Record<string, unknown>[];
  readonly volumes: readonly Record<string, unknown>[];
}

export function nodeDaemonSet(props: NodeDaemonSetProps): KubeObject {
  const selector = { app: props.appLabel };
  const labels = { ...INSTALL_COMMON_LABELS, ...selector };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: props.name, namespace: props.namespace, labels },
    spec: {
      selector: { matchLabels: selector },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: {
          labels: { ...labels },
          ...(props.podAnnotations !== undefined ? { annotations: props.podAnnotations } : {}),
        },
        spec: {
          serviceAccountName: props.serviceAccountName,
          ...props.hostSpec,
          priorityClassName: props.priorityClassName,
          nodeSelector: { ...props.nodeSelector, 'kubernetes.io/os': props.operatingSystem ?? 'linux' },
          tolerations: props.tolerations.map((t) => ({ ...t })),
          affinity: VIRTUAL_KUBELET_ANTI_AFFINITY,
          containers: [...props.containers],
          volumes: [...props.volumes],
        },
      },
    },
  };
}
