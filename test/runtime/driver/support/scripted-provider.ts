// A tiny provider speaking the real v1alpha1.CSIDriverProvider protocol on a unix socket, whose answers
// the test scripts: used where a test needs responses no real provider gives (path traversal, errors,
// a counter of calls). Requests are recorded so tests can assert the exact MountRequest encoding.
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startUnixGrpcServer, UnixGrpcServer } from '../../../../runtime/common/net/grpc-unix';
import {
  API_VERSION,
  MountRequest,
  MountResponse,
  ObjectVersion,
  providerService,
} from '../../../../runtime/wire/provider-v1alpha1';

export interface ScriptedFile {
  path: string;
  mode: number;
  contents: Buffer | string;
}

export interface ScriptedAnswer {
  files?: ScriptedFile[];
  objectVersions?: ObjectVersion[];
  errorCode?: string;
  grpcError?: { code: grpc.status; details: string };
  /** Response headers sent before the answer (e.g. our provider's last-known-content notice). */
  headers?: grpc.Metadata;
}

/** A Mount as the provider received it. */
export type RecordedMountRequest = MountRequest;

export class ScriptedProvider {
  readonly requests: RecordedMountRequest[] = [];
  readonly authorities: string[] = [];
  answer: (request: RecordedMountRequest) => ScriptedAnswer = () => ({
    files: [],
    objectVersions: [{ id: 'secret/a', version: 'v1' }],
  });
  private server?: UnixGrpcServer;

  constructor(
    readonly dir: string,
    readonly name: string,
  ) {}

  get socketPath(): string {
    return path.join(this.dir, `${this.name}.sock`);
  }

  async start(): Promise<void> {
    const definition = providerService().service;
    this.server = await startUnixGrpcServer({
      socketPath: this.socketPath,
      services: [
        {
          definition,
          implementation: {
            Version: (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
              cb(null, { version: API_VERSION, runtime_name: 'scripted', runtime_version: '0.0.1' }),
            Mount: (
              call: grpc.ServerUnaryCall<RecordedMountRequest, unknown>,
              cb: grpc.sendUnaryData<unknown>,
            ) => {
              this.requests.push(call.request);
              this.authorities.push(call.getHost());
              const a = this.answer(call.request);
              if (a.grpcError) return cb({ code: a.grpcError.code, details: a.grpcError.details }, null);
              if (a.headers) call.sendMetadata(a.headers);
              const response: MountResponse = {
                object_version: a.objectVersions ?? [],
                error: a.errorCode ? { code: a.errorCode } : null,
                files: (a.files ?? []).map((f) => ({
                  path: f.path,
                  mode: f.mode,
                  contents: Buffer.from(f.contents),
                })),
              };
              cb(null, response);
            },
          },
        },
      ],
    });
  }

  async stop(): Promise<void> {
    await this.server?.close(1000);
    this.server = undefined;
  }
}
