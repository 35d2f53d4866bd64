// The real @grpc/grpc-js client of the provider's socket, as the driver dials it.
import * as grpc from '@grpc/grpc-js';
import {
  createUnixGrpcClient,
  loadProto,
  serviceClientConstructor,
  unaryCall,
} from '../../../../runtime/common/grpc-unix';
import type { MountRequestMessage } from '../../../../runtime/provider/mount';

const providerCtor = serviceClientConstructor(loadProto('provider.proto'), 'v1alpha1.CSIDriverProvider');
const healthCtor = serviceClientConstructor(loadProto('health.proto'), 'grpc.health.v1.Health');

/** MountResponse as the client decodes it. */
export interface DecodedMountResponse {
  object_version: Array<{ id: string; version: string }>;
  files: Array<{ path: string; mode: number; contents: Buffer }>;
  error: { code: string } | null;
}

export class ProviderClient {
  private readonly provider: grpc.Client;
  private readonly health: grpc.Client;

  constructor(socketPath: string, maxReceiveMessageBytes?: number) {
    this.provider = createUnixGrpcClient(providerCtor, socketPath, { maxReceiveMessageBytes });
    this.health = createUnixGrpcClient(healthCtor, socketPath);
  }

  mount(request: MountRequestMessage): Promise<DecodedMountResponse> {
    return unaryCall(this.provider, 'Mount', request);
  }

  version(): Promise<{ version: string; runtime_name: string; runtime_version: string }> {
    return unaryCall(this.provider, 'Version', { version: 'v1alpha1' });
  }

  healthCheck(): Promise<{ status: string }> {
    return unaryCall(this.health, 'Check', { service: '' });
  }

  healthList(): Promise<unknown> {
    return unaryCall(this.health, 'List', {});
  }

  /** The gRPC error of a Mount that must fail. */
  async mountError(request: MountRequestMessage): Promise<grpc.ServiceError> {
    try {
      await this.mount(request);
    } catch (err) {
      return err as grpc.ServiceError;
    }
    throw new Error('the Mount succeeded but was expected to fail');
  }

  close(): void {
    this.provider.close();
    this.health.close();
  }
}
