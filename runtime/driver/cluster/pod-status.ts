// The SecretProviderClassPodStatus the driver writes after every successful provider call: upstream's
// name, label and owner reference, so the secret-sync controller, `kubectl get secretproviderclasspodstatus`
// and garbage collection (pod deleted → status deleted) all work as with the upstream driver.
import * as path from 'node:path';
import type { PodReference } from './ports';
import type { ObjectVersion } from '../../wire/provider-v1alpha1';
import type { Pod, SecretProviderClassPodStatus } from './kube/kube-types';
import { ErrorReason } from '../error-reasons';

export const NODE_NAME_LABEL = 'internal.secrets-store.csi.k8s.io/node-name';
const SPCPS_API_VERSION = 'secrets-store.csi.x-k8s.io/v1';

/** Upstream's name: `<pod>-<namespace>-<spc>`. */
export function podStatusName(podName: string, podNamespace: string, spcName: string): string {
  return `${podName}-${podNamespace}-${spcName}`;
}

/** Inputs of one SecretProviderClassPodStatus. */
export interface PodStatusProps {
  readonly pod: PodReference;
  readonly spcName: string;
  readonly nodeId: string;
  readonly targetPath: string;
  readonly objectVersions: readonly ObjectVersion[];
}

export function buildPodStatus(props: PodStatusProps): SecretProviderClassPodStatus {
  const objects = [...props.objectVersions]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((o) => ({ id: o.id, version: o.version }));
  return {
    apiVersion: SPCPS_API_VERSION,
    kind: 'SecretProviderClassPodStatus',
    metadata: {
      name: podStatusName(props.pod.name, props.pod.namespace, props.spcName),
      namespace: props.pod.namespace,
      labels: { [NODE_NAME_LABEL]: props.nodeId },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: props.pod.name, uid: props.pod.uid }],
    },
    status: {
      podName: props.pod.name,
      secretProviderClassName: props.spcName,
      mounted: true,
      targetPath: props.targetPath,
      objects,
    },
  };
}

const TARGET_PATH =
  /[\\/]+pods[\\/]+([^\\/]+)[\\/]+volumes[\\/]+kubernetes\.io~csi[\\/]+([^\\/]+)[\\/]+mount$/;

/** The pod UID and volume name in a kubelet target path, or undefined when it is not one. */
export function parseTargetPath(targetPath: string): { podUid: string; volumeName: string } | undefined {
  const m = TARGET_PATH.exec(targetPath);
  return m ? { podUid: m[1], volumeName: m[2] } : undefined;
}

/**
 * Upstream's CVE-2020-8568 guard: the target path must be kubelet's path for this pod's UID (and, when
 * known, this volume). Returns the reason it is not, or undefined when it is.
 */
export function targetPathMismatch(
  targetPath: string,
  podUid: string,
  volumeName?: string,
): string | undefined {
  // Normalized and absolute, so the path names the directory the pattern says (no `..` climbing out).
  if (!path.posix.isAbsolute(targetPath) || path.posix.normalize(targetPath) !== targetPath)
    return `target path ${JSON.stringify(targetPath)} is not an absolute path without ".", ".." or empty segments`;
  const parsed = parseTargetPath(targetPath);
  if (!parsed)
    return `target path ${targetPath} is not of the form <kubelet>/pods/<pod uid>/volumes/kubernetes.io~csi/<volume>/mount`;
  if (parsed.podUid !== podUid)
    return `target path ${targetPath} belongs to pod uid ${parsed.podUid}, not ${podUid}`;
  if (volumeName !== undefined && parsed.volumeName !== volumeName) {
    return `target path ${targetPath} belongs to volume ${parsed.volumeName}, not ${volumeName}`;
  }
  return undefined;
}

/** Why a target path does not belong to the pod read from the API server, in upstream's words. */
export interface PodVolumeMismatch {
  readonly reason: string;
  readonly message: string;
}

/**
 * Upstream's SPCPS target-path check against the pod itself (CVE-2020-8568): the pod must have a CSI
 * volume of this driver on this SPC (`PodVolumeNotFound`), and the path must name the pod's UID and one of
 * those volumes (`UnexpectedTargetPath`). Upstream compares with the first such volume only; any of them
 * is accepted here, so a pod that mounts one SPC twice is not refused.
 */
export function podVolumeMismatch(
  pod: Pod,
  targetPath: string,
  spcName: string,
  driverName: string,
): PodVolumeMismatch | undefined {
  const podName = `${pod.metadata.namespace}/${pod.metadata.name}`;
  const volumes = (pod.spec?.volumes ?? []).filter(
    (v) => v.csi?.driver === driverName && v.csi.volumeAttributes?.secretProviderClass === spcName,
  );
  if (volumes.length === 0)
    return {
      reason: ErrorReason.PodVolumeNotFound,
      message: `could not find secret provider class pod status volume for pod ${podName}`,
    };
  const parsed = parseTargetPath(targetPath);
  if (!parsed || parsed.podUid !== pod.metadata.uid)
    return {
      reason: ErrorReason.UnexpectedTargetPath,
      message: `secret provider class pod status(spcps) targetPath did not match pod UID for pod ${podName}`,
    };
  if (!volumes.some((v) => v.name === parsed.volumeName))
    return {
      reason: ErrorReason.UnexpectedTargetPath,
      message: `secret provider class pod status(spcps) volume name does not match the volume name in the pod ${podName}`,
    };
  return undefined;
}
