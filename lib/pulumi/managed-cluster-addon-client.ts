import { KEY_VAULT_SECRETS_PROVIDER_ADDON_KEY } from '../core/addon-profile';

// What `az aks addon update --addon azure-keyvault-secrets-provider ...` does to a cluster, over ARM's REST API:
// read the managedCluster, change only its azureKeyvaultSecretsProvider add-on profile, write the whole resource
// back (a long-running operation, polled through Azure-AsyncOperation), with the GET's ETag as If-Match so a
// change made meanwhile by someone else is never overwritten (the read-modify-write is retried instead).

/** managedClusters API version the writes use (azure-native's default for ManagedCluster). */
export const MANAGED_CLUSTERS_API_VERSION = '2025-09-01';
export const ARM_ENDPOINT = 'https://management.azure.com';

/** An add-on profile as ARM stores it (config values are strings). */
export interface ArmAddonProfile {
  enabled: boolean;
  config?: Record<string, string>;
  identity?: { clientId?: string; objectId?: string; resourceId?: string };
}

/** What one write did. */
export interface AddonWriteResult {
  /** The key the profile is stored under on this cluster (its casing is kept). */
  readonly key: string;
  /** The profile before the write, or null when the cluster had none. */
  readonly previous: ArmAddonProfile | null;
  /** The profile after the write, as ARM returns it (with the add-on identity when enabled). */
  readonly current: ArmAddonProfile | null;
}

export interface ManagedClusterAddonClientProps {
  /** ARM endpoint. @default https://management.azure.com */
  readonly endpoint?: string;
  /** Bearer token for ARM (never logged). */
  readonly token: string;
  /** Bound on status polls of one operation. @default 720 */
  readonly maxPolls?: number;
  /** Bound on read-modify-write attempts when the cluster changed meanwhile (HTTP 412). @default 5 */
  readonly maxAttempts?: number;
  /** Longest wait between polls, whatever Retry-After says, in ms. @default 10000 */
  readonly maxPollIntervalMs?: number;
}

type ClusterBody = { properties?: { addonProfiles?: Record<string, ArmAddonProfile> } } & Record<
  string,
  unknown
>;

export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ArmError';
  }
}

/** The add-on's key in `addonProfiles`, found case-insensitively as ARM and the az CLI do. */
export function secretsProviderAddonKey(profiles: Record<string, unknown> | undefined): string | undefined {
  const wanted = KEY_VAULT_SECRETS_PROVIDER_ADDON_KEY.toLowerCase();
  return Object.keys(profiles ?? {}).find((key) => key.toLowerCase() === wanted);
}

export class ManagedClusterAddonClient {
  private readonly endpoint: string;

  constructor(private readonly props: ManagedClusterAddonClientProps) {
    this.endpoint = (props.endpoint ?? ARM_ENDPOINT).replace(/\/+$/, '');
  }

  /**
   * Sets the cluster's azureKeyvaultSecretsProvider profile to `profile` (`null` removes it), leaving every other
   * property as it is. Returns the profile before and after.
   */
  async setSecretsProviderAddon(
    clusterId: string,
    profile: ArmAddonProfile | null,
  ): Promise<AddonWriteResult> {
    const attempts = this.props.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const { body, etag } = await this.getCluster(clusterId);
      const profiles = { ...(body.properties?.addonProfiles ?? {}) };
      const key = secretsProviderAddonKey(profiles) ?? KEY_VAULT_SECRETS_PROVIDER_ADDON_KEY;
      const previous = profiles[key] ?? null;
      if (profile === null) delete profiles[key];
      // The identity is AKS's, not ours to send.
      else
        profiles[key] = { enabled: profile.enabled, ...(profile.config ? { config: profile.config } : {}) };
      const { etag: _etag, ...writable } = body as ClusterBody & { etag?: string };
      try {
        await this.putCluster(
          clusterId,
          { ...writable, properties: { ...body.properties, addonProfiles: profiles } },
          etag,
        );
      } catch (error) {
        if (error instanceof ArmError && error.status === 412 && attempt < attempts) continue;
        throw error;
      }
      const after = await this.getCluster(clusterId);
      return { key, previous, current: after.body.properties?.addonProfiles?.[key] ?? null };
    }
  }

  async getCluster(clusterId: string): Promise<{ body: ClusterBody; etag?: string }> {
    const response = await this.request('GET', this.url(clusterId));
    const body = (await response.json()) as ClusterBody;
    return { body, etag: response.headers.get('etag') ?? (body.etag as string | undefined) };
  }

  private async putCluster(clusterId: string, body: ClusterBody, etag: string | undefined): Promise<void> {
    const response = await this.request('PUT', this.url(clusterId), body, etag ? { 'if-match': etag } : {});
    const status = response.headers.get('azure-asyncoperation');
    await response.arrayBuffer();
    if (status) await this.waitForOperation(status, clusterId);
  }

  private async waitForOperation(statusUrl: string, clusterId: string): Promise<void> {
    const maxPolls = this.props.maxPolls ?? 720;
    for (let poll = 0; poll < maxPolls; poll++) {
      const response = await this.request('GET', statusUrl);
      const retryAfter = Number(response.headers.get('retry-after') ?? '5');
      const operation = (await response.json()) as {
        status: string;
        error?: { code?: string; message?: string };
      };
      if (operation.status === 'Succeeded') return;
      if (operation.status === 'Failed' || operation.status === 'Canceled') {
        throw new ArmError(
          200,
          operation.error?.code ?? operation.status,
          `updating ${clusterId}: the operation ${operation.status.toLowerCase()}: ${operation.error?.code ?? ''} ${operation.error?.message ?? ''}`.trim(),
        );
      }
      const waitMs = Math.min(this.props.maxPollIntervalMs ?? 10_000, Math.max(0, retryAfter * 1000));
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
    throw new ArmError(
      0,
      'Timeout',
      `updating ${clusterId}: the operation did not finish within ${maxPolls} polls`,
    );
  }

  private url(clusterId: string): string {
    return `${this.endpoint}${clusterId}?api-version=${MANAGED_CLUSTERS_API_VERSION}`;
  }

  private async request(
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${this.props.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.ok) return response;
    const text = await response.text();
    let code = `HTTP${response.status}`;
    let message = text.slice(0, 500);
    try {
      const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
      code = parsed.error?.code ?? code;
      message = parsed.error?.message ?? message;
    } catch {
      // not ARM's envelope: keep the text
    }
    const path = new URL(url).pathname;
    throw new ArmError(
      response.status,
      code,
      `${method} ${path}: HTTP ${response.status} ${code}: ${message}`,
    );
  }
}
