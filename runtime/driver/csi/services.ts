// The three CSI gRPC services bound to their handlers. Identity and Controller answer exactly as the
// upstream driver does (including advertising CONTROLLER_SERVICE while every controller RPC is
// unimplemented), so node-driver-registrar, the liveness-probe sidecar and kubelet see no difference.
import * as grpc from '@grpc/grpc-js';
import { packageVersion } from '../../../lib/core/package-version';
import type { GrpcServiceBinding } from '../../common/net/grpc-unix';
import type { Logger } from '../../common/logging/logger';
import {
  csiService,
  DEFAULT_DRIVER_NAME,
  NodePublishVolumeRequest,
  NodeStageVolumeRequest,
  NodeUnpublishVolumeRequest,
  NodeUnstageVolumeRequest,
} from '../../wire/csi';
import type { NodeServer } from './node-server';
import { PublishError } from './publish-error';

/** Inputs of the CSI services. */
export interface CsiServicesProps {
  /** `--nodeid`, returned by NodeGetInfo. */
  readonly nodeId: string;
  readonly nodeServer: NodeServer;
  readonly logger: Logger;
  /** GetPluginInfo vendor_version. @default the package version */
  readonly vendorVersion?: string;
  /** GetPluginInfo name (`--drivername`). @default 'secrets-store.csi.k8s.io' */
  readonly driverName?: string;
}

export function csiServices(props: CsiServicesProps): GrpcServiceBinding[] {
  const vendorVersion = props.vendorVersion ?? packageVersion();
  const unimplemented = (method: string) => (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
    callback(
      { code: grpc.status.UNIMPLEMENTED, details: `${method} is not implemented by ${DEFAULT_DRIVER_NAME}` },
      null,
    );

  const identity: grpc.UntypedServiceImplementation = {
    GetPluginInfo: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { name: props.driverName ?? DEFAULT_DRIVER_NAME, vendor_version: vendorVersion }),
    GetPluginCapabilities: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { capabilities: [{ service: { type: 'CONTROLLER_SERVICE' } }] }),
    Probe: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { ready: { value: true } }),
  };

  const controller: grpc.UntypedServiceImplementation = {
    ControllerGetCapabilities: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { capabilities: [{ rpc: { type: 'UNKNOWN' } }] }),
  };

  const node: grpc.UntypedServiceImplementation = {
    NodePublishVolume: (
      call: grpc.ServerUnaryCall<NodePublishVolumeRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      const deadline = call.getDeadline();
      const deadlineDate =
        deadline instanceof Date ? deadline : Number.isFinite(deadline) ? new Date(deadline) : undefined;
      answer(props.nodeServer.publish(call.request, deadlineDate), callback);
    },
    NodeUnpublishVolume: (
      call: grpc.ServerUnaryCall<NodeUnpublishVolumeRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => answer(props.nodeServer.unpublish(call.request), callback),
    NodeStageVolume: (
      call: grpc.ServerUnaryCall<NodeStageVolumeRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      // Ephemeral volumes are never staged; upstream validates the arguments and does nothing.
      if (!call.request.volume_id) return invalid(callback, 'Volume ID missing in request');
      if (!call.request.staging_target_path) return invalid(callback, 'Target path missing in request');
      if (!call.request.volume_capability) return invalid(callback, 'Volume Capability missing in request');
      callback(null, {});
    },
    NodeUnstageVolume: (
      call: grpc.ServerUnaryCall<NodeUnstageVolumeRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      if (!call.request.volume_id) return invalid(callback, 'Volume ID missing in request');
      if (!call.request.staging_target_path) return invalid(callback, 'Target path missing in request');
      callback(null, {});
    },
    NodeGetVolumeStats: unimplemented('NodeGetVolumeStats'),
    NodeExpandVolume: unimplemented('NodeExpandVolume'),
    NodeGetCapabilities: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { capabilities: [{ rpc: { type: 'STAGE_UNSTAGE_VOLUME' } }] }),
    NodeGetInfo: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { node_id: props.nodeId }),
  };

  return [
    { definition: csiService('Identity').service, implementation: identity },
    { definition: csiService('Controller').service, implementation: controller },
    { definition: csiService('Node').service, implementation: node },
  ];
}

function invalid(callback: grpc.sendUnaryData<unknown>, details: string): void {
  callback({ code: grpc.status.INVALID_ARGUMENT, details }, null);
}

function answer(work: Promise<void>, callback: grpc.sendUnaryData<unknown>): void {
  work.then(
    () => callback(null, {}),
    (err: unknown) => {
      if (err instanceof PublishError) callback({ code: err.code, details: err.message }, null);
      else callback({ code: grpc.status.INTERNAL, details: (err as Error).message }, null);
    },
  );
}
