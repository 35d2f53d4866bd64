// One credential per identity key, reused across Mounts: @azure/identity credentials for workload
// identity (service-account token as client assertion), VM managed identity (IMDS; endpoint
// override: AZURE_POD_IDENTITY_AUTHORITY_HOST, as @azure/identity honours it) and service
// principals, each behind a token cache. The authority is the cloud's activeDirectoryEndpoint.
import {
  ClientAssertionCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  TokenCredential,
} from '@azure/identity';
import type { CloudEnvironment } from '../clouds';
import { IdentityConfig } from './auth-config';
import { CachingCredential } from './caching-credential';
import { PodIdentityCredential } from './pod-identity-credential';

/** Options of the pool. */
export interface CredentialPoolProps {
  /** Most identities kept; the least recently used is dropped. @default 1000 */
  readonly maxEntries?: number;
  /** Refresh tokens this long before expiry. @default 300000 */
  readonly refreshMarginMs?: number;
  /** Called whenever a token is requested from Entra ID / IMDS / NMI (kind = identity kind). */
  readonly onTokenRequest?: (kind: IdentityConfig['kind']) => void;
}

interface PoolEntry {
  readonly credential: TokenCredential;
  /** Latest service-account token presented for this identity (workload identity). */
  assertion: string;
}

export class CredentialPool {
  private readonly entries = new Map<string, PoolEntry>();

  constructor(private readonly props: CredentialPoolProps = {}) {}

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
      };
      holder.entry = entry;
      this.entries.set(identityKey, entry);
      const max = this.props.maxEntries ?? 1000;
      while (this.entries.size > max) this.entries.delete(this.entries.keys().next().value as string);
    }
    // The newest token of the same service account is always the one to present.
    if (identity.kind === 'workload-identity') entry.assertion = identity.serviceAccountToken;
    return entry.credential;
  }

  private createCredential(
    identity: IdentityConfig,
    tenantId: string,
    cloud: CloudEnvironment,
    assertion: () => string,
  ): TokenCredential {
    const authorityOptions = {
      authorityHost: cloud.activeDirectoryEndpoint,
      // Instance discovery only knows Microsoft's clouds; a custom cloud file may point anywhere.
      disableInstanceDiscovery: cloud.custom || cloud.name !== 'AzurePublicCloud',
    };
    switch (identity.kind) {
      case 'workload-identity':
        return new ClientAssertionCredential(
          tenantId,
          identity.clientId,
          async () => assertion(),
          authorityOptions,
        );
      case 'service-principal':
        return new ClientSecretCredential(
          tenantId,
          identity.clientId,
          identity.clientSecret,
          authorityOptions,
        );
      case 'managed-identity':
        return identity.clientId
          ? new ManagedIdentityCredential({ clientId: identity.clientId })
          : new ManagedIdentityCredential();
      case 'pod-identity':
        return new PodIdentityCredential({
          podName: identity.podName,
          podNamespace: identity.podNamespace,
          resource: cloud.keyVaultEndpoint.replace(/\/$/, ''),
        });
    }
  }
}
