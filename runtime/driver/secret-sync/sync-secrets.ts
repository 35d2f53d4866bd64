// One sync pass: for each `secretObjects` entry of a SecretProviderClass, make the Kubernetes Secret
// match the content mounted for one pod (reference/upstream-driver.md §5). Called by the node server
// after every successful provider call (first mount and rotation) and by the controller to heal.
import { EventRecorder } from '../cluster/kube/event-recorder';
import { isAlreadyExists, isConflict, isForbidden, isNotFound } from '../cluster/kube/kube-api-error';
import { KubeClient } from '../cluster/kube/kube-client';
import { PODS, SECRETS, SECRET_PROVIDER_CLASS_POD_STATUSES } from '../cluster/kube/kube-resources';
import {
  OwnerReference,
  Pod,
  Secret,
  SecretObject,
  SecretProviderClass,
  SecretProviderClassPodStatus,
} from '../cluster/kube/kube-types';
import { readMountedObject } from './mounted-content';
import { mergeOwners, secretOwnersFor } from './secret-owners';
import { OS_TYPE } from '../report/driver-metrics';
import { SecretSyncMetrics } from './secret-sync-metrics';
import { TLS_CERT_KEY, TLS_PRIVATE_KEY_KEY, tlsCertificate, tlsPrivateKey } from './tls-parts';

/** The label every synced Secret carries; a Secret without it is never changed. */
export const MANAGED_LABEL = 'secrets-store.csi.k8s.io/managed';
/** Upstream's Event source component for sync events. */
export const SYNC_EVENT_COMPONENT = 'csi-secrets-store-controller';
/** Upstream's Event reason for a failed sync (Warning on the pod). */
export const FAILED_TO_CREATE_SECRET = 'FailedToCreateSecret';

