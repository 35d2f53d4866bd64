// What kubelet does to a CSI node plugin for an inline secrets-store volume: NodePublishVolume with the
// pod's volume context (and again on every republish when the CSIDriver has requiresRepublish), and
// NodeUnpublishVolume when the pod goes. Speaks the real CSI proto over the driver's unix socket.
import * as grpc from '@grpc/grpc-js';
import * as path from 'path';
import {
  createUnixGrpcClient,
  loadProto,
  serviceClientConstructor,
  unaryCall,
} from '../../runtime/common/grpc-unix';

/** One inline volume of one pod. */
export interface BenchVolume {
  readonly podName: string;
  readonly podNamespace: string;
  readonly podUid: string;
  readonly spcName: string;
  readonly targetPath: string;
}

/** The kubelet target path of a CSI volume: `<root>/pods/<uid>/volumes/kubernetes.io~csi/<volume>/mount`. */
export function kubeletTargetPath(kubeletRoot: string, podUid: string, volumeName: string): string {
  return path.join(kubeletRoot, 'pods', podUid, 'volumes', 'kubernetes.io~csi', volumeName, 'mount');
}

export class KubeletModel {
  private readonly node: grpc.Client;
  private readonly identity: grpc.Client;

  constructor(socketPath: string) {
    const csi = loadProto('csi.proto');
    this.node = createUnixGrpcClient(serviceClientConstructor(csi, 'csi.v1.Node'), socketPath);
    this.identity = createUnixGrpcClient(serviceClientConstructor(csi, 'csi.v1.Identity'), socketPath);
  }

  /** CSI Probe (what the liveness-probe sidecar calls). */
  async probe(): Promise<void> {
    await unaryCall(this.identity, 'Probe', {}, 5000);
  }

  /** NodePublishVolume as kubelet sends it for an ephemeral inline volume; resolves with the call's duration in ms. */
  async publish(volume: BenchVolume): Promise<number> {
    const started = process.hrtime.bigint();
    await unaryCall(
      this.node,
      'NodePublishVolume',
      {
        volume_id: `csi-${volume.podUid}-secrets`,
        target_path: volume.targetPath,
        volume_capability: { mount: {}, access_mode: { mode: 'SINGLE_NODE_READER_ONLY' } },
        readonly: true,
        volume_context: {
          secretProviderClass: volume.spcName,
          'csi.storage.k8s.io/pod.name': volume.podName,
          'csi.storage.k8s.io/pod.namespace': volume.podNamespace,
          'csi.storage.k8s.io/pod.uid': volume.podUid,
          'csi.storage.k8s.io/serviceAccount.name': 'default',
          'csi.storage.k8s.io/ephemeral': 'true',
        },
      },
      30_000,
    );
    return Number(process.hrtime.bigint() - started) / 1e6;
  }

  async unpublish(volume: BenchVolume): Promise<void> {
    await unaryCall(
      this.node,
      'NodeUnpublishVolume',
      { volume_id: `csi-${volume.podUid}-secrets`, target_path: volume.targetPath },
      30_000,
    );
  }

  close(): void {
    this.node.close();
    this.identity.close();
  }
}
