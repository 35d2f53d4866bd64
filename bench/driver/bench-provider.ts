// The provider behind both drivers in the benchmark: speaks the real v1alpha1.CSIDriverProvider proto on
// a unix socket, answers Mount with a fixed set of files (content and versions change only when the
// harness bumps the generation), and counts Mount calls per target path. A provider that costs nothing
// makes the driver's own cost visible; both drivers see exactly the same one.
import * as grpc from '@grpc/grpc-js';
import { startUnixGrpcServer, UnixGrpcServer } from '../../runtime/common/net/grpc-unix';
import type { MountRequest } from '../../runtime/wire/provider-v1alpha1';
import { providerService } from '../../runtime/wire/provider-v1alpha1';

/** Options of {@link startBenchProvider}. */
export interface BenchProviderProps {
  /** `<providers dir>/<provider>.sock`. */
  readonly socketPath: string;
  /** Size of the larger file (a certificate bundle). @default 4096 */
  readonly bundleBytes?: number;
}

/** A running bench provider. */
export interface BenchProvider {
  /** Mount calls by target path since the last reset. */
  readonly callsByTarget: Map<string, number>;
  /** Changes every file's content and object version. */
  bumpGeneration(): void;
  resetCounts(): void;
  close(): Promise<void>;
}

export async function startBenchProvider(props: BenchProviderProps): Promise<BenchProvider> {
  const callsByTarget = new Map<string, number>();
  let generation = 1;
  const bundleBytes = props.bundleBytes ?? 4096;
  const implementation: grpc.UntypedServiceImplementation = {
    Version: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { version: 'v1alpha1', runtime_name: 'bench-provider', runtime_version: '0.0.1' }),
    Mount: (call: grpc.ServerUnaryCall<MountRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const target = call.request.target_path;
      callsByTarget.set(target, (callsByTarget.get(target) ?? 0) + 1);
      const g = String(generation);
      callback(null, {
        object_version: [
          { id: 'secret/username', version: `v${g}` },
          { id: 'secret/password', version: `v${g}` },
          { id: 'cert/bundle', version: `v${g}` },
        ],
        files: [
          { path: 'username', mode: 0o644, contents: Buffer.from(`user-${g}`) },
          { path: 'password', mode: 0o644, contents: Buffer.from(`password-generation-${g}`) },
          { path: 'bundle.pem', mode: 0o644, contents: Buffer.alloc(bundleBytes, `gen${g}-`) },
        ],
      });
    },
  };
  const server: UnixGrpcServer = await startUnixGrpcServer({
    socketPath: props.socketPath,
    services: [{ definition: providerService().service, implementation }],
  });
  return {
    callsByTarget,
    bumpGeneration: () => {
      generation++;
    },
    resetCounts: () => callsByTarget.clear(),
    close: () => server.close(1000),
  };
}