/** Minimal logging surface (runtime/common Logger satisfies it). Fields carry names, never content. */
export interface SyncLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** The pod whose mounted volume is the source of the Secrets. */
export interface SyncPodReference {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

/** Inputs of {@link syncSecrets}. */
export interface SyncSecretsProps {
  /** Client for Secrets, pods and the SecretProviderClassPodStatus. */
  readonly kube: KubeClient;
  /** The SecretProviderClass whose `spec.secretObjects` describe the Secrets. */
  readonly spc: SecretProviderClass;
  /** The pod that mounted the volume. */
  readonly pod: SyncPodReference;
  /** The volume's mount directory; files are read from it by objectName (relative path). */
  readonly targetPath: string;
  /** The pod object when the caller already has it. @default fetched from the API server */
  readonly podObject?: Pod;
  /** `provider` label of the metrics. @default spc.spec.provider */
  readonly provider?: string;
  /** Warning Events on the pod for failures. @default no events */
  readonly events?: EventRecorder;
  /** Sync metrics. @default not recorded */
  readonly metrics?: SecretSyncMetrics;
  /** Logger. @default silent */
  readonly logger?: SyncLogger;
}

/** What happened to one Secret. */
export type SyncOutcome = 'created' | 'updated' | 'unchanged' | 'unmanaged' | 'failed';

/** One entry of {@link SyncSecretsResult}. */
export interface SyncedSecret {
  readonly secretName: string;
  readonly outcome: SyncOutcome;
  /** Why it failed (names only, never content). */
  readonly error?: string;
}

/** Result of {@link syncSecrets}. */
export interface SyncSecretsResult {
  /** One entry per `secretObjects` entry, in order; empty when the pod is gone or terminating. */
  readonly secrets: SyncedSecret[];
}

/** Bounded retries of an optimistic update that lost a race (another node syncing the same Secret). */
const MAX_ATTEMPTS = 5;

/**
 * Creates or updates every Secret named in `spc.spec.secretObjects` from the files mounted at
 * `targetPath`. Never throws for a single Secret: failures end in the result, an Event on the pod and
 * a log line. Throws only when the pod's own lookups fail (then nothing was written).
 */
export async function syncSecrets(props: SyncSecretsProps): Promise<SyncSecretsResult> {
  const secretObjects = props.spc.spec?.secretObjects ?? [];
  if (secretObjects.length === 0) return { secrets: [] };
  const started = process.hrtime.bigint();
  const provider = props.provider ?? props.spc.spec?.provider ?? '';
  const spcRef = `${props.spc.metadata.namespace}/${props.spc.metadata.name}`;
  const pod =
    props.podObject ??
    (await getOrUndefined<Pod>(props.kube.get<Pod>(PODS, props.pod.name, props.pod.namespace)));
  if (!pod || pod.metadata.uid !== props.pod.uid || isFinished(pod)) {
    props.logger?.info('secret sync skipped: the pod is gone, re-created or terminating', {
      pod: podRef(props.pod),
    });
    return { secrets: [] };
  }
  const owners = await ownersOf(props, pod);
  const results: SyncedSecret[] = [];
  for (const [index, secretObject] of secretObjects.entries()) {
    const secretName = secretObject.secretName ?? '';
    try {
      const desired = buildSecret(props, secretObject, index, spcRef);
      if (owners.length === 0) {
        throw new Error(
          `no owner to attach: pod ${podRef(props.pod)} has no ownerReferences and its SecretProviderClassPodStatus is missing; the Secret would never be garbage-collected`,
        );
      }
      const outcome = await upsert(props.kube, desired, owners);
      results.push({ secretName, outcome });
      if (outcome === 'unmanaged') {
        const message = `secret ${props.pod.namespace}/${secretName} exists without the label ${MANAGED_LABEL}=true, so it was not changed; delete it or add the label to let the driver manage it (spc ${spcRef})`;
        props.logger?.warn('synced secret name taken by an unmanaged secret', {
          secret: secretName,
          namespace: props.pod.namespace,
          spc: spcRef,
        });
        recordWarning(props, pod, message);
        continue;
      }
      props.metrics?.countSynced(provider);
      if (outcome !== 'unchanged') {
        props.logger?.info(`synced secret ${outcome}`, {
          secret: secretName,
          namespace: props.pod.namespace,
          spc: spcRef,
        });
      }
    } catch (err) {
      const reason = describe(err);
      results.push({ secretName, outcome: 'failed', error: reason });
      props.logger?.warn('secret sync failed', {
        secret: secretName,
        namespace: props.pod.namespace,
        spc: spcRef,
        error: reason,
      });
      recordWarning(
        props,
        pod,
        `failed to sync secret ${props.pod.namespace}/${secretName} for spc ${spcRef}: ${reason}`,
      );
    }
  }
  props.metrics?.syncDuration.observe({ os_type: OS_TYPE }, Number(process.hrtime.bigint() - started) / 1e9);
  return { secrets: results };
}

function buildSecret(
  props: SyncSecretsProps,
  secretObject: SecretObject,
  index: number,
  spcRef: string,
): Secret {
  const field = `spec.secretObjects[${index}]`;
  if (!secretObject.secretName)
    throw new Error(`${field}.secretName is empty in spc ${spcRef}; set the name of the Secret to create`);
  if (!secretObject.type)
    throw new Error(
      `${field}.type is empty in spc ${spcRef}; set a Secret type, e.g. Opaque or kubernetes.io/tls`,
    );
  if (!secretObject.data || secretObject.data.length === 0) {
    throw new Error(`${field}.data is empty in spc ${spcRef}; list the {objectName, key} pairs to copy`);
  }
  const isTls = secretObject.type === 'kubernetes.io/tls';
  const data: Record<string, string> = {};
  for (const [i, entry] of secretObject.data.entries()) {
    const key = (entry.key ?? '').trim();
    const objectName = (entry.objectName ?? '').trim();
    if (!key) throw new Error(`key in secretObjects.data is empty (${field}.data[${i}])`);
    const content = readMountedObject(props.targetPath, objectName);
    let value = content;
    if (isTls) {
      if (key === TLS_CERT_KEY) value = tlsCertificate(content, objectName);
      else if (key === TLS_PRIVATE_KEY_KEY) value = tlsPrivateKey(content, objectName);
      else throw new Error(`key '${key}' is not supported. Only 'tls.key' and 'tls.crt' are supported`);
    }
    data[key] = value.toString('base64');
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secretObject.secretName,
      namespace: props.pod.namespace,
      labels: { ...(secretObject.labels ?? {}), [MANAGED_LABEL]: 'true' },
      annotations: { ...(secretObject.annotations ?? {}) },
    },
    type: secretObject.type,
    data,
  };
}

