// Which identity a Mount uses, decided exactly as upstream's buildAuthConfig/NewConfig (reference
// azure-provider §3.1), with the same error texts. The result also carries the identity key that
// scopes every cache entry and every reused credential: two requests share cached values only
// when their keys are equal.
import { createHash } from 'node:crypto';
import { serviceAccountSubject } from '../../../lib/core/workload-wiring';

export type IdentityModeName = 'None' | 'PodIdentity' | 'VMManagedIdentity' | 'AzureTokenProxy';

export const WORKLOAD_IDENTITY_AUDIENCE = 'api://AzureADTokenExchange';
export const IDENTITY_BINDING_AUDIENCE = 'api://AKSIdentityBinding';

/** Workload identity: a service-account token exchanged for an Entra token of `clientId`. */
export interface WorkloadIdentity {
  readonly kind: 'workload-identity';
  readonly clientId: string;
  readonly serviceAccountToken: string;
  /** `<namespace>/<name>` of the service account the token was issued to. */
  readonly serviceAccount: string;
}

/** The node's managed identity through IMDS (system-assigned when `clientId` is empty). */
export interface ManagedIdentity {
  readonly kind: 'managed-identity';
  readonly clientId: string;
}

/** A service principal from the nodePublishSecretRef Secret. */
export interface ServicePrincipal {
  readonly kind: 'service-principal';
  readonly clientId: string;
  readonly clientSecret: string;
}

/** AAD Pod Identity (deprecated): the NMI on the node answers per pod. */
export interface PodIdentity {
  readonly kind: 'pod-identity';
  readonly podName: string;
  readonly podNamespace: string;
}

/**
 * Identity binding (AKS): a service-account token for api://AKSIdentityBinding exchanged through the
 * AKS token proxy for a token of the user-assigned managed identity `clientId`.
 */
export interface IdentityBinding {
  readonly kind: 'identity-binding';
  readonly clientId: string;
  readonly serviceAccountToken: string;
  /** `system:serviceaccount:<namespace>:<name>` of the token (unverified; keys caches only). */
  readonly serviceAccount: string;
}

export type IdentityConfig =
  WorkloadIdentity | IdentityBinding | ManagedIdentity | ServicePrincipal | PodIdentity;

/** Inputs of the identity decision (parameter values, already trimmed). */
export interface AuthConfigInput {
  readonly mode: IdentityModeName;
  readonly userAssignedIdentityId: string;
  readonly clientId: string;
  /** Raw `csi.storage.k8s.io/serviceAccount.tokens` JSON; '' when absent. */
  readonly serviceAccountTokens: string;
  /** nodePublishSecretRef data; undefined when the driver sent `null`. */
  readonly secrets: Readonly<Record<string, string>> | undefined;
  readonly podName: string;
  readonly podNamespace: string;
  /** `csi.storage.k8s.io/serviceAccount.name`; '' when absent. */
  readonly serviceAccountName: string;
}

function tokenForAudience(tokensJson: string, audience: string): string {
  if (tokensJson === '') throw new Error('service account tokens not found');
  let tokens: unknown;
  try {
    tokens = JSON.parse(tokensJson);
  } catch (err) {
    throw new Error(`failed to unmarshal service account tokens, error: ${(err as Error).message}`);
  }
  const entry =
    tokens !== null && typeof tokens === 'object'
      ? (tokens as Record<string, { token?: unknown }>)[audience]
      : undefined;
  const token = entry && typeof entry === 'object' && typeof entry.token === 'string' ? entry.token : '';
  if (token === '') throw new Error(`token for audience ${audience} not found`);
  return token;
}

/** The `sub` claim of a JWT (unverified: only used to key caches, never to authorize). */
function tokenSubject(jwt: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      sub?: unknown;
    };
    return typeof payload.sub === 'string' ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

