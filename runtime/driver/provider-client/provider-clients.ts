// Finds and calls a provider: `<dir>/<provider>.sock` across the provider directories (the additional
// ones first, then --provider-volume, as upstream), dialled with `:authority` localhost and a bounded
// receive size, retried on UNAVAILABLE. Unlike upstream, which caches the first socket path forever,
// the socket is looked up on every call and the connection is re-dialled when the socket file changes
// (another path, inode or mtime): a provider that restarts or moves its socket needs no driver restart.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createUnixGrpcClient } from '../../common/net/grpc-unix';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  MountRequest,
  MountResponse,
  mountResponseContentBytes,
  ObjectVersion,
  ProviderFile,
  providerService,
  SYNC_WARNING_BYTES,
} from '../../wire/provider-v1alpha1';
import { LastKnownContentNotice, readLastKnownContentNotice } from '../../wire/last-known-content';
import { ErrorReason, ReasonedError } from '../error-reasons';
import { goGrpcCodeName } from '../../common/go-compat/grpc-code-names';

/** Upstream's provider name rule; it also keeps the socket path inside the provider directory. */
const PROVIDER_NAME = /^[a-zA-Z0-9_-]{0,30}$/;

/** A successful provider answer. */
export interface MountResult {
  readonly objectVersions: readonly ObjectVersion[];
  readonly files: readonly ProviderFile[];
  /** Set when the provider answered with last known content (Key Vault unavailable; our provider only). */
  readonly lastKnownContent?: LastKnownContentNotice;
}

/** Options of the ProviderClients. */
export interface ProviderClientsProps {
  /** Directories searched in order for `<provider>.sock`. */
  readonly providerDirs: readonly string[];
  /** Largest Mount response accepted (`--max-call-recv-msg-size`). @default 4194304 */
  readonly maxCallRecvMsgSize?: number;
  /** Attempts per call when the provider answers UNAVAILABLE. @default 3 (upstream's retry policy) */
  readonly maxAttempts?: number;
  /** Backoff before the second attempt, growing ×1.1 up to 10 s. @default 1000 */
  readonly initialBackoffMs?: number;
  /** Called when a response is larger than upstream's 1 MiB sync warning. @default no-op */
  readonly onLargeResponse?: (provider: string, bytes: number) => void;
}

interface CachedClient {
  readonly socketPath: string;
  readonly ino: number;
  readonly mtimeMs: number;
  readonly client: grpc.Client;
}

export class ProviderClients {
  private readonly clients = new Map<string, CachedClient>();
  private readonly maxAttempts: number;
  private readonly initialBackoffMs: number;

  constructor(private readonly props: ProviderClientsProps) {
    this.maxAttempts = props.maxAttempts ?? 3;
    this.initialBackoffMs = props.initialBackoffMs ?? 1000;
  }

  /** True when `<dir>/<provider>.sock` exists in one of the provider directories. */
  isInstalled(provider: string): boolean {
    if (!PROVIDER_NAME.test(provider)) return false;
    return this.props.providerDirs.some((dir) => fs.existsSync(path.join(dir, `${provider}.sock`)));
  }

  /** The socket path of `provider`, or a ReasonedError with upstream's text. */
  resolveSocket(provider: string): string {
    if (!PROVIDER_NAME.test(provider)) {
      // The name comes from an SPC: quoted (control characters escaped) and cut, never echoed whole.
      const name = JSON.stringify(provider.length > 64 ? `${provider.slice(0, 64)}...` : provider);
      throw new ReasonedError(
        `error connecting to provider ${name}: invalid provider: provider ${name}` +
          ' (a provider name has at most 30 letters, digits, "-" or "_")',
        ErrorReason.FailedToLookupProviderGRPCClient,
      );
    }
    for (const dir of this.props.providerDirs) {
      const candidate = path.join(dir, `${provider}.sock`);
      if (fs.existsSync(candidate)) return candidate;
    }
    throw new ReasonedError(
      `error connecting to provider ${JSON.stringify(provider)}: provider not found: provider ${JSON.stringify(provider)}` +
        ` (looked for ${provider}.sock in ${this.props.providerDirs.join(', ')})`,
      ErrorReason.FailedToLookupProviderGRPCClient,
    );
  }

