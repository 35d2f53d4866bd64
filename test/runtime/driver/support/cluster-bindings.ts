// The driver's production cluster bindings (kube-bindings.ts on H's client and watch cache) against the
// rig's real kube-apiserver, for the rig tests; the client counts its requests.
import { EventRecorder } from '../../../../runtime/driver/cluster/kube/event-recorder';
import { loadKubeConfigFile } from '../../../../runtime/driver/cluster/kube/kube-config';
import { SECRET_PROVIDER_CLASSES } from '../../../../runtime/driver/cluster/kube/kube-resources';
import type { SecretProviderClass } from '../../../../runtime/driver/cluster/kube/kube-types';
import { WatchCache } from '../../../../runtime/driver/cluster/kube/watch-cache';
import {
  CachedSecretProviderClassSource,
  csiDriverCache,
  KubePodEventRecorder,
  KubePodStatusStore,
  KubeTokenPolicySource,
} from '../../../../runtime/driver/cluster/kube-bindings';
import { nodePodCache, NodePodSource } from '../../../../runtime/driver/cluster/node-pod-source';
import type { Pod } from '../../../../runtime/driver/cluster/kube/kube-types';
import { CSI_DRIVERS } from '../../../../runtime/driver/cluster/kube/kube-resources';
import { rig } from '../../../../harness/rig/rig-env';
import { CountingKubeClient } from './counting-kube-client';
import { createTestCsiDriver } from './kube-test-support';

let instances = 0;

/** The node the bindings' pod cache watches: DriverHarness's default node id. */
export const CLUSTER_NODE_NAME = 'node-under-test';

export class ClusterBindings {
  /**
   * @param kubeconfigFile where the client goes: the rig's kube-apiserver, or a fault proxy in front of
   *   it (harness/rig/apiserver-fault-proxy.ts)
   */
  constructor(kubeconfigFile: string = rig().kubeconfig) {
    this.kube = new CountingKubeClient(loadKubeConfigFile(kubeconfigFile));
    this.spcCache = new WatchCache<SecretProviderClass>({
      client: this.kube,
      resource: SECRET_PROVIDER_CLASSES,
    });
    this.secretProviderClasses = new CachedSecretProviderClassSource(this.kube, this.spcCache);
    this.podStatuses = new KubePodStatusStore(this.kube);
    // The pods tests create with spec.nodeName = the harness's node id come from the watch; others by GET.
    this.nodePods = nodePodCache({
      client: this.kube,
      nodeName: CLUSTER_NODE_NAME,
      driverName: 'secrets-store.csi.k8s.io',
    });
    this.pods = new NodePodSource(this.kube, this.nodePods);
    this.recorder = new EventRecorder({
      client: this.kube,
      component: 'csi-secrets-store-rotation',
      host: 'node-under-test',
    });
    this.events = new KubePodEventRecorder(this.recorder);
    this.csiDriver = csiDriverCache(this.kube, this.csiDriverName);
    this.tokenPolicy = new KubeTokenPolicySource(this.csiDriver, this.csiDriverName);
  }

  readonly kube: CountingKubeClient;
  readonly spcCache: WatchCache<SecretProviderClass>;
  readonly secretProviderClasses: CachedSecretProviderClassSource;
  readonly podStatuses: KubePodStatusStore;
  readonly nodePods: WatchCache<Pod>;
  readonly pods: NodePodSource;
  readonly recorder: EventRecorder;
  readonly events: KubePodEventRecorder;
  /**
   * The token policy read from a real CSIDriver object of this instance's own (with tokenRequests, as
   * an install with workload identity renders it), named apart so tests never share the cluster-wide one.
   */
  readonly csiDriverName = `tokens-${process.pid}-${++instances}.secrets-store.test`;
  private readonly csiDriver: ReturnType<typeof csiDriverCache>;
  readonly tokenPolicy: KubeTokenPolicySource;

  /** Waits until every Event recorded so far is written (the recorder queues them). */
  flushEvents(): Promise<void> {
    return this.recorder.flush();
  }

  async start(): Promise<void> {
    await createTestCsiDriver(this.kube, this.csiDriverName);
    await Promise.all([this.spcCache.start(), this.nodePods.start(), this.csiDriver.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.spcCache.stop(), this.nodePods.stop(), this.csiDriver.stop()]);
    await this.kube.delete(CSI_DRIVERS, this.csiDriverName).catch(() => undefined);
    this.kube.close();
  }
}
