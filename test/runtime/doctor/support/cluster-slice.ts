// A slice of the rig's apiserver for one doctor scenario: its own app and install namespaces, its own
// Node objects, its own CSI driver name (so a broken CSIDriver breaks only this scenario) and this
// package's install rendered by lib/core. The rig runs no kubelet, scheduler or DaemonSet controller,
// so what they would write is written here in their shapes: DaemonSet pods on the nodes (owner
// references, Ready status), DaemonSet status, pod status, and kubelet's FailedMount Events.
import { randomBytes } from 'node:crypto';
import { renderSelfHostedInstall, SelfHostedInstallOptions } from '../../../../lib/core/install';
import type { KubeObject } from '../../../../lib/core/kube-object';
import type { KubeApi } from '../../../../harness/rig/kube-api';

type Json = Record<string, unknown>;

export interface SliceNode {
  /** Appended to the slice's prefix. */
  readonly suffix: string;
  readonly labels?: Record<string, string>;
  readonly taints?: Array<{ key: string; value?: string; effect: string }>;
}

export interface SliceOptions {
  /** Short scenario id (lower case), part of every name. */
  readonly id: string;
  /** `default` for secrets-store.csi.k8s.io (shared with every file of the run!), else one of its own. @default own */
  readonly driverName?: 'default' | 'own';
  /** Options of the rendered install (namespace is the slice's); false for no install. @default {} */
  readonly install?: Omit<SelfHostedInstallOptions, 'namespace'> | false;
  /** Namespace of the install, when not the slice's own (e.g. kube-system for the AKS add-on's names). */
  readonly installNamespace?: string;
  /** Changes to the rendered objects before they are applied (CSIDriver, DaemonSets, ...). */
  readonly mutate?: (object: KubeObject) => KubeObject | undefined;
  /** @default one Linux node, suffix "a" */
  readonly nodes?: readonly SliceNode[];
  /** Where DaemonSet pods run, per DaemonSet name; a node not listed gets none. @default every node */
  readonly daemonSetPodsOn?: Readonly<Record<string, readonly string[]>>;
  /** DaemonSet pods that are not ready (CrashLoopBackOff), per DaemonSet name. @default none */
  readonly crashingDaemonSets?: readonly string[];
}

export interface SlicePodProps {
  readonly node?: string;
  readonly serviceAccount?: string;
  readonly labels?: Record<string, string>;
  readonly volumes?: ReadonlyArray<{
    readonly name?: string;
    readonly spc: string;
    readonly readOnly?: boolean;
    readonly nodePublishSecretRef?: string;
  }>;
  readonly env?: ReadonlyArray<{ readonly name: string; readonly secret: string; readonly key: string }>;
  /** @default 'Pending' (ContainerCreating) */
  readonly phase?: 'Pending' | 'Running';
  /** A container waiting reason and message kubelet reports (e.g. CreateContainerConfigError). */
  readonly waiting?: { readonly reason: string; readonly message: string };
}

