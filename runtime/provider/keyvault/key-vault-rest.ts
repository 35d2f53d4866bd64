// Key Vault's REST API as the provider reads it (api-version 7.4, what the Azure SDK clients sent):
// GET a secret, key or certificate version, and list an object's versions page by page. Bearer
// challenge as the SDK's keyvault authentication policy does it: a request without a token draws the
// vault's 401 and its WWW-Authenticate `resource`/`scope`; that scope, checked against the vault host
// (a look-alike host never gets a token for vault.azure.net), is kept per vault host, so every later
// request of every identity carries its token at once. The answers are turned into the shapes the SDK
// returned (versions parsed from the ids, byte fields decoded from base64url), so content/ sees no
// difference; test/runtime/provider/key-vault-rest.test.ts runs both side by side against the fake vault.
import type { Agent } from 'node:https';
import type { TokenCredential } from '../identity/token-credential';
import { httpsRequest, HttpsResponse, HttpsTransportError, headerValue } from '../rest/https-request';
import type { KeyVaultJwk } from '../content/public-key';
import type { FetchedObject, ObjectVersionInfo, VaultObjectType } from './types';

/** The REST API version of every call. */
export const KEY_VAULT_API_VERSION = '7.4';
/** Largest response body read (a secret is at most 25 KiB; a versions page of 25 items a few KiB). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Most pages of one versions listing (25 versions each). */
const MAX_VERSION_PAGES = 400;
const COLLECTION: Record<VaultObjectType, string> = { secret: 'secrets', key: 'keys', cert: 'certificates' };

/** A Key Vault answer other than 200, or no answer at all (`statusCode` undefined, `code` Node's). */
export class KeyVaultRestError extends Error {
  constructor(
    message: string,
    readonly statusCode: number | undefined,
    readonly code: string | undefined,
    /** Retry-After of the answer, as sent. */
    readonly retryAfter: string | undefined,
    /** The request carried a bearer token (a non-401 answer then proves the vault accepted it). */
    readonly authenticated: boolean,
  ) {
    super(message);
    this.name = 'KeyVaultRestError';
  }
}

/** The vault's WWW-Authenticate challenge did not name a scope this client may send a token for. */
export class KeyVaultChallengeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyVaultChallengeError';
  }
}

/** Who calls, on which connection pool. */
export interface KeyVaultCall {
  readonly vaultUrl: string;
  readonly credential: TokenCredential;
  readonly agent: Agent;
  /** Skip the check that the challenge resource is a parent domain of the vault host (custom clouds). */
  readonly disableChallengeResourceVerification: boolean;
  readonly signal?: AbortSignal;
}

/** The scope a vault host's challenge named, learnt once per host. */
export interface ChallengeScopes {
  get(host: string): string | undefined;
  set(host: string, scope: string): void;
}

const CHALLENGE_PARAMETERS = [
  'authorization',
  'authorization_url',
  'resource',
  'scope',
  'tenantId',
  'claims',
  'error',
];

/**
 * `Bearer authorization="...", resource="..."` → its parameters, parsed as the SDK's keyvault-common
 * parses them: quoted values only, names from Key Vault's list, case as sent.
 */
export function parseBearerChallenge(header: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const part of header.split(/,? +/)) {
    if (!/\w="/.test(part)) continue;
    const [key, ...value] = part.split('=');
    if (CHALLENGE_PARAMETERS.includes(key)) params[key] = value.join('=').slice(1, -1);
  }
  return params;
}

/**
 * The token scope a challenge asks for (`resource` + "/.default", else `scope`, as the SDK takes it),
 * checked against the vault host unless verification is off; undefined when the challenge names none.
 */
export function challengeScope(
  header: string,
  vaultHost: string,
  verifyResource: boolean,
): string | undefined {
  const params = parseBearerChallenge(header);
  const scope = params.resource ? `${params.resource}/.default` : params.scope;
  if (!scope) return undefined;
  if (verifyResource) {
    let resourceHost: string;
    try {
      resourceHost = new URL(scope).hostname;
    } catch {
      throw new KeyVaultChallengeError(`The challenge contains invalid scope '${scope}'`);
    }
    const host = vaultHost.replace(/:\d+$/, '');
    if (!host.endsWith(`.${resourceHost}`))
      throw new KeyVaultChallengeError(
        `The challenge resource '${resourceHost}' does not match the requested domain ${host}, so no token is sent to it. See https://aka.ms/azsdk/blog/vault-uri for more information.`,
      );
  }
  return scope;
}

/** The error of a non-200 answer, worded as the SDK's RestError: Key Vault's own message and code. */
function restError(response: HttpsResponse, authenticated: boolean): KeyVaultRestError {
  let message = `Unexpected status code: ${response.status}`;
  let code: string | undefined;
  try {
    const parsed = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } };
    const inner = (parsed?.error ?? parsed) as { code?: unknown; message?: unknown };
    if (typeof inner?.message === 'string') message = inner.message;
    if (typeof inner?.code === 'string') code = inner.code;
  } catch {
    // Not JSON (a proxy's page): the status says it.
  }
  return new KeyVaultRestError(
    message,
    response.status,
    code,
    headerValue(response, 'retry-after'),
    authenticated,
  );
}

/** The version segment of an object id `https://<vault>/<collection>/<name>/<version>`, '' when absent. */
export function versionOfId(id: string | undefined, collection: string): string {
  if (!id) return '';
  let segments: string[];
  try {
    segments = new URL(id).pathname.split('/').filter(Boolean);
  } catch {
    return '';
  }
  const at = segments.indexOf(collection);
  return at >= 0 ? (segments[at + 2] ?? '') : '';
}

