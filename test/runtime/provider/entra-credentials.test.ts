// The provider's own Entra ID and IMDS credentials (identity/entra-credentials.ts over
// entra-token-client.ts, identity/managed-identity-credential.ts) side by side with the @azure/identity
// credentials they replaced (kept as dev dependencies for this proof), against the fake Entra ID over
// real HTTPS and the fake IMDS: for a service principal's secret, a workload identity's federated
// service-account token and a VM managed identity (system- and user-assigned), both get a token for
// the same client, tenant and scope with the same lifetime and refresh time, and every refusal carries
// the same text (MSAL's `<error>: Error(s): ... - Description: AADSTS...`), which the Mount error shows.
import {
  ClientAssertionCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
} from '@azure/identity';
import { FakeAzure, startFakeAzure } from '../../../harness/fakes/fake-azure';
import { FakeImds } from '../../../harness/fakes/fake-imds';
import {
  ClientAssertionTokenCredential,
  ClientSecretTokenCredential,
} from '../../../runtime/provider/identity/entra-credentials';
import { EntraTokenClient } from '../../../runtime/provider/identity/entra-token-client';
import { ImdsManagedIdentityCredential } from '../../../runtime/provider/identity/managed-identity-credential';
import type { TokenCredential } from '../../../runtime/provider/identity/token-credential';

const TENANT = '11111111-2222-3333-4444-555555555555';
const OTHER_TENANT = '22222222-2222-3333-4444-555555555555';
const SCOPE = 'https://vault.fake.test/.default';
const MI_SCOPE = 'https://vault.azure.net/.default';
const SUBJECT = 'system:serviceaccount:team-a:web';

let azure: FakeAzure;
let imds: FakeImds;
let entra: EntraTokenClient;
const savedHost = process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;

