// Key Vault reads: every call passes the vault's token bucket, has a per-attempt timeout and bounded
// retries, and goes over the vault host's connection pool (vault-hosts.ts), shared by all identities.
// Nothing is kept per identity × vault: a call carries the credential its Mount brought, so a
// re-created workload-identity credential's fresh token is used at once, and 200 identities on 10
// vaults cost no more memory than one (the Azure SDK kept three clients with their pipelines per pair).
import type { AgentOptions } from 'node:https';
import type { TokenCredential } from '../identity/token-credential';
import { KeyVaultRest } from './key-vault-rest';
import { KeyVaultTimeoutError, classifyKeyVaultError } from './rest-errors';
import { RetryDecision, withRetries } from './retry';
import { RequestPriority, TokenBucket } from './token-bucket';
import type { FetchedObject, ObjectVersionInfo, VaultObjectType } from './types';
import { VaultHost, VaultHosts } from './vault-hosts';

/** Limits applied to every Key Vault call. */
export interface VaultAccessProps {
  /** Per-attempt timeout, ms. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Retries after the first attempt. @default 3 */
  readonly maxRetries?: number;
  /** First backoff, ms. @default 800 */
  readonly baseDelayMs?: number;
  /** Largest backoff, ms. @default 30000 */
  readonly maxDelayMs?: number;
  /** Largest Retry-After honoured, ms. @default 60000 */
  readonly maxRetryAfterMs?: number;
  /** Token bucket rate per vault, requests/s. @default 50 */
  readonly vaultRatePerSecond?: number;
  /** Token bucket burst per vault. @default 100 */
  readonly vaultBurst?: number;
  /** Most vault hosts with a connection pool. @default 256 */
  readonly maxVaultHosts?: number;
  /** A vault host unused this long has its pool closed. @default 600000 (10 min) */
  readonly vaultHostIdleMs?: number;
  /** Trust and name resolution of the connection pools. @default the system's */
  readonly tlsAgentOptions?: Pick<AgentOptions, 'ca' | 'lookup'>;
  /** Observer of each retry (metrics/logs). */
  readonly onRetry?: (vaultHost: string, decision: RetryDecision, delayMs: number) => void;
  /** Observer of waits in the token bucket. */
  readonly onRateLimitWait?: (vaultHost: string, priority: RequestPriority) => void;
  /** Test hook: random source for jitter. @default Math.random */
  readonly random?: () => number;
}

/** Who asks, for which vault, at which priority. */
export interface VaultCallContext {
  readonly identityKey: string;
  readonly credential: TokenCredential;
  readonly vaultUrl: string;
  /** Skip the SDK's check that the challenge resource matches the vault host (custom clouds). */
  readonly disableChallengeResourceVerification: boolean;
  readonly priority: RequestPriority;
  /** Cancels the whole call (e.g. the gRPC call went away). */
  readonly signal?: AbortSignal;
}

export class VaultAccess {
  readonly hosts: VaultHosts;
  private readonly rest: KeyVaultRest;

  constructor(private readonly props: VaultAccessProps = {}) {
    this.hosts = new VaultHosts({
      ratePerSecond: props.vaultRatePerSecond ?? 50,
      burst: props.vaultBurst ?? 100,
      maxHosts: props.maxVaultHosts,
      idleMs: props.vaultHostIdleMs,
      tlsAgentOptions: props.tlsAgentOptions,
    });
    this.rest = new KeyVaultRest({
      get: (host) => this.hosts.scopeOf(host),
      set: (host, scope) => this.hosts.setScope(host, scope),
    });
  }

  /** The bucket of a vault host (shared by all identities: the limit is the vault's). */
  bucketFor(vaultHost: string): TokenBucket {
    return this.hosts.host(vaultHost).bucket;
  }

  /** Closes the connection pools of idle vault hosts (called periodically). */
  sweep(): void {
    this.hosts.sweep();
  }

  /** Closes every connection pool. */
  close(): void {
    this.hosts.close();
  }

  /** One Key Vault read with the bucket, the timeout and the retries; a cold host's first call goes alone. */
  private async call<T>(
    ctx: VaultCallContext,
    operation: (call: Parameters<KeyVaultRest['getObject']>[0]) => Promise<T>,
  ): Promise<T> {
    const entry = this.hosts.host(new URL(ctx.vaultUrl).host);
    // In use from here on: the host's pool is not closed under this call.
    entry.active++;
    try {
      return await this.callOn(entry, ctx, operation);
    } finally {
      entry.active--;
    }
  }

  private async callOn<T>(
    entry: VaultHost,
    ctx: VaultCallContext,
    operation: (call: Parameters<KeyVaultRest['getObject']>[0]) => Promise<T>,
  ): Promise<T> {
    const { host, bucket, gate } = entry;
    const timeoutMs = this.props.requestTimeoutMs ?? 30_000;
    return withRetries(
      async () => {
        if (await bucket.acquire(ctx.priority, ctx.signal)) this.props.onRateLimitWait?.(host, ctx.priority);
        return gate.run(() =>
          attemptWithTimeout(timeoutMs, ctx.signal, (signal) =>
            operation({
              vaultUrl: ctx.vaultUrl,
              credential: ctx.credential,
              agent: entry.agent,
              disableChallengeResourceVerification: ctx.disableChallengeResourceVerification,
              signal,
            }),
          ),
        );
      },
      {
        maxRetries: this.props.maxRetries ?? 3,
        baseDelayMs: this.props.baseDelayMs ?? 800,
        maxDelayMs: this.props.maxDelayMs ?? 30_000,
        maxRetryAfterMs: this.props.maxRetryAfterMs ?? 60_000,
        classify: classifyKeyVaultError,
        random: this.props.random,
        signal: ctx.signal,
        onRetry: (_attempt, delayMs, decision) => {
          // A throttled vault is throttled for every mount on this node: hold them all.
          if (decision.reason === 'throttled') bucket.pauseUntil(Date.now() + delayMs);
          this.props.onRetry?.(host, decision, delayMs);
        },
      },
    );
  }

  getObject(
    ctx: VaultCallContext,
    type: VaultObjectType,
    name: string,
    version: string,
  ): Promise<FetchedObject> {
    return this.call(ctx, (call) => this.rest.getObject(call, type, name, version));
  }

  listVersions(ctx: VaultCallContext, type: VaultObjectType, name: string): Promise<ObjectVersionInfo[]> {
    return this.call(ctx, (call) => this.rest.listVersions(call, type, name));
  }
}

async function attemptWithTimeout<T>(
  timeoutMs: number,
  outer: AbortSignal | undefined,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  // A caller that went while it waited (for the host's first call, say) sends nothing: its abort event
  // has fired already, so the listener below would never hear it and the request would run unowned,
  // holding the host's first-call gate for every later Mount.
  outer?.throwIfAborted();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new KeyVaultTimeoutError(timeoutMs)), timeoutMs);
  const onOuterAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    return await run(controller.signal);
  } catch (err) {
    if (controller.signal.aborted && controller.signal.reason instanceof KeyVaultTimeoutError)
      throw controller.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
  }
}
