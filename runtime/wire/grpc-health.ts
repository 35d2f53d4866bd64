// The standard gRPC health contract (`grpc.health.v1.Health`, runtime/proto/health.proto): the provider
// serves it next to CSIDriverProvider, as upstream's Azure provider does; the driver never calls it.
import type * as grpc from '@grpc/grpc-js';
import { protoService } from './proto';

export const HEALTH_SERVICE = 'grpc.health.v1.Health';

export interface HealthCheckRequest {
  readonly service: string;
}

export interface HealthCheckResponse {
  readonly status: 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
}

/** The Health service constructor (client) and its `.service` definition (server). */
export function healthService(): grpc.ServiceClientConstructor {
  return protoService('health.proto', HEALTH_SERVICE);
}