/** A service-account-token-shaped JWT (unsigned; the fake checks claims, not signatures). */
function serviceAccountToken(sub: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iss: 'https://oidc.fake.test/', sub, aud: ['api://AzureADTokenExchange'], exp: 4102444800 })}.c2ln`;
}

beforeAll(async () => {
  azure = await startFakeAzure({ tenantId: TENANT });
  azure.entra.addClientSecret({ tenantId: TENANT, clientId: 'sp', clientSecret: 'right-secret' });
  azure.entra.addFederatedClient({ tenantId: TENANT, clientId: 'wi', subject: SUBJECT });
  imds = await FakeImds.start({ systemAssignedClientId: 'mi-system', userAssignedClientIds: ['mi-user'] });
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = imds.endpoint;
  entra = new EntraTokenClient({ agent: azure.agent as never, baseDelayMs: 10 });
});

afterAll(async () => {
  if (savedHost === undefined) delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
  else process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = savedHost;
  await azure?.dispose();
  await imds?.close();
});

interface Outcome {
  /** Who the fake issued the token to (undefined when refused). */
  readonly issuedTo?: unknown;
  /** Lifetime and refresh time, seconds from now (rounded to 10 s: the two requests are not simultaneous). */
  readonly lifetime?: number;
  readonly refreshIn?: number;
  /** The refusal's text, its timestamp masked (the fake stamps each answer). */
  readonly error?: string;
}

async function outcome(
  credential: Pick<TokenCredential, 'getToken'>,
  scope: string,
  tokenInfo: (token: string) => unknown,
): Promise<Outcome> {
  const seconds = (at: number) => Math.round((at - Date.now()) / 10_000) * 10;
  try {
    const token = await credential.getToken(scope);
    if (!token) return { error: 'no token' };
    return {
      issuedTo: tokenInfo(token.token),
      lifetime: seconds(token.expiresOnTimestamp),
      refreshIn: token.refreshAfterTimestamp === undefined ? undefined : seconds(token.refreshAfterTimestamp),
    };
  } catch (err) {
    return { error: (err as Error).message.replace(/Timestamp: [^-]+ -/, 'Timestamp: <t> -') };
  }
}

const sdkOptions = () => ({
  authorityHost: azure.authorityHost,
  agent: azure.agent as never,
  // The provider's clouds other than AzurePublicCloud skip discovery; the fake is one of those.
  disableInstanceDiscovery: true,
});
const app = (tenantId: string, clientId: string) => ({
  authorityHost: `${azure.authorityHost}/`,
  tenantId,
  clientId,
});

describe.each([
  ['a service principal with its secret', TENANT, 'sp', 'right-secret'],
  ['a wrong client secret', TENANT, 'sp', 'wrong-secret'],
  ['an unknown client id', TENANT, 'nobody', 'right-secret'],
  ['another tenant', OTHER_TENANT, 'sp', 'right-secret'],
])('client secret: %s', (_name, tenantId, clientId, secret) => {
  it('gets the answer @azure/identity ClientSecretCredential got', async () => {
    const tokenInfo = (token: string) => azure.entra.tokenInfo(token);
    const sdk = await outcome(
      new ClientSecretCredential(tenantId, clientId, secret, sdkOptions()),
      SCOPE,
      tokenInfo,
    );
    const ours = await outcome(
      new ClientSecretTokenCredential(entra, app(tenantId, clientId), secret),
      SCOPE,
      tokenInfo,
    );
    expect(ours).toEqual(sdk);
    if (secret === 'right-secret' && clientId === 'sp' && tenantId === TENANT)
      expect(ours.issuedTo).toEqual({ tenantId, clientId, scope: SCOPE, grant: 'client_secret' });
    else
      expect(ours.error).toMatch(
        /^(invalid_client|unauthorized_client): Error\(s\): \d+ .* Description: AADSTS/,
      );
  });
});

describe.each([
  ['the federated service account', SUBJECT],
  ['another service account', 'system:serviceaccount:team-a:other'],
])('workload identity: %s', (_name, subject) => {
  it('gets the answer @azure/identity ClientAssertionCredential got', async () => {
    const tokenInfo = (token: string) => azure.entra.tokenInfo(token);
    const assertion = serviceAccountToken(subject);
    const sdk = await outcome(
      new ClientAssertionCredential(TENANT, 'wi', async () => assertion, sdkOptions()),
      SCOPE,
      tokenInfo,
    );
    const ours = await outcome(
      new ClientAssertionTokenCredential(entra, app(TENANT, 'wi'), () => assertion),
      SCOPE,
      tokenInfo,
    );
    expect(ours).toEqual(sdk);
    if (subject === SUBJECT) expect(ours.issuedTo).toMatchObject({ clientId: 'wi', scope: SCOPE });
    else expect(ours.error).toContain('AADSTS70021');
  });
});

describe.each([
  ['the system-assigned identity', undefined],
  ['a user-assigned identity', 'mi-user'],
  ['an identity not attached to the VM', 'mi-missing'],
])('managed identity: %s', (_name, clientId) => {
  it('gets the answer @azure/identity ManagedIdentityCredential got', async () => {
    const tokenInfo = (token: string) => imds.tokenInfo(token);
    const sdk = await outcome(
      new ManagedIdentityCredential(clientId ? { clientId } : {}),
      MI_SCOPE,
      tokenInfo,
    );
    const ours = await outcome(
      new ImdsManagedIdentityCredential({ clientId, baseDelayMs: 10 }),
      MI_SCOPE,
      tokenInfo,
    );
    expect(ours).toEqual(sdk);
    if (clientId === 'mi-missing')
      expect(ours.error).toBe(
        'ManagedIdentityCredential: Authentication failed. Message invalid_request: Error(s): Not Available - Timestamp: <t> - Description: Identity not found - Correlation ID: Not Available - Trace ID: Not Available',
      );
    else
      expect(ours.issuedTo).toEqual({
        clientId: clientId ?? 'mi-system',
        resource: 'https://vault.azure.net',
      });
  });
});

test('one OpenID metadata request per authority, then one token request per token', async () => {
  const client = new EntraTokenClient({ agent: azure.agent as never });
  azure.entra.resetStats();
  for (let i = 0; i < 3; i++)
    await new ClientSecretTokenCredential(client, app(TENANT, 'sp'), 'right-secret').getToken(SCOPE);
  expect(azure.entra.stats()).toMatchObject({ metadataRequests: 1, tokenRequests: 3 });
});

test('cold token requests of one authority at once share one OpenID metadata request (a node boot)', async () => {
  const client = new EntraTokenClient({ agent: azure.agent as never });
  azure.entra.resetStats();
  const tokens = await Promise.all(
    Array.from({ length: 20 }, () =>
      new ClientSecretTokenCredential(client, app(TENANT, 'sp'), 'right-secret').getToken(SCOPE),
    ),
  );
  expect(tokens.every((t) => typeof t?.token === 'string')).toBe(true);
  expect(azure.entra.stats()).toMatchObject({ metadataRequests: 1, tokenRequests: 20 });
});

test('a caller that gives up does not fail the others sharing its metadata request', async () => {
  const client = new EntraTokenClient({ agent: azure.agent as never });
  azure.entra.resetStats();
  azure.entra.latencyMs = 200;
  try {
    const leaving = new AbortController();
    const first = new ClientSecretTokenCredential(client, app(TENANT, 'sp'), 'right-secret').getToken(SCOPE, {
      abortSignal: leaving.signal,
    });
    const second = new ClientSecretTokenCredential(client, app(TENANT, 'sp'), 'right-secret').getToken(SCOPE);
    leaving.abort(new Error('the Mount was cancelled'));
    await expect(first).rejects.toThrow('the Mount was cancelled');
    expect(typeof (await second)?.token).toBe('string');
    expect(azure.entra.stats()).toMatchObject({ metadataRequests: 1 });
  } finally {
    azure.entra.latencyMs = 0;
  }
});

test('an unreachable Entra ID fails naming the host, without retrying a name that does not resolve', async () => {
  const client = new EntraTokenClient({ baseDelayMs: 10 });
  await expect(
    new ClientSecretTokenCredential(
      client,
      { authorityHost: 'https://login.invalid/', tenantId: TENANT, clientId: 'sp' },
      'right-secret',
    ).getToken(SCOPE),
  ).rejects.toThrow(/^network_error: login\.invalid: /);
});
