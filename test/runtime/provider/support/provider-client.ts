// The real @grpc/grpc-js client of the provider's socket, as the driver dials it.
import * as grpc from '@grpc/grpc-js';
import { createUnixGrpcClient, unaryCall } from '../../../../runtime/common/net/grpc-unix';
import { HealthCheckResponse, healthService } from '../../../../runtime/wire/grpc-health';
import {
  API_VERSION,
  MountRequest,
  MountResponse,
  providerService,
  VersionResponse,
} from '../../../../runtime/wire/provider-v1alpha1';

export class ProviderClient {
  private readonly provider: grpc.Client;
  private readonly health: grpc.Client;

  constructor(socketPath: string, maxReceiveMessageBytes?: number) {
    this.provider = createUnixGrpcClient(providerService(), socketPath, { maxReceiveMessageBytes });
    this.health = createUnixGrpcClient(healthService(), socketPath);
  }

  /** One Mount; `deadlineMs` as the driver's provider call timeout. */
  mount(request: MountRequest, deadlineMs?: number): Promise<MountResponse> {
    return unaryCall(this.provider, 'Mount', request, deadlineMs);
  }

  version(): Promise<VersionResponse> {
    return unaryCall(this.provider, 'Version', { version: API_VERSION });
  }

  healthCheck(): Promise<HealthCheckResponse> {
    return unaryCall(this.health, 'Check', { service: '' });
  }

  healthList(): Promise<unknown> {
    return unaryCall(this.health, 'List', {});
  }

  /** The gRPC error of a Mount that must fail. */
  async mountError(request: MountRequest, deadlineMs?: number): Promise<grpc.ServiceError> {
    try {
      await this.mount(request, deadlineMs);
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
