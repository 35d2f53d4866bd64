// Finds and calls a provider: `<dir>/<provider>.sock` across the provider directories (the additional
// ones first, then --provider-volume, as upstream), dialled with `:authority` localhost and a bounded
// receive size, retried on UNAVAILABLE. Unlike upstream, which caches the first socket path forever,
// the socket is looked up on every call and the connection is re-dialled when the socket file changes
// (another path, inode or mtime): a provider that restarts or moves its socket needs no driver restart.
// A socket that is not there yet is waited for, bounded (ProviderSocketWaiter): upstream fails at once.
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
import { ProviderSocketWaiter } from './provider-socket-waiter';

/** Upstream's provider name rule; it also keeps the socket path inside the provider directory. */
const PROVIDER_NAME = /^[a-zA-Z0-9_-]{0,30}$/;

/** `--provider-start-wait`'s default: a Node.js provider starts in 1-3 s on a loaded node. */
export const DEFAULT_PROVIDER_START_WAIT_MS = 5000;

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
  /**
   * Longest wait for a provider socket that is not there yet (`--provider-start-wait`), never more than
   * half of the call's remaining deadline; 0 fails at once, as upstream. @default 5000
   */
  readonly providerStartWaitMs?: number;
  /** Time between two looks for a missing socket. @default 100 */
  readonly providerStartPollMs?: number;
  /** Called after a call waited for a missing socket, found or not. @default no-op */
  readonly onProviderWait?: (provider: string, waitedMs: number, found: boolean) => void;
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
  private readonly startWaitMs: number;
  private readonly socketWaiter: ProviderSocketWaiter;

  constructor(private readonly props: ProviderClientsProps) {
    this.maxAttempts = props.maxAttempts ?? 3;
    this.initialBackoffMs = props.initialBackoffMs ?? 1000;
    this.startWaitMs = props.providerStartWaitMs ?? DEFAULT_PROVIDER_START_WAIT_MS;
    this.socketWaiter = new ProviderSocketWaiter({
      find: (provider) => this.findSocket(provider),
      pollIntervalMs: props.providerStartPollMs,
    });
  }

  /** True when `<dir>/<provider>.sock` exists in one of the provider directories. */
  isInstalled(provider: string): boolean {
    return PROVIDER_NAME.test(provider) && this.findSocket(provider) !== undefined;
  }

  /**
   * The socket path of `provider`, waiting for it while it is not there (a provider still starting) up to
   * --provider-start-wait and half of the time left before `deadline`; then upstream's error.
   */
  async waitForSocket(provider: string, deadline?: Date): Promise<string> {
    checkProviderName(provider); // before any path is built from the tenant's string
    const found = this.findSocket(provider);
    if (found !== undefined) return found;
    const start = Date.now();
    const untilMs = Math.min(
      start + this.startWaitMs,
      deadline ? start + (deadline.getTime() - start) / 2 : Infinity,
    );
    const socketPath = untilMs > start ? await this.socketWaiter.wait(provider, untilMs) : undefined;
    if (untilMs > start) this.props.onProviderWait?.(provider, Date.now() - start, socketPath !== undefined);
    if (socketPath === undefined) throw this.notFound(provider);
    return socketPath;
  }

  /** Calls Mount; rejects with a ReasonedError whose text and reason are upstream's. */
  async mount(provider: string, request: MountRequest, deadline?: Date): Promise<MountResult> {
    let response: MountResponse | undefined;
    let lastKnownContent: LastKnownContentNotice | undefined;
    for (let attempt = 1; ; attempt++) {
      const client = await this.clientFor(provider, deadline);
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

  /** Calls waiting for a missing provider socket now, and whether the waiter's poll timer is set. */
  get socketWaits(): { readonly calls: number; readonly polling: boolean } {
    return { calls: this.socketWaiter.waitingCalls, polling: this.socketWaiter.polling };
  }

  /** Closes every connection (driver shutdown). */
  close(): void {
    this.socketWaiter.close();
    for (const cached of this.clients.values()) cached.client.close();
    this.clients.clear();
  }

  private findSocket(provider: string): string | undefined {
    for (const dir of this.props.providerDirs) {
      const candidate = path.join(dir, `${provider}.sock`);
      if (fs.existsSync(candidate)) return candidate;
    }
    return undefined;
  }

  private notFound(provider: string): ReasonedError {
    return new ReasonedError(
      `error connecting to provider ${JSON.stringify(provider)}: provider not found: provider ${JSON.stringify(provider)}` +
        ` (looked for ${provider}.sock in ${this.props.providerDirs.join(', ')})`,
      ErrorReason.FailedToLookupProviderGRPCClient,
    );
  }

  private async clientFor(provider: string, deadline?: Date): Promise<grpc.Client> {
    const socketPath = await this.waitForSocket(provider, deadline);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(socketPath);
    } catch {
      throw this.notFound(provider); // removed since it was seen
    }
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

/** Rejects a name that is not upstream's provider name rule, before any path is built from it. */
function checkProviderName(provider: string): void {
  if (PROVIDER_NAME.test(provider)) return;
  // The name comes from an SPC: quoted (control characters escaped) and cut, never echoed whole.
  const name = JSON.stringify(provider.length > 64 ? `${provider.slice(0, 64)}...` : provider);
  throw new ReasonedError(
    `error connecting to provider ${name}: invalid provider: provider ${name}` +
      ' (a provider name has at most 30 letters, digits, "-" or "_")',
    ErrorReason.FailedToLookupProviderGRPCClient,
  );
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
