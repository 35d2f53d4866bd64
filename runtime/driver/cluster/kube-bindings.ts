// Binds the node server's cluster ports (ports.ts) to the Kubernetes client: SPCs from a
// cluster-wide watch cache (as upstream's informer) with a direct GET on a miss, SPCPS create-or-update
// with upstream's AlreadyExists handling, best-effort Events on the pod, and the token policy from a
// watch of the driver's own CSIDriver object.
import type {
  PodEventRecorder,
  PodReference,
  PodStatusStore,
  SecretProviderClassSource,
  ServiceAccountTokenPolicy,
  TokenPolicySource,
} from './ports';
import { EventRecorder } from './kube/event-recorder';
import { isAlreadyExists, isConflict, isNotFound } from './kube/kube-api-error';
import type { KubeClient } from './kube/kube-client';
import {
  CSI_DRIVERS,
  SECRET_PROVIDER_CLASS_POD_STATUSES,
  SECRET_PROVIDER_CLASSES,
} from './kube/kube-resources';
import type { CsiDriver, SecretProviderClass, SecretProviderClassPodStatus } from './kube/kube-types';
import { WatchCache } from './kube/watch-cache';
import { NODE_NAME_LABEL } from './pod-status';

/** SPC lookups: the watch cache first; a miss (an SPC created a moment ago) asks the API server. */
export class CachedSecretProviderClassSource implements SecretProviderClassSource {
  constructor(
    private readonly client: KubeClient,
    private readonly cache?: WatchCache<SecretProviderClass>,
  ) {}

  async get(namespace: string, name: string): Promise<SecretProviderClass> {
    const cached = this.cache?.get(namespace, name);
    if (cached) return cached;
    try {
      return await this.client.get<SecretProviderClass>(SECRET_PROVIDER_CLASSES, name, namespace);
    } catch (err) {
      // The API server's own wording, which users and upstream's e2e match on.
      if (isNotFound(err))
        throw new Error(`secretproviderclasses.secrets-store.csi.x-k8s.io ${JSON.stringify(name)} not found`);
      throw err;
    }
  }
}

/**
 * SPCPS writes: create; on AlreadyExists (a StatefulSet pod re-created) overwrite label, status, owners.
 * A rewrite of an object this process wrote (a rotation) is one PUT on the object as the API server last
 * answered it: its resourceVersion makes the write fail with 409 Conflict if anyone changed the object
 * since (then GET and update, as after AlreadyExists), or 404 if it was deleted (then create).
 */
export class KubePodStatusStore implements PodStatusStore {
  /** Per `namespace/name`: the object as the API server answered this process's last write of it. */
  private readonly lastWritten = new Map<string, SecretProviderClassPodStatus>();

  constructor(private readonly client: KubeClient) {}

  async createOrUpdate(podStatus: SecretProviderClassPodStatus): Promise<void> {
    const namespace = podStatus.metadata.namespace!;
    const key = `${namespace}/${podStatus.metadata.name!}`;
    const last = this.lastWritten.get(key);
    let exists = false;
    if (last) {
      this.lastWritten.delete(key);
      try {
        this.remember(key, await this.overwrite(last, podStatus));
        return;
      } catch (err) {
        if (isConflict(err)) exists = true;
        else if (!isNotFound(err)) throw err;
      }
    }
    if (!exists) {
      try {
        this.remember(
          key,
          await this.client.create(SECRET_PROVIDER_CLASS_POD_STATUSES, podStatus, namespace),
        );
        return;
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    }
    for (let attempt = 1; ; attempt++) {
      const existing = await this.client.get<SecretProviderClassPodStatus>(
        SECRET_PROVIDER_CLASS_POD_STATUSES,
        podStatus.metadata.name!,
        namespace,
      );
      try {
        this.remember(key, await this.overwrite(existing, podStatus));
        return;
      } catch (err) {
        if (attempt >= 5 || !isConflict(err)) throw err;
      }
    }
  }

  async deleteForTargetPath(
    targetPath: string,
    nodeId: string,
    known?: { namespace: string; name: string },
  ): Promise<void> {
    let candidates: SecretProviderClassPodStatus[];
    if (known) {
      this.forget(`${known.namespace}/${known.name}`, targetPath);
      try {
        candidates = [
          await this.client.get<SecretProviderClassPodStatus>(
            SECRET_PROVIDER_CLASS_POD_STATUSES,
            known.name,
            known.namespace,
          ),
        ];
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
    } else {
      const list = await this.client.list<SecretProviderClassPodStatus>(SECRET_PROVIDER_CLASS_POD_STATUSES, {
        labelSelector: `${NODE_NAME_LABEL}=${nodeId}`,
      });
      candidates = list.items;
    }
    for (const podStatus of candidates) {
      if (podStatus.status?.targetPath !== targetPath) continue;
      this.forget(`${podStatus.metadata.namespace}/${podStatus.metadata.name}`, targetPath);
      try {
        await this.client.delete(SECRET_PROVIDER_CLASS_POD_STATUSES, podStatus.metadata.name!, {
          namespace: podStatus.metadata.namespace,
          preconditions: { uid: podStatus.metadata.uid },
        });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
  }

  /** PUTs `existing` with this driver's node label, owners and status: 409 Conflict if it is stale. */
  private overwrite(
    existing: SecretProviderClassPodStatus,
    podStatus: SecretProviderClassPodStatus,
  ): Promise<SecretProviderClassPodStatus> {
    return this.client.update(SECRET_PROVIDER_CLASS_POD_STATUSES, {
      ...existing,
      metadata: {
        ...existing.metadata,
        labels: {
          ...existing.metadata.labels,
          [NODE_NAME_LABEL]: podStatus.metadata.labels![NODE_NAME_LABEL],
        },
        ownerReferences: podStatus.metadata.ownerReferences,
      },
      status: podStatus.status,
    });
  }

  private remember(key: string, written: SecretProviderClassPodStatus): void {
    this.lastWritten.set(key, written);
  }

  /** Drops the object kept for `key` if it is this target path's (a re-created pod may own it now). */
  private forget(key: string, targetPath: string): void {
    if (this.lastWritten.get(key)?.status?.targetPath === targetPath) this.lastWritten.delete(key);
  }
}

/** Events on the pod, never awaited by the mount path. */
export class KubePodEventRecorder implements PodEventRecorder {
  constructor(private readonly recorder: EventRecorder) {}

  record(pod: PodReference, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.recorder.record(
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid } },
      type,
      reason,
      message,
    );
  }
}

/**
 * The token policy from a watch of the driver's CSIDriver object. No object (none installed under the
 * driver's name) means kubelet requests no tokens for it.
 */
export class KubeTokenPolicySource implements TokenPolicySource {
  constructor(
    private readonly cache: WatchCache<CsiDriver>,
    private readonly driverName: string,
  ) {}

  tokenPolicy(): ServiceAccountTokenPolicy | undefined {
    if (!this.cache.hasSynced) return undefined;
    const spec = this.cache.get(undefined, this.driverName)?.spec;
    return {
      requested: (spec?.tokenRequests ?? []).length > 0,
      inSecrets: spec?.serviceAccountTokenInSecrets === true,
    };
  }
}

/** The watch cache behind {@link KubeTokenPolicySource}: one cluster-scoped object, by name. */
export function csiDriverCache(client: KubeClient, driverName: string): WatchCache<CsiDriver> {
  return new WatchCache<CsiDriver>({
    client,
    resource: CSI_DRIVERS,
    fieldSelector: `metadata.name=${driverName}`,
  });
}