const bytes = (value: unknown): Uint8Array | undefined =>
  typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'base64url')) : undefined;
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

interface Attributes {
  enabled?: boolean;
  created?: number;
}

export class KeyVaultRest {
  constructor(private readonly scopes: ChallengeScopes) {}

  async getObject(
    call: KeyVaultCall,
    type: VaultObjectType,
    name: string,
    version: string,
  ): Promise<FetchedObject> {
    const collection = COLLECTION[type];
    const url = new URL(
      `${collection}/${encodeURIComponent(name)}/${encodeURIComponent(version)}`,
      call.vaultUrl,
    );
    url.searchParams.set('api-version', KEY_VAULT_API_VERSION);
    const body = (await this.getJson(call, url)) as Record<string, unknown>;
    switch (type) {
      case 'secret': {
        const id = text(body.id);
        return {
          type: 'secret',
          value: text(body.value),
          id,
          version: versionOfId(id, collection),
          contentType: text(body.contentType),
          kid: text(body.kid),
        };
      }
      case 'key': {
        const key = (body.key ?? {}) as Record<string, unknown>;
        const jwk: KeyVaultJwk = {
          kty: text(key.kty),
          crv: text(key.crv),
          n: bytes(key.n),
          e: bytes(key.e),
          x: bytes(key.x),
          y: bytes(key.y),
        };
        const kid = text(key.kid);
        return { type: 'key', kid, version: versionOfId(kid, collection), jwk: body.key ? jwk : undefined };
      }
      case 'cert': {
        const id = text(body.id);
        return { type: 'cert', id, version: versionOfId(id, collection), cer: bytes(body.cer) };
      }
    }
  }

  /** Every version of an object (all pages, following nextLink on the vault's own origin only). */
  async listVersions(call: KeyVaultCall, type: VaultObjectType, name: string): Promise<ObjectVersionInfo[]> {
    const collection = COLLECTION[type];
    let url: URL | undefined = new URL(`${collection}/${encodeURIComponent(name)}/versions`, call.vaultUrl);
    url.searchParams.set('api-version', KEY_VAULT_API_VERSION);
    const origin = url.origin;
    const versions: ObjectVersionInfo[] = [];
    for (let page = 0; url; page++) {
      if (page >= MAX_VERSION_PAGES)
        throw new KeyVaultRestError(
          `${name} has more than ${MAX_VERSION_PAGES} pages of versions`,
          undefined,
          'TOO_MANY_VERSIONS',
          undefined,
          true,
        );
      const body = (await this.getJson(call, url)) as { value?: unknown; nextLink?: unknown };
      for (const item of Array.isArray(body.value) ? (body.value as Array<Record<string, unknown>>) : []) {
        const attributes = (item.attributes ?? {}) as Attributes;
        versions.push({
          version: versionOfId(text(type === 'key' ? item.kid : item.id), collection),
          createdOn: typeof attributes.created === 'number' ? new Date(attributes.created * 1000) : undefined,
          enabled: typeof attributes.enabled === 'boolean' ? attributes.enabled : undefined,
        });
      }
      url = undefined;
      if (typeof body.nextLink === 'string' && body.nextLink !== '') {
        const next = new URL(body.nextLink);
        if (next.origin !== origin)
          throw new KeyVaultRestError(
            `the versions listing of ${name} points to another host (${next.host}); it is not followed`,
            undefined,
            'FOREIGN_NEXT_LINK',
            undefined,
            true,
          );
        if (!next.searchParams.has('api-version'))
          next.searchParams.set('api-version', KEY_VAULT_API_VERSION);
        url = next;
      }
    }
    return versions;
  }

  /** GET with the bearer flow; the 200 body parsed, anything else a KeyVaultRestError. */
  private async getJson(call: KeyVaultCall, url: URL): Promise<unknown> {
    const host = url.host;
    let scope = this.scopes.get(host);
    let response = await this.send(call, url, scope);
    if (response.status === 401) {
      const challenge = headerValue(response, 'www-authenticate');
      if (challenge === undefined) throw restError(response, scope !== undefined);
      const asked = challengeScope(challenge, host, !call.disableChallengeResourceVerification);
      // A first request (no token yet), or a vault that now names another scope: once more with its
      // token. A 401 to a token for the scope already known is the answer (the SDK asked its token
      // cycler once more, which hands back the same token).
      if (asked !== undefined && asked !== scope) {
        this.scopes.set(host, asked);
        scope = asked;
        response = await this.send(call, url, scope);
      }
    }
    if (response.status !== 200) throw restError(response, scope !== undefined);
    try {
      return JSON.parse(response.body);
    } catch {
      throw new KeyVaultRestError(
        `Key Vault answered 200 with a body that is not JSON`,
        200,
        'INVALID_RESPONSE',
        undefined,
        true,
      );
    }
  }

  private async send(call: KeyVaultCall, url: URL, scope: string | undefined): Promise<HttpsResponse> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'aks-secrets-store-provider',
    };
    if (scope !== undefined) {
      const token = await call.credential.getToken(scope, { abortSignal: call.signal });
      if (!token) throw new KeyVaultChallengeError('the identity returned no access token');
      headers.authorization = `Bearer ${token.token}`;
    }
    try {
      return await httpsRequest({
        method: 'GET',
        url,
        headers,
        agent: call.agent,
        signal: call.signal,
        maxBodyBytes: MAX_BODY_BYTES,
      });
    } catch (err) {
      if (err instanceof HttpsTransportError)
        throw new KeyVaultRestError(err.message, undefined, err.code, undefined, scope !== undefined);
      throw err;
    }
  }
}
