// Key Vault reads through the Azure SDK clients, one set per (identity, vault) so the SDK's 401
// challenge and token are done once per identity and vault rather than once per Mount. Every call
// passes the vault's token bucket, has a per-attempt timeout and bounded retries. Connection pools
// are per vault host and shared by all identities (vault-hosts.ts). A client set always asks the
// credential the latest Mount of its identity brought: the pool may have re-created it (a workload
// identity's credential carries the newest service-account token), and a client bound for good to
// the first one would present an expired token once that one's Entra token runs out.
import type { AgentOptions } from 'node:https';
import { createDefaultHttpClient } from '@azure/core-rest-pipeline';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { FirstCallGate } from './first-call-gate';
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
  /** Most cached client sets (identity × vault), over all hosts. @default 1000 */
  readonly maxClients?: number;
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

/** A client set bound to one identity and vault. */
interface VaultClients {
  readonly secrets: SecretClient;
  readonly keys: KeyClient;
  readonly certificates: CertificateClient;
  /** Each SDK client takes its own 401 challenge, so each has its own gate. */
  readonly gates: Record<VaultObjectType, FirstCallGate>;
  /** The credential the clients ask: the one the latest call of this identity brought. */
  readonly credential: { current: TokenCredential };
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
  readonly hosts: VaultHosts<VaultClients>;
  // One HTTP client for every SDK client: the connection pool is the request's agent (per host).
  private readonly httpClient = createDefaultHttpClient();

  constructor(private readonly props: VaultAccessProps = {}) {
    this.hosts = new VaultHosts({
      ratePerSecond: props.vaultRatePerSecond ?? 50,
      burst: props.vaultBurst ?? 100,
      maxClientSets: props.maxClients,
      maxHosts: props.maxVaultHosts,
      idleMs: props.vaultHostIdleMs,
      tlsAgentOptions: props.tlsAgentOptions,
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

  private clientsFor(host: VaultHost<VaultClients>, ctx: VaultCallContext): VaultClients {
    const key = `${ctx.identityKey}|${ctx.vaultUrl}|${ctx.disableChallengeResourceVerification}`;
    const clients = this.hosts.clientSet(host, key, () => {
      const credential = { current: ctx.credential };
      const forwarding: TokenCredential = {
        getToken: (scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> =>
          credential.current.getToken(scopes, options),
      };
      // Retries are ours (bucket-aware); the SDK's own retry policy is switched off.
      const options = {
        httpClient: this.httpClient,
        agent: host.agent,
        serviceVersion: '7.4' as const,
        disableChallengeResourceVerification: ctx.disableChallengeResourceVerification,
        retryOptions: { maxRetries: 0 },
        userAgentOptions: { userAgentPrefix: 'aks-secrets-store-provider' },
      };
      return {
        secrets: new SecretClient(ctx.vaultUrl, forwarding, options),
        keys: new KeyClient(ctx.vaultUrl, forwarding, options),
        certificates: new CertificateClient(ctx.vaultUrl, forwarding, options),
        gates: { secret: new FirstCallGate(), key: new FirstCallGate(), cert: new FirstCallGate() },
        credential,
      };
    });
    clients.credential.current = ctx.credential;
    return clients;
  }

  /** Calls the client of `type`; on a cold client the first attempt goes alone (see FirstCallGate). */
  private async call<T>(
    ctx: VaultCallContext,
    type: VaultObjectType,
    operation: (clients: VaultClients, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const host = new URL(ctx.vaultUrl).host;
    const entry = this.hosts.host(host);
    // In use from here on: the host's pool is not closed under this call.
    entry.active++;
    try {
      return await this.callOn(entry, ctx, type, operation);
    } finally {
      entry.active--;
    }
  }

  private async callOn<T>(
    entry: VaultHost<VaultClients>,
    ctx: VaultCallContext,
    type: VaultObjectType,
    operation: (clients: VaultClients, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const host = entry.host;
    const clients = this.clientsFor(entry, ctx);
    const gate = clients.gates[type];
    const bucket = entry.bucket;
    const timeoutMs = this.props.requestTimeoutMs ?? 30_000;
    return withRetries(
      async () => {
        if (await bucket.acquire(ctx.priority, ctx.signal)) this.props.onRateLimitWait?.(host, ctx.priority);
        return gate.run(() =>
          attemptWithTimeout(timeoutMs, ctx.signal, (signal) => operation(clients, signal)),
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

  async getObject(
    ctx: VaultCallContext,
    type: VaultObjectType,
    name: string,
    version: string,
  ): Promise<FetchedObject> {
    switch (type) {
      case 'secret':
        return this.call(ctx, 'secret', async ({ secrets }, abortSignal) => {
          const secret = await secrets.getSecret(name, { version, abortSignal });
          return {
            type: 'secret',
            value: secret.value,
            id: secret.properties.id,
            version: secret.properties.version ?? '',
            contentType: secret.properties.contentType,
            kid: secret.properties.certificateKeyId,
          };
        });
      case 'key':
        return this.call(ctx, 'key', async ({ keys }, abortSignal) => {
          const key = await keys.getKey(name, { version, abortSignal });
          return { type: 'key', kid: key.key?.kid, version: key.properties.version ?? '', jwk: key.key };
        });
      case 'cert':
        return this.call(ctx, 'cert', async ({ certificates }, abortSignal) => {
          const cert =
            version === ''
              ? await certificates.getCertificate(name, { abortSignal })
              : await certificates.getCertificateVersion(name, version, { abortSignal });
          return {
            type: 'cert',
            id: cert.properties.id ?? cert.id,
            version: cert.properties.version ?? '',
            cer: cert.cer,
          };
        });
    }
  }

  async listVersions(
    ctx: VaultCallContext,
    type: VaultObjectType,
    name: string,
  ): Promise<ObjectVersionInfo[]> {
    return this.call(ctx, type, async (clients, abortSignal) => {
      const versions: ObjectVersionInfo[] = [];
      const pages =
        type === 'secret'
          ? clients.secrets.listPropertiesOfSecretVersions(name, { abortSignal })
          : type === 'key'
            ? clients.keys.listPropertiesOfKeyVersions(name, { abortSignal })
            : clients.certificates.listPropertiesOfCertificateVersions(name, { abortSignal });
      for await (const item of pages)
        versions.push({ version: item.version ?? '', createdOn: item.createdOn, enabled: item.enabled });
      return versions;
    });
  }
}

async function attemptWithTimeout<T>(
  timeoutMs: number,
  outer: AbortSignal | undefined,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
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
