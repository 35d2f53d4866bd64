// The standard gRPC health contract (`grpc.health.v1.Health`, runtime/proto/health.proto): the provider
// serves it next to CSIDriverProvider, as upstream's Azure provider does; the driver never calls it.
import type * as grpc from '@grpc/grpc-js';
import { grpcService } from './codec/grpc-service';
import { messageSpec } from './codec/proto3';

export const HEALTH_SERVICE = 'grpc.health.v1.Health';

export interface HealthCheckRequest {
  readonly service: string;
}

export interface HealthCheckResponse {
  readonly status: 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
}

const checkRequest = messageSpec('.grpc.health.v1.HealthCheckRequest', [
  { name: 'service', id: 1, kind: 'string' },
]);
const checkResponse = messageSpec('.grpc.health.v1.HealthCheckResponse', [
  {
    name: 'status',
    id: 1,
    kind: 'enum',
    enum: { names: ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] },
  },
]);

/** The wire tables of runtime/proto/health.proto's messages, by message name. */
export const HEALTH_MESSAGES = {
  HealthCheckRequest: checkRequest,
  HealthCheckResponse: checkResponse,
  HealthListRequest: messageSpec('.grpc.health.v1.HealthListRequest', []),
  HealthListResponse: messageSpec('.grpc.health.v1.HealthListResponse', [
    { name: 'statuses', id: 1, kind: 'message', map: true, message: checkResponse },
  ]),
} as const;

let service: grpc.ServiceClientConstructor | undefined;

/** The Health service constructor (client) and its `.service` definition (server). */
export function healthService(): grpc.ServiceClientConstructor {
  return (service ??= grpcService(HEALTH_SERVICE, {
    Check: { request: checkRequest, response: checkResponse },
    List: { request: HEALTH_MESSAGES.HealthListRequest, response: HEALTH_MESSAGES.HealthListResponse },
    Watch: { request: checkRequest, response: checkResponse, responseStream: true },
  }));
}