  /** Calls Mount; rejects with a ReasonedError whose text and reason are upstream's. */
  async mount(provider: string, request: MountRequest, deadline?: Date): Promise<MountResult> {
    let response: MountResponse | undefined;
    let lastKnownContent: LastKnownContentNotice | undefined;
    for (let attempt = 1; ; attempt++) {
      const client = this.clientFor(provider);
      try {
        ({ response, lastKnownContent } = await callMount(client, request, deadline));
        break;
      } catch (err) {
        const e = err as grpc.ServiceError;
        if (e.code === grpc.status.UNAVAILABLE && attempt < this.maxAttempts) {
          const backoff = Math.min(this.initialBackoffMs * Math.pow(1.1, attempt - 1), 10_000);
          if (deadline && Date.now() + backoff >= deadline.getTime()) throw grpcFailure(e);
          await new Promise((resolve) => setTimeout(resolve, backoff));
          continue;
        }
        throw grpcFailure(e);
      }
    }
    if (response.error?.code) {
      throw new ReasonedError(
        `mount request failed with provider error code ${response.error.code}`,
        response.error.code,
      );
    }
    if (response.object_version.length === 0) {
      throw new ReasonedError('missing object versions', ErrorReason.ProviderError);
    }
    const bytes = mountResponseContentBytes(response);
    if (bytes > SYNC_WARNING_BYTES) this.props.onLargeResponse?.(provider, bytes);
    return {
      objectVersions: response.object_version,
      files: response.files,
      ...(lastKnownContent ? { lastKnownContent } : {}),
    };
  }

  /** Closes every connection (driver shutdown). */
  close(): void {
    for (const cached of this.clients.values()) cached.client.close();
    this.clients.clear();
  }

  private clientFor(provider: string): grpc.Client {
    const socketPath = this.resolveSocket(provider);
    const stat = fs.statSync(socketPath);
    const cached = this.clients.get(provider);
    if (
      cached &&
      cached.socketPath === socketPath &&
      cached.ino === stat.ino &&
      cached.mtimeMs === stat.mtimeMs
    ) {
      return cached.client;
    }
    cached?.client.close();
    const client = createUnixGrpcClient<grpc.Client>(providerService(), socketPath, {
      maxReceiveMessageBytes: this.props.maxCallRecvMsgSize ?? DEFAULT_MAX_MESSAGE_BYTES,
    });
    this.clients.set(provider, { socketPath, ino: stat.ino, mtimeMs: stat.mtimeMs, client });
    return client;
  }
}

function callMount(
  client: grpc.Client,
  request: MountRequest,
  deadline?: Date,
): Promise<{ response: MountResponse; lastKnownContent?: LastKnownContentNotice }> {
  return new Promise((resolve, reject) => {
    const method = (
      client as unknown as Record<
        string,
        grpc.requestCallback<MountResponse> & ((...a: unknown[]) => grpc.ClientUnaryCall)
      >
    ).Mount;
    let lastKnownContent: LastKnownContentNotice | undefined;
    // Response headers arrive before the message (our provider's last-known-content notice).
    const call = method.call(
      client,
      request,
      new grpc.Metadata(),
      deadline ? { deadline } : {},
      (err: grpc.ServiceError | null, res?: MountResponse) =>
        err
          ? reject(err)
          : resolve({ response: res ?? { object_version: [], error: null, files: [] }, lastKnownContent }),
    );
    call.on('metadata', (metadata: grpc.Metadata) => {
      lastKnownContent = readLastKnownContentNotice(metadata);
    });
  });
}

function grpcFailure(err: grpc.ServiceError): ReasonedError {
  let text = goGrpcErrorText(err.code ?? grpc.status.UNKNOWN, err.details ?? err.message);
  if (err.code === grpc.status.RESOURCE_EXHAUSTED && /larger than max/i.test(err.details ?? '')) {
    text += '; the provider response is larger than --max-call-recv-msg-size: raise that flag on the driver';
  }
  return new ReasonedError(text, ErrorReason.GRPCProviderError);
}

/** The Go-style text of a gRPC error, as upstream passes it through: `rpc error: code = X desc = Y`. */
export function goGrpcErrorText(code: number, details: string): string {
  return `rpc error: code = ${goGrpcCodeName(code) ?? `Code(${code})`} desc = ${details}`;
}
