// The provider's gRPC services on its unix socket: v1alpha1.CSIDriverProvider (Version, Mount) and
// grpc.health.v1.Health (Check = SERVING; List and Watch unimplemented, as upstream). Every call is
// timed into grpc_request; Mount errors reach the driver as status UNKNOWN with upstream's text.
import * as grpc from '@grpc/grpc-js';
import { startUnixGrpcServer, UnixGrpcServer } from '../common/net/grpc-unix';
import type { Logger } from '../common/logging/logger';
import { healthService } from '../wire/grpc-health';
import {
  API_VERSION,
  MOUNT_METHOD,
  MountRequest,
  MountResponse,
  providerService,
  VERSION_METHOD,
} from '../wire/provider-v1alpha1';
import { lastKnownContentMetadata } from '../wire/last-known-content';
import { MountService } from './mount';
import { abortBeforeDeadline } from './mount-deadline';
import { MountFailure } from './mount-failure';
import type { GrpcFailureLabel, ProviderMetrics } from './metrics';
import { packageVersion } from '../../lib/core/package-version';
import { RUNTIME_NAME } from './version';
import { goGrpcCodeName } from '../common/go-compat/grpc-code-names';

/** Options of the provider gRPC server. */
export interface ProviderServerProps {
  readonly socketPath: string;
  readonly mountService: MountService;
  readonly metrics: ProviderMetrics;
  readonly logger: Logger;
  /** Largest message sent (responses are checked against it before sending). @default 4 MiB */
  readonly maxSendMessageBytes?: number;
}

type UnaryHandler<Req, Res> = (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>;

export async function startProviderServer(props: ProviderServerProps): Promise<UnixGrpcServer> {
  const { metrics, logger } = props;
  function unary<Req, Res>(method: string, handler: UnaryHandler<Req, Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const started = process.hrtime.bigint();
      const finish = (code: grpc.status, label: GrpcFailureLabel | '') =>
        metrics.observeGrpcRequest(
          Number(process.hrtime.bigint() - started) / 1e9,
          method,
          goGrpcCodeName(code) ?? String(code),
          label,
        );
      handler(call.request, call).then(
        (response) => {
          finish(grpc.status.OK, '');
          callback(null, response);
        },
        (err: unknown) => {
          const code = (err as { grpcCode?: grpc.status }).grpcCode ?? grpc.status.UNKNOWN;
          // A Mount's text was scrubbed with that Mount's own scope (MountService.mount); anything
          // else is our own fixed text. The process-wide redactor is for the log line only.
          const message = err instanceof Error ? err.message : String(err);
          const label: GrpcFailureLabel =
            err instanceof MountFailure
              ? err.reason
              : code === grpc.status.UNIMPLEMENTED
                ? 'unimplemented'
                : 'internal';
          finish(code, label);
          logger.error('request failed', {
            method,
            code: goGrpcCodeName(code),
            reason: label,
            error: message,
          });
          callback({ code, details: message, metadata: new grpc.Metadata() });
        },
      );
    };
  }
  const unimplemented = (message: string) => {
    const err = new Error(message) as Error & { grpcCode: grpc.status };
    err.grpcCode = grpc.status.UNIMPLEMENTED;
    return err;
  };
  return startUnixGrpcServer({
    socketPath: props.socketPath,
    maxSendMessageBytes: props.maxSendMessageBytes,
    services: [
      {
        definition: providerService().service,
        implementation: {
          Version: unary(VERSION_METHOD, async () => ({
            version: API_VERSION,
            runtime_name: RUNTIME_NAME,
            runtime_version: packageVersion(),
          })),
          Mount: unary<MountRequest, MountResponse>(MOUNT_METHOD, async (request, call) => {
            const controller = new AbortController();
            call.on('cancelled', () => controller.abort(new Error('the driver cancelled the Mount call')));
            const deadline = call.getDeadline();
            const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
            // Answer before the driver's deadline, saying what did not answer in time.
            const cancelTimer = abortBeforeDeadline(deadline, controller);
            const outcome = await props.mountService
              .mountCall(request, {
                signal: controller.signal,
                deadline: Number.isFinite(deadlineMs) ? deadlineMs : undefined,
              })
              .finally(cancelTimer);
            // Response headers, which the upstream driver ignores; ours records a Warning Event.
            if (outcome.servedLastKnown)
              call.sendMetadata(
                lastKnownContentMetadata({
                  ageSeconds: outcome.servedLastKnown.ageMs / 1000,
                  reason: outcome.servedLastKnown.reason,
                }),
              );
            return outcome.response;
          }),
        },
      },
      {
        definition: healthService().service,
        implementation: {
          Check: unary('/grpc.health.v1.Health/Check', async () => ({ status: 'SERVING' })),
          List: unary('/grpc.health.v1.Health/List', async () => {
            throw unimplemented('List is not supported');
          }),
          Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => {
            call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'Watch is not supported' });
          },
        },
      },
    ],
  });
}