/** The token's `sub`, else the pod's service account from the attributes. */
function serviceAccountOf(token: string, input: AuthConfigInput): string {
  const fromAttributes = input.serviceAccountName
    ? serviceAccountSubject(input.podNamespace, input.serviceAccountName)
    : undefined;
  return tokenSubject(token) ?? fromAttributes ?? serviceAccountSubject(input.podNamespace, '<unknown>');
}

function servicePrincipalFromSecrets(
  secrets: Readonly<Record<string, string>> | undefined,
): ServicePrincipal {
  if (secrets === undefined)
    throw new Error('failed to get credentials, nodePublishSecretRef secret is not set');
  let clientId = '';
  let clientSecret = '';
  for (const [key, value] of Object.entries(secrets)) {
    const lower = key.toLowerCase();
    if (lower === 'clientid') clientId = value;
    else if (lower === 'clientsecret') clientSecret = value;
  }
  if (clientId === '') throw new Error('could not find clientid in secrets');
  if (clientSecret === '') throw new Error('could not find clientsecret in secrets');
  return { kind: 'service-principal', clientId, clientSecret };
}

/**
 * Decides the identity. Throws the inner upstream message; the caller wraps it as
 * `failed to build auth config for mode <mode>: <message>`.
 */
export function buildIdentityConfig(input: AuthConfigInput): IdentityConfig {
  if (input.mode === 'AzureTokenProxy') {
    if (input.clientId === '') throw new Error('clientID is required for identity binding');
    if (input.serviceAccountTokens === '')
      throw new Error('service account tokens are required for identity binding');
    let token: string;
    try {
      token = tokenForAudience(input.serviceAccountTokens, IDENTITY_BINDING_AUDIENCE);
    } catch (err) {
      throw new Error(
        `failed to parse service account token for identity binding, error: ${(err as Error).message}`,
      );
    }
    return {
      kind: 'identity-binding',
      clientId: input.clientId,
      serviceAccountToken: token,
      serviceAccount: serviceAccountOf(token, input),
    };
  }
  let serviceAccountToken = '';
  if (input.clientId !== '') {
    // Upstream parses the workload-identity token whenever clientID is set, in every mode.
    try {
      serviceAccountToken = tokenForAudience(input.serviceAccountTokens, WORKLOAD_IDENTITY_AUDIENCE);
    } catch (err) {
      throw new Error(`failed to parse workload identity tokens, error: ${(err as Error).message}`);
    }
  }
  switch (input.mode) {
    case 'PodIdentity':
      return { kind: 'pod-identity', podName: input.podName, podNamespace: input.podNamespace };
    case 'VMManagedIdentity':
      return { kind: 'managed-identity', clientId: input.userAssignedIdentityId };
    case 'None': {
      if (input.clientId !== '' && serviceAccountToken !== '') {
        return {
          kind: 'workload-identity',
          clientId: input.clientId,
          serviceAccountToken,
          serviceAccount: serviceAccountOf(serviceAccountToken, input),
        };
      }
      return servicePrincipalFromSecrets(input.secrets);
    }
  }
}

/**
 * Stable key of an identity within a tenant and authority: client id + tenant + service account
 * (workload identity, identity binding), managed identity client id (IMDS), client id + sha256(secret) (service
 * principal, so a rotated secret is a new identity), pod (pod identity). Never contains a secret.
 */
export function identityKey(identity: IdentityConfig, tenantId: string, authorityHost: string): string {
  switch (identity.kind) {
    case 'workload-identity':
      return `wi|${authorityHost}|${tenantId}|${identity.clientId}|${identity.serviceAccount}`;
    case 'identity-binding':
      return `ib|${authorityHost}|${tenantId}|${identity.clientId}|${identity.serviceAccount}`;
    case 'managed-identity':
      return `mi|${identity.clientId || 'system-assigned'}`;
    case 'service-principal': {
      const secretHash = createHash('sha256').update(identity.clientSecret).digest('hex');
      return `sp|${authorityHost}|${tenantId}|${identity.clientId}|${secretHash}`;
    }
    case 'pod-identity':
      return `pi|${tenantId}|${identity.podNamespace}/${identity.podName}`;
  }
}