export interface SlicePod {
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
  readonly node?: string;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class ClusterSlice {
  readonly appNamespace: string;
  readonly installNamespace: string;
  readonly driverName: string;
  readonly nodes: string[];
  private readonly bindings: string[] = [];
  /** Objects applied into an install namespace that is not the slice's own (deleted one by one). */
  private readonly installObjects: KubeObject[] = [];
  private readonly daemonSetPods: string[] = [];
  private csiDriverOwned = false;
  private readonly suffix = randomBytes(3).toString('hex');

  private constructor(
    private readonly api: KubeApi,
    readonly options: SliceOptions,
  ) {
    this.appNamespace = `doc-${options.id}-${this.suffix}`;
    this.installNamespace = options.installNamespace ?? `doc-${options.id}-${this.suffix}-install`;
    this.driverName =
      options.driverName === 'default'
        ? 'secrets-store.csi.k8s.io'
        : `${options.id}-${this.suffix}.secrets-store.csi.k8s.io`;
    this.nodes = (options.nodes ?? [{ suffix: 'a' }]).map(
      (n) => `doc-${options.id}-${this.suffix}-${n.suffix}`,
    );
  }

  /** Node name for a suffix. */
  node(suffix = 'a'): string {
    return `doc-${this.options.id}-${this.suffix}-${suffix}`;
  }

  static async create(api: KubeApi, options: SliceOptions): Promise<ClusterSlice> {
    const slice = new ClusterSlice(api, options);
    await api.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: slice.appNamespace },
    });
    for (const [i, node] of (options.nodes ?? [{ suffix: 'a' }]).entries()) {
      const name = slice.nodes[i];
      await api.create('/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': name, ...node.labels },
        },
        spec: node.taints ? { taints: node.taints } : {},
      });
      await api.patch(`/api/v1/nodes/${name}/status`, {
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              lastHeartbeatTime: now(),
              lastTransitionTime: now(),
            },
          ],
        },
      });
    }
    if (options.install !== false) await slice.applyInstall();
    return slice;
  }

  private async applyInstall(): Promise<void> {
    const rendered = renderSelfHostedInstall({
      ...(this.options.install || {}),
      namespace: this.installNamespace,
      createNamespace: this.options.installNamespace === undefined,
      installCrds: false,
      admissionPolicy: false,
    });
    for (const original of rendered) {
      let object: KubeObject | undefined = JSON.parse(JSON.stringify(original)) as KubeObject;
      if (object.kind === 'CSIDriver') {
        object = { ...object, metadata: { ...object.metadata, name: this.driverName } };
        this.csiDriverOwned = this.options.driverName !== 'default';
      }
      if (object.kind === 'ClusterRoleBinding') {
        object = {
          ...object,
          metadata: { ...object.metadata, name: `${object.metadata.name}-${this.options.id}-${this.suffix}` },
        };
        this.bindings.push(object.metadata.name);
      }
      if (object.kind === 'DaemonSet' && this.options.driverName !== 'default')
        addDriverName(object, this.driverName);
      object = this.options.mutate ? this.options.mutate(object) : object;
      if (!object) continue;
      await this.api.apply(object);
      if (object.metadata.namespace === this.installNamespace) this.installObjects.push(object);
      if (object.kind === 'DaemonSet') await this.runDaemonSet(object);
    }
  }

  /** Does what the DaemonSet controller and kubelet would: a pod per node, Ready, and the status. */
  async runDaemonSet(object: KubeObject): Promise<void> {
    const name = object.metadata.name;
    const ns = object.metadata.namespace!;
    const stored = await this.api.get<{ metadata: { uid: string; generation: number } }>(
      `/apis/apps/v1/namespaces/${ns}/daemonsets/${name}`,
    );
    const template = (
      object.spec as { template: { metadata?: { labels?: Record<string, string> }; spec: Json } }
    ).template;
    const on = this.options.daemonSetPodsOn?.[name] ?? this.nodes;
    const crashing = this.options.crashingDaemonSets?.includes(name) ?? false;
    for (const node of on) {
      const podName = `${name}-${randomBytes(3).toString('hex')}`;
      this.daemonSetPods.push(`/api/v1/namespaces/${ns}/pods/${podName}`);
      await this.api.create(`/api/v1/namespaces/${ns}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: podName,
          namespace: ns,
          labels: template.metadata?.labels ?? {},
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'DaemonSet',
              name,
              uid: stored.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: { ...template.spec, nodeName: node },
      });
      const containers = (template.spec.containers as Array<{ name: string; image: string }>) ?? [];
      await this.api.patch(`/api/v1/namespaces/${ns}/pods/${podName}/status`, {
        status: {
          phase: 'Running',
          hostIP: '10.240.0.4',
          podIP: '10.240.0.4',
          conditions: [
            { type: 'PodScheduled', status: 'True' },
            { type: 'Ready', status: crashing ? 'False' : 'True' },
            { type: 'ContainersReady', status: crashing ? 'False' : 'True' },
          ],
          containerStatuses: containers.map((c, i) => ({
            name: c.name,
            image: c.image,
            imageID: '',
            ready: !(crashing && i === 1),
            restartCount: crashing && i === 1 ? 7 : 0,
            state:
              crashing && i === 1
                ? {
                    waiting: {
                      reason: 'CrashLoopBackOff',
                      message: 'back-off 5m0s restarting failed container',
                    },
                  }
                : { running: { startedAt: now() } },
          })),
        },
      });
    }
    const ready = crashing ? 0 : on.length;
    await this.api.patch(`/apis/apps/v1/namespaces/${ns}/daemonsets/${name}/status`, {
      status: {
        observedGeneration: stored.metadata.generation,
        desiredNumberScheduled: on.length,
        currentNumberScheduled: on.length,
        numberReady: ready,
        numberAvailable: ready,
        updatedNumberScheduled: on.length,
        numberMisscheduled: 0,
      },
    });
  }

  async spc(
    name: string,
    parameters: Record<string, string>,
    extra: { secretObjects?: unknown[]; provider?: string; namespace?: string } = {},
  ): Promise<void> {
    await this.api.apply({
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name, namespace: extra.namespace ?? this.appNamespace },
      spec: {
        provider: extra.provider ?? 'azure',
        parameters,
        ...(extra.secretObjects ? { secretObjects: extra.secretObjects } : {}),
      },
    });
  }

  async serviceAccount(name: string, annotations: Record<string, string> = {}): Promise<void> {
    await this.api.apply({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace: this.appNamespace, annotations },
    });
  }

  async secret(
    name: string,
    data: Record<string, string>,
    labels: Record<string, string> = {},
  ): Promise<void> {
    await this.api.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: this.appNamespace, labels },
      type: 'Opaque',
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    } as unknown as KubeObject);
  }

  /** The app's pod, bound to a node as the scheduler would, with the status kubelet would report. */
  async pod(name: string, props: SlicePodProps = {}): Promise<SlicePod> {
    const volumes = props.volumes ?? [];
    const created = await this.api.create<{ metadata: { uid: string } }>(
      `/api/v1/namespaces/${this.appNamespace}/pods`,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: this.appNamespace, labels: { app: name, ...props.labels } },
        spec: {
          ...(props.node !== undefined ? { nodeName: props.node } : {}),
          serviceAccountName: props.serviceAccount ?? 'default',
          containers: [
            {
              name: 'app',
              image: 'registry.k8s.io/e2e-test-images/busybox:1.29-1',
              command: ['/bin/sleep', '10000'],
              volumeMounts: volumes.map((v, i) => ({
                name: v.name ?? `secrets-store-${i}`,
                mountPath: `/mnt/secrets-store-${i}`,
                readOnly: true,
              })),
              env: (props.env ?? []).map((e) => ({
                name: e.name,
                valueFrom: { secretKeyRef: { name: e.secret, key: e.key } },
              })),
            },
          ],
          volumes: volumes.map((v, i) => ({
            name: v.name ?? `secrets-store-${i}`,
            csi: {
              driver: this.driverName,
              readOnly: v.readOnly ?? true,
              volumeAttributes: { secretProviderClass: v.spc },
              ...(v.nodePublishSecretRef ? { nodePublishSecretRef: { name: v.nodePublishSecretRef } } : {}),
            },
          })),
        },
      },
    );
    const phase = props.phase ?? 'Pending';
    await this.api.patch(`/api/v1/namespaces/${this.appNamespace}/pods/${name}/status`, {
      status: {
        phase,
        conditions: [
          { type: 'PodScheduled', status: props.node ? 'True' : 'False' },
          { type: 'Ready', status: phase === 'Running' ? 'True' : 'False' },
        ],
        ...(props.node
          ? {
              containerStatuses: [
                {
                  name: 'app',
                  image: 'registry.k8s.io/e2e-test-images/busybox:1.29-1',
                  imageID: '',
                  ready: phase === 'Running',
                  restartCount: 0,
                  state:
                    phase === 'Running'
                      ? { running: { startedAt: now() } }
                      : { waiting: props.waiting ?? { reason: 'ContainerCreating' } },
                },
              ],
            }
          : {}),
      },
    });
    return { name, uid: created.metadata.uid, namespace: this.appNamespace, node: props.node };
  }

  /** An Event on the pod as kubelet (or the driver) writes it. */
  async event(
    pod: SlicePod,
    reason: string,
    message: string,
    props: { count?: number; component?: string; type?: string } = {},
  ): Promise<void> {
    const stamp = now();
    await this.api.create(`/api/v1/namespaces/${pod.namespace}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${pod.name}.${randomBytes(8).toString('hex')}`, namespace: pod.namespace },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        name: pod.name,
        namespace: pod.namespace,
        uid: pod.uid,
      },
      reason,
      message,
      type: props.type ?? 'Warning',
      source: { component: props.component ?? 'kubelet', ...(pod.node ? { host: pod.node } : {}) },
      count: props.count ?? 1,
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      reportingComponent: props.component ?? 'kubelet',
      reportingInstance: pod.node ?? '',
    });
  }

  /** kubelet's FailedMount for a CSI error the driver returned (gRPC code name and message). */
  async failedMount(
    pod: SlicePod,
    volume: string,
    grpc: { code: string; message: string },
    count = 3,
  ): Promise<string> {
    const message = `MountVolume.SetUp failed for volume "${volume}" : rpc error: code = ${grpc.code} desc = ${grpc.message}`;
    await this.event(pod, 'FailedMount', message, { count });
    return message;
  }

  /** Removes what the slice made (pods first, at once: no kubelet will confirm a graceful delete). */
  async dispose(): Promise<void> {
    const shared = this.options.installNamespace !== undefined;
    if (shared) {
      for (const pod of this.daemonSetPods)
        await this.api.request('DELETE', pod, { query: { gracePeriodSeconds: '0' }, allowStatus: [404] });
      for (const object of this.installObjects) await this.api.delete(await this.api.objectPath(object));
    }
    for (const ns of shared ? [this.appNamespace] : [this.appNamespace, this.installNamespace]) {
      const pods = await this.api.find<{ items: Array<{ metadata: { name: string } }> }>(
        `/api/v1/namespaces/${ns}/pods`,
      );
      for (const pod of pods?.items ?? [])
        await this.api.request('DELETE', `/api/v1/namespaces/${ns}/pods/${pod.metadata.name}`, {
          query: { gracePeriodSeconds: '0' },
          allowStatus: [404],
        });
      await this.api.delete(`/api/v1/namespaces/${ns}`);
    }
    for (const node of this.nodes) await this.api.delete(`/api/v1/nodes/${node}`);
    for (const binding of this.bindings)
      await this.api.delete(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${binding}`);
    if (this.csiDriverOwned) await this.api.delete(`/apis/storage.k8s.io/v1/csidrivers/${this.driverName}`);
  }
}

/** The driver container runs under the slice's driver name (upstream's --drivername). */
function addDriverName(ds: KubeObject, driverName: string): void {
  const spec = (ds.spec as { template: { spec: { containers: Array<{ name: string; args?: string[] }> } } })
    .template.spec;
  for (const container of spec.containers) {
    if ((container.args ?? []).some((a) => a.startsWith('--nodeid=')))
      container.args = [...(container.args ?? []), `--drivername=${driverName}`];
  }
}

/** Finds a container of a rendered DaemonSet. */
export function containerOf(
  ds: KubeObject,
  name: string,
): { args?: string[]; volumeMounts?: Array<{ name: string; mountPath: string }> } {
  const spec = (ds.spec as { template: { spec: { containers: Array<{ name: string }> } } }).template.spec;
  const found = spec.containers.find((c) => c.name === name);
  if (!found) throw new Error(`${ds.metadata.name} has no container ${name}`);
  return found as ReturnType<typeof containerOf>;
}
