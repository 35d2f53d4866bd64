// The node server's cluster ports kept in memory, for the gRPC-level tests of the publish algorithm.
// The same behaviour against the real kube-apiserver is covered by node-publish.rig.test.ts.
import type {
  PodEventRecorder,
  PodReference,
  PodStatusStore,
  SecretProviderClassSource,
} from '../../../runtime/driver/cluster-ports';
import type {
  SecretProviderClass,
  SecretProviderClassPodStatus,
} from '../../../runtime/driver/kube/kube-types';

export class InMemoryCluster implements SecretProviderClassSource, PodStatusStore, PodEventRecorder {
  readonly spcs = new Map<string, SecretProviderClass>();
  readonly podStatuses = new Map<string, SecretProviderClassPodStatus>();
  readonly events: { pod: PodReference; type: string; reason: string; message: string }[] = [];
  podStatusWrites = 0;

  addSpc(namespace: string, name: string, provider: string, parameters: Record<string, string>): void {
    this.spcs.set(`${namespace}/${name}`, { metadata: { namespace, name }, spec: { provider, parameters } });
  }

  async get(namespace: string, name: string): Promise<SecretProviderClass> {
    const spc = this.spcs.get(`${namespace}/${name}`);
    if (!spc)
      throw new Error(`secretproviderclasses.secrets-store.csi.x-k8s.io ${JSON.stringify(name)} not found`);
    return spc;
  }

  async createOrUpdate(podStatus: SecretProviderClassPodStatus): Promise<void> {
    this.podStatusWrites++;
    this.podStatuses.set(`${podStatus.metadata.namespace}/${podStatus.metadata.name}`, podStatus);
  }

  async deleteForTargetPath(targetPath: string): Promise<void> {
    for (const [key, podStatus] of this.podStatuses) {
      if (podStatus.status?.targetPath === targetPath) this.podStatuses.delete(key);
    }
  }

  record(pod: PodReference, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ pod, type, reason, message });
  }
}
