// One credential per identity key, reused across Mounts: workload identity (service-account token as
// client assertion), VM managed identity (IMDS; endpoint override: AZURE_POD_IDENTITY_AUTHORITY_HOST, as
// @azure/identity honoured it) and service principals, each behind a token cache. The Entra ID kinds
// share one EntraTokenClient (one connection pool, one token-endpoint table); the authority is the
// cloud's activeDirectoryEndpoint.
// A workload identity's key names the service account from the token's own (unverified) `sub`
// claim, and a token can reach the provider from a pod author (volumeAttributes, when the CSIDriver
// requests no tokens): so a token is used for an identity, and its cached values are served, only
// once Entra ID has accepted that very token for it (acceptServiceAccountToken). That costs one
// token request per new service-account token (kubelet renews them about hourly per pod), and the
// token Entra returns is kept for the Key Vault calls that follow.
import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { CloudEnvironment } from '../clouds';
import { SingleFlight } from '../single-flight';
import { IdentityBinding, IdentityConfig, WorkloadIdentity } from './auth-config';
import { CachingCredential, IdentityTokenError } from './caching-credential';
import { ClientAssertionTokenCredential, ClientSecretTokenCredential } from './entra-credentials';
import { EntraTokenClient } from './entra-token-client';
import { ImdsManagedIdentityCredential } from './managed-identity-credential';
import { PodIdentityCredential } from './pod-identity-credential';
import type { TokenCredential } from './token-credential';
import { TokenProxyCredential } from './token-proxy-credential';
import { TokenProxyTarget } from './token-proxy-target';

/** Options of the pool. */
export interface CredentialPoolProps {
  /** Most identities kept; the least recently used is dropped. @default 1000 */
  readonly maxEntries?: number;
  /** Refresh tokens this long before expiry. @default 300000 */
  readonly refreshMarginMs?: number;
  /** Called whenever a token is requested from Entra ID / IMDS / NMI (kind = identity kind). */
  readonly onTokenRequest?: (kind: IdentityConfig['kind']) => void;
  /** The client of Entra ID's token endpoints (tests: one that trusts the test CA). @default one on its own pool */
  readonly entra?: EntraTokenClient;
  /** Where identity-binding tokens are requested. @default the in-cluster proxy, server name computed */
  readonly tokenProxy?: TokenProxyTarget;
}

interface PoolEntry {
  readonly credential: CachingCredential;
  /** Latest service-account token Entra ID accepted for this identity (workload identity). */
  assertion: string;
  /** sha256 of each service-account token Entra ID accepted for this identity → its `exp` (ms). */
  readonly acceptedTokens: Map<string, number>;
}

/** Accepted tokens remembered per identity (about one per pod of its service account). */
const MAX_ACCEPTED_TOKENS = 256;

/** The `exp` claim of a JWT in ms (only read once Entra ID has accepted the token). */
function expiresAt(jwt: string): number {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity;
  } catch {
    return Infinity;
  }
}

export class CredentialPool {
  private readonly entries = new Map<string, PoolEntry>();
  private readonly acceptances = new SingleFlight<void>();
  private readonly entra: EntraTokenClient;

  /** The AKS token proxy identity binding uses. */
  readonly tokenProxy: TokenProxyTarget;

  constructor(private readonly props: CredentialPoolProps = {}) {
    // Token requests are rare (one per identity per hour): a few kept-alive sockets serve them all, with
    // one TLS context (Node would build one per connection; see VaultHosts).
    this.entra =
      props.entra ??
      new EntraTokenClient({
        agent: new Agent({
          keepAlive: true,
          maxSockets: 16,
          maxFreeSockets: 2,
          timeout: 60_000,
          secureContext: createSecureContext(),
        }),
      });
    this.tokenProxy = props.tokenProxy ?? new TokenProxyTarget();
  }

  get size(): number {
    return this.entries.size;
  }

