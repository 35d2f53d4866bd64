// A tiny provider speaking the real v1alpha1.CSIDriverProvider protocol on a unix socket, whose answers
// the test scripts: used where a test needs responses no real provider gives (path traversal, errors,
// a counter of calls). Requests are recorded so tests can assert the exact MountRequest encoding.
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  loadProto,
  serviceClientConstructor,
  startUnixGrpcServer,
  UnixGrpcServer,
} from '../../../runtime/common/grpc-unix';

export interface ScriptedFile {
  path: string;
  mode: number;
  contents: Buffer | string;
}

export interface ScriptedAnswer {
  files?: ScriptedFile[];
  objectVersions?: { id: string; version: string }[];
  errorCode?: string;
  grpcError?: { code: grpc.status; details: string };
}

export interface RecordedMountRequest {
  attributes: string;
  secrets: string;
  target_path: string;
  permission: string;
  current_object_version: unknown[];
}

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
    const definition = serviceClientConstructor(
      loadProto('provider.proto'),
      'v1alpha1.CSIDriverProvider',
    ).service;
    this.server = await startUnixGrpcServer({
      socketPath: this.socketPath,
      services: [
        {
          definition,
          implementation: {
            Version: (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
              cb(null, { version: 'v1alpha1', runtime_name: 'scripted', runtime_version: '0.0.1' }),
            Mount: (
              call: grpc.ServerUnaryCall<RecordedMountRequest, unknown>,
              cb: grpc.sendUnaryData<unknown>,
            ) => {
              this.requests.push(call.request);
              this.authorities.push(call.getHost());
              const a = this.answer(call.request);
              if (a.grpcError) return cb({ code: a.grpcError.code, details: a.grpcError.details }, null);
              cb(null, {
                object_version: a.objectVersions ?? [],
                error: a.errorCode ? { code: a.errorCode } : null,
                files: (a.files ?? []).map((f) => ({
                  path: f.path,
                  mode: f.mode,
                  contents: Buffer.from(f.contents),
                })),
              });
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
