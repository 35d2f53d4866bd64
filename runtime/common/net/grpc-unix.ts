// gRPC over a unix socket, the transport between the CSI driver and a provider (and between kubelet
// and the driver). The server side removes a stale socket and creates the new one owner-only (the
// socket is the only access control: upstream creates it under umask 0077); the client side dials
// `unix://<path>` with `:authority` localhost and a bounded receive size, as the upstream driver does.
// Which services run over it is the business of runtime/wire (one module per contract).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';

/** gRPC's default maximum message size, which the upstream driver also uses (`--max-call-recv-msg-size`). */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

// grpc-js keeps channelz counters and traces for every server, channel, subchannel and call unless told
// not to; nothing here serves the channelz service, so that bookkeeping is CPU and memory on every
// publish and Mount for no reader (grpc-go, upstream's runtime, registers channelz only on request).
const NO_CHANNELZ = { 'grpc.enable_channelz': 0 } as const;

/**
 * Socket path from an endpoint flag. Accepts `unix:///abs/path.sock`, `unix:/abs/path.sock` and a
 * bare absolute path; `flagName` appears in the error.
 */
export function socketPathFromEndpoint(endpoint: string, flagName = '--endpoint'): string {
  let socketPath: string;
  if (endpoint.startsWith('unix://')) socketPath = endpoint.slice('unix://'.length);
  else if (endpoint.startsWith('unix:')) socketPath = endpoint.slice('unix:'.length);
  else if (endpoint.startsWith('/')) socketPath = endpoint;
  else
    throw new Error(`${flagName}=${endpoint} is not a unix socket endpoint; use unix:///<dir>/<name>.sock`);
  if (!socketPath.startsWith('/')) {
    throw new Error(
      `${flagName}=${endpoint} must name an absolute socket path, e.g. unix:///var/run/secrets-store-csi-providers/azure.sock`,
    );
  }
  return socketPath;
}

/** One service implementation registered on the server. */
export interface GrpcServiceBinding {
  readonly definition: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
}

/** Options of a unix-socket gRPC server. */
export interface UnixGrpcServerProps {
  /** Absolute path of the socket file. A stale socket there is removed first. */
  readonly socketPath: string;
  /** Services to serve. */
  readonly services: readonly GrpcServiceBinding[];
  /** Largest message the server accepts. @default 4 MiB */
  readonly maxReceiveMessageBytes?: number;
  /** Largest message the server sends. @default 4 MiB */
  readonly maxSendMessageBytes?: number;
}

/** A started server; `close` drains in-flight calls for up to `graceMs`, then removes the socket. */
export interface UnixGrpcServer {
  readonly server: grpc.Server;
  readonly socketPath: string;
  close(graceMs?: number): Promise<void>;
}

export async function startUnixGrpcServer(props: UnixGrpcServerProps): Promise<UnixGrpcServer> {
  const { socketPath } = props;
  removeStaleSocket(socketPath);
  fs.mkdirSync(path.dirname(socketPath), { recursive: true });
  const server = new grpc.Server({
    ...NO_CHANNELZ,
    'grpc.max_receive_message_length': props.maxReceiveMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': props.maxSendMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
  });
  for (const service of props.services) server.addService(service.definition, service.implementation);
  // The umask makes the socket owner-only from the moment it exists (no window before the chmod).
  const previousUmask = process.umask(0o077);
  try {
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      );
    });
  } finally {
    process.umask(previousUmask);
  }
  fs.chmodSync(socketPath, 0o600);
  let closed: Promise<void> | undefined;
  return {
    server,
    socketPath,
    close(graceMs = 5000) {
      closed ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }).finally(() => removeStaleSocket(socketPath));
      return closed;
    },
  };
}

function removeStaleSocket(socketPath: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!stat.isSocket()) {
    throw new Error(
      `${socketPath} exists and is not a socket; refusing to remove it (choose another --endpoint)`,
    );
  }
  fs.unlinkSync(socketPath);
}

/** Options of a unix-socket gRPC client. */
export interface UnixGrpcClientProps {
  /** Largest message the client accepts (the driver's `--max-call-recv-msg-size`). @default 4 MiB */
  readonly maxReceiveMessageBytes?: number;
  /** Extra channel options. @default {} */
  readonly channelOptions?: grpc.ChannelOptions;
}

/** A client of `ctor`'s service dialling `unix://<socketPath>` with `:authority` localhost. */
export function createUnixGrpcClient<T extends grpc.Client>(
  ctor: grpc.ServiceClientConstructor,
  socketPath: string,
  props: UnixGrpcClientProps = {},
): T {
  return new ctor(`unix://${socketPath}`, grpc.credentials.createInsecure(), {
    ...NO_CHANNELZ,
    'grpc.default_authority': 'localhost',
    'grpc.max_receive_message_length': props.maxReceiveMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    ...props.channelOptions,
  }) as unknown as T;
}

/** Calls a unary method and resolves with the response (rejects with the grpc ServiceError). */
export function unaryCall<Req, Res>(
  client: grpc.Client,
  method: string,
  request: Req,
  deadlineMs?: number,
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const fn = (client as unknown as Record<string, (...args: unknown[]) => void>)[method];
    if (typeof fn !== 'function') {
      reject(new Error(`the client has no method ${method}`));
      return;
    }
    const options: grpc.CallOptions =
      deadlineMs !== undefined ? { deadline: new Date(Date.now() + deadlineMs) } : {};
    fn.call(client, request, new grpc.Metadata(), options, (err: grpc.ServiceError | null, response: Res) =>
      err ? reject(err) : resolve(response),
    );
  });
}