  /** The credential for `identity` under `identityKey` (created on first use). */
  credentialFor(
    identityKey: string,
    identity: IdentityConfig,
    tenantId: string,
    cloud: CloudEnvironment,
  ): TokenCredential {
    let entry = this.entries.get(identityKey);
    if (entry) {
      this.entries.delete(identityKey);
      this.entries.set(identityKey, entry);
    } else {
      const holder: { entry?: PoolEntry } = {};
      const inner = this.createCredential(identity, tenantId, cloud, () => holder.entry!.assertion);
      entry = {
        credential: new CachingCredential(inner, {
          refreshMarginMs: this.props.refreshMarginMs,
          onTokenRequest: () => this.props.onTokenRequest?.(identity.kind),
        }),
        assertion: '',
        acceptedTokens: new Map(),
      };
      holder.entry = entry;
      this.entries.set(identityKey, entry);
      const max = this.props.maxEntries ?? 1000;
      while (this.entries.size > max) this.entries.delete(this.entries.keys().next().value as string);
    }
    return entry.credential;
  }

  /**
   * Resolves once Entra ID (for identity binding: the AKS token proxy, which checks the service
   * account may use the identity) has accepted `identity`'s service-account token for it: at once for a
   * token accepted before (and not expired), else after one token exchange with exactly that token
   * (concurrent Mounts presenting it share the exchange). Only then does the token become the one
   * the identity's credential presents. Rejects with Entra ID's answer (IdentityTokenError).
   */
  async acceptServiceAccountToken(
    identityKey: string,
    identity: WorkloadIdentity | IdentityBinding,
    tenantId: string,
    cloud: CloudEnvironment,
    signal?: AbortSignal,
  ): Promise<void> {
    this.credentialFor(identityKey, identity, tenantId, cloud);
    const entry = this.entries.get(identityKey)!;
    const token = identity.serviceAccountToken;
    const hash = createHash('sha256').update(token).digest('hex');
    const expiry = entry.acceptedTokens.get(hash);
    if (expiry !== undefined && expiry > Date.now()) {
      entry.acceptedTokens.delete(hash);
      entry.acceptedTokens.set(hash, expiry);
      return;
    }
    const scope = `${cloud.keyVaultResource}/.default`;
    await this.acceptances.run(
      `${identityKey}|${hash}`,
      async (flightSignal) => {
        this.props.onTokenRequest?.(identity.kind);
        // A credential of its own: the identity's credential (and MSAL's cache in it) must not answer.
        const probe = this.createCredential(identity, tenantId, cloud, () => token);
        let accessToken;
        try {
          accessToken = await probe.getToken(scope, { abortSignal: flightSignal });
        } catch (err) {
          throw new IdentityTokenError(err);
        }
        if (!accessToken) throw new IdentityTokenError(new Error('the identity returned no access token'));
        entry.acceptedTokens.set(hash, expiresAt(token));
        while (entry.acceptedTokens.size > MAX_ACCEPTED_TOKENS)
          entry.acceptedTokens.delete(entry.acceptedTokens.keys().next().value as string);
        // The newest accepted token is the one to present from now on; Entra ID's answer serves the
        // Key Vault calls that follow.
        entry.assertion = token;
        entry.credential.seed(scope, accessToken);
      },
      signal,
    ).result;
  }

  private createCredential(
    identity: IdentityConfig,
    tenantId: string,
    cloud: CloudEnvironment,
    assertion: () => string,
  ): TokenCredential {
    const app = { authorityHost: cloud.activeDirectoryEndpoint, tenantId, clientId: '' };
    switch (identity.kind) {
      case 'workload-identity':
        return new ClientAssertionTokenCredential(
          this.entra,
          { ...app, clientId: identity.clientId },
          assertion,
        );
      case 'identity-binding':
        return new TokenProxyCredential({
          tenantId,
          clientId: identity.clientId,
          assertion,
          authorityHost: cloud.activeDirectoryEndpoint,
          target: this.tokenProxy,
        });
      case 'service-principal':
        return new ClientSecretTokenCredential(
          this.entra,
          { ...app, clientId: identity.clientId },
          identity.clientSecret,
        );
      case 'managed-identity':
        return new ImdsManagedIdentityCredential({ clientId: identity.clientId || undefined });
      case 'pod-identity':
        return new PodIdentityCredential({
          podName: identity.podName,
          podNamespace: identity.podNamespace,
          resource: cloud.keyVaultEndpoint.replace(/\/$/, ''),
        });
    }
  }
}