async function upsert(kube: KubeClient, desired: Secret, owners: OwnerReference[]): Promise<SyncOutcome> {
  const name = desired.metadata.name!;
  const namespace = desired.metadata.namespace!;
  for (let attempt = 1; ; attempt++) {
    const existing = await getOrUndefined<Secret>(kube.get<Secret>(SECRETS, name, namespace));
    try {
      if (!existing) {
        await kube.create<Secret>(SECRETS, {
          ...desired,
          metadata: { ...desired.metadata, ownerReferences: owners },
        });
        return 'created';
      }
      if (existing.metadata.labels?.[MANAGED_LABEL] !== 'true') return 'unmanaged';
      if ((existing.type ?? 'Opaque') !== desired.type) {
        throw new Error(
          `secret ${namespace}/${name} has type ${existing.type ?? 'Opaque'} but secretObjects says ${desired.type}; a Secret's type cannot change: delete the Secret and it is re-created`,
        );
      }
      const next: Secret = {
        ...existing,
        metadata: {
          ...existing.metadata,
          // Labels and annotations others added are kept; ours win on conflicts.
          labels: { ...(existing.metadata.labels ?? {}), ...desired.metadata.labels },
          annotations: { ...(existing.metadata.annotations ?? {}), ...desired.metadata.annotations },
          // Kept and extended, never dropped (upstream v1.6's Update strips them until its patcher re-adds them).
          ownerReferences: mergeOwners(existing.metadata.ownerReferences ?? [], owners),
        },
        data: desired.data,
      };
      if (sameSecret(existing, next)) return 'unchanged';
      await kube.update<Secret>(SECRETS, next);
      return 'updated';
    } catch (err) {
      // Lost a race with another writer (or the Secret was deleted/created meanwhile): read again.
      if ((isConflict(err) || isAlreadyExists(err) || isNotFound(err)) && attempt < MAX_ATTEMPTS) continue;
      throw err;
    }
  }
}

function sameSecret(a: Secret, b: Secret): boolean {
  return (
    sameMap(a.data ?? {}, b.data ?? {}) &&
    sameMap(a.metadata.labels ?? {}, b.metadata.labels ?? {}) &&
    sameMap(a.metadata.annotations ?? {}, b.metadata.annotations ?? {}) &&
    (a.metadata.ownerReferences ?? []).length === (b.metadata.ownerReferences ?? []).length
  );
}

function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

async function ownersOf(props: SyncSecretsProps, pod: Pod): Promise<OwnerReference[]> {
  if ((pod.metadata.ownerReferences ?? []).length > 0) return secretOwnersFor(pod, undefined);
  const statusName = `${props.pod.name}-${props.pod.namespace}-${props.spc.metadata.name}`;
  const podStatus = await getOrUndefined<SecretProviderClassPodStatus>(
    props.kube.get<SecretProviderClassPodStatus>(
      SECRET_PROVIDER_CLASS_POD_STATUSES,
      statusName,
      props.pod.namespace,
    ),
  );
  return secretOwnersFor(pod, podStatus);
}

function isFinished(pod: Pod): boolean {
  return (
    !!pod.metadata.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed'
  );
}

async function getOrUndefined<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function recordWarning(props: SyncSecretsProps, pod: Pod, message: string): void {
  props.events?.record(
    { apiVersion: 'v1', kind: 'Pod', ...pod },
    'Warning',
    FAILED_TO_CREATE_SECRET,
    message,
  );
}

function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (isForbidden(err)) {
    return `${message} (the driver's service account needs get/create/update on secrets: enable secret sync in the install)`;
  }
  return message;
}

function podRef(pod: SyncPodReference): string {
  return `${pod.namespace}/${pod.name}`;
}
