// What kubelet does to a CSI node plugin for an inline secrets-store volume: NodePublishVolume with the
// pod's volume context (and again on every republish when the CSIDriver has requiresRepublish), and
// NodeUnpublishVolume when the pod goes. Speaks the real CSI proto over the driver's unix socket.
import * as grpc from '@grpc/grpc-js';
import * as path from 'path';
import { createUnixGrpcClient, unaryCall } from '../../runtime/common/net/grpc-unix';
import {
  csiService,
  EPHEMERAL_KEY,
  NodePublishVolumeRequest,
  NodeUnpublishVolumeRequest,
  POD_NAME_KEY,
  POD_NAMESPACE_KEY,
  POD_UID_KEY,
  SECRET_PROVIDER_CLASS_KEY,
  SERVICE_ACCOUNT_NAME_KEY,
} from '../../runtime/wire/csi';

/** One inline volume of one pod. */
export interface BenchVolume {
  readonly podName: string;
  readonly podNamespace: string;
  readonly podUid: string;
  readonly spcName: string;
  readonly targetPath: string;
  /** What kubelet read from the volume's nodePublishSecretRef (a service principal), if any. */
  readonly secrets?: Readonly<Record<string, string>>;
}

/** The kubelet target path of a CSI volume: `<root>/pods/<uid>/volumes/kubernetes.io~csi/<volume>/mount`. */
export function kubeletTargetPath(kubeletRoot: string, podUid: string, volumeName: string): string {
  return path.join(kubeletRoot, 'pods', podUid, 'volumes', 'kubernetes.io~csi', volumeName, 'mount');
}

export class KubeletModel {
  private readonly node: grpc.Client;
  private readonly identity: grpc.Client;

  constructor(socketPath: string) {
    this.node = createUnixGrpcClient(csiService('Node'), socketPath);
    this.identity = createUnixGrpcClient(csiService('Identity'), socketPath);
  }

  /** CSI Probe (what the liveness-probe sidecar calls). */
  async probe(): Promise<void> {
    await unaryCall(this.identity, 'Probe', {}, 5000);
  }

  /** NodePublishVolume as kubelet sends it for an ephemeral inline volume; resolves with the call's duration in ms. */
  async publish(volume: BenchVolume): Promise<number> {
    const started = process.hrtime.bigint();
    await unaryCall<NodePublishVolumeRequest, unknown>(
      this.node,
      'NodePublishVolume',
      {
        volume_id: `csi-${volume.podUid}-secrets`,
        target_path: volume.targetPath,
        volume_capability: { mount: {}, access_mode: { mode: 'SINGLE_NODE_READER_ONLY' } },
        readonly: true,
        ...(volume.secrets ? { secrets: { ...volume.secrets } } : {}),
        volume_context: {
          [SECRET_PROVIDER_CLASS_KEY]: volume.spcName,
          [POD_NAME_KEY]: volume.podName,
          [POD_NAMESPACE_KEY]: volume.podNamespace,
          [POD_UID_KEY]: volume.podUid,
          [SERVICE_ACCOUNT_NAME_KEY]: 'default',
          [EPHEMERAL_KEY]: 'true',
        },
      },
      30_000,
    );
    return Number(process.hrtime.bigint() - started) / 1e6;
  }

  async unpublish(volume: BenchVolume): Promise<void> {
    await unaryCall<NodeUnpublishVolumeRequest, unknown>(
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
