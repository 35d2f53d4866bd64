// The fake Entra ID token endpoint reached by the real @azure/identity credentials (MSAL underneath):
// client secret, client assertion (workload identity), instance discovery, token caching, errors.
import { ClientAssertionCredential, ClientSecretCredential } from '@azure/identity';
import { FakeAzure, startFakeAzure } from '../../harness/fakes/fake-azure';
import { canUsePrivilegedLoopback } from '../../harness/fakes/loopback-hosts';

const tenantId = '11111111-2222-3333-4444-555555555555';
const spClientId = 'aaaaaaaa-0000-0000-0000-000000000001';
const wiClientId = 'aaaaaaaa-0000-0000-0000-000000000002';
const scope = 'https://vault.fake.test/.default';

let azure: FakeAzure;

beforeAll(async () => {
  azure = await startFakeAzure({ tenantId });
  azure.entra.addClientSecret({ tenantId, clientId: spClientId, clientSecret: 'right-secret' });
  azure.entra.addFederatedClient({
    tenantId,
    clientId: wiClientId,
    subject: 'system:serviceaccount:team-a:web',
  });
});

afterAll(async () => {
  await azure?.dispose();
});

beforeEach(() => azure.entra.resetStats());

const common = () => ({ authorityHost: azure.authorityHost, agent: azure.agent as never });

/** A service-account-token-shaped JWT (unsigned; the fake checks claims, not signatures). */
function serviceAccountToken(sub: string, aud = 'api://AzureADTokenExchange'): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iss: 'https://oidc.fake.test/', sub, aud: [aud], exp: 4102444800 })}.c2ln`;
}

test('client secret: one token request, then MSAL serves the cached token', async () => {
  const credential = new ClientSecretCredential(tenantId, spClientId, 'right-secret', {
    ...common(),
    disableInstanceDiscovery: true,
  });
  const first = await credential.getToken(scope);
  const second = await credential.getToken(scope);
  expect(second.token).toBe(first.token);
  expect(azure.entra.tokenInfo(first.token)).toEqual({
    tenantId,
    clientId: spClientId,
    scope,
    grant: 'client_secret',
  });
  expect(azure.entra.stats()).toMatchObject({
    tokenRequests: 1,
    tokensIssued: 1,
    tokenRequestsByClient: { [spClientId]: 1 },
  });
  expect(azure.entra.stats().metadataRequests).toBeGreaterThanOrEqual(1);
});

test('instance discovery (what MSAL asks login.microsoftonline.com:443 for) is answered', async () => {
  // Discovery always goes to login.microsoftonline.com on port 443, so this needs the 443 setup.
  if (!canUsePrivilegedLoopback()) {
    if (process.env.CI === 'true')
      throw new Error('instance discovery needs root (port 443 on a loopback address); CI runs as root');
    console.log('instance discovery test needs root for port 443; not run outside CI');
    return;
  }
  const on443 = await startFakeAzure({ tenantId, port443: true });
  try {
    on443.entra.addClientSecret({ tenantId, clientId: spClientId, clientSecret: 'right-secret' });
    const credential = new ClientSecretCredential(tenantId, spClientId, 'right-secret', {
      authorityHost: on443.authorityHost,
      agent: on443.agent as never,
    });
    const token = await credential.getToken(scope);
    expect(on443.entra.tokenInfo(token.token)?.clientId).toBe(spClientId);
    expect(on443.entra.stats().discoveryRequests).toBe(1);
  } finally {
    await on443.dispose();
  }
  // Two fake services on :443 with their own certificates start here: 5 s is not enough on a loaded machine.
}, 60_000);

test('a wrong client secret fails with the AADSTS code and no secret in the message', async () => {
  const credential = new ClientSecretCredential(tenantId, spClientId, 'wrong-secret', {
    ...common(),
    disableInstanceDiscovery: true,
  });
  const error = await credential.getToken(scope).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(error?.message).toContain('AADSTS7000215');
  expect(error?.message).not.toContain('wrong-secret');
  expect(azure.entra.stats().tokensIssued).toBe(0);
});

test('client assertion (workload identity): the service-account token is exchanged', async () => {
  const assertion = serviceAccountToken('system:serviceaccount:team-a:web');
  const credential = new ClientAssertionCredential(tenantId, wiClientId, async () => assertion, {
    ...common(),
    disableInstanceDiscovery: true,
  });
  const token = await credential.getToken(scope);
  expect(azure.entra.tokenInfo(token.token)).toEqual({
    tenantId,
    clientId: wiClientId,
    scope,
    grant: 'client_assertion',
  });
});

test('client assertion with another subject or audience is refused', async () => {
  for (const assertion of [
    serviceAccountToken('system:serviceaccount:team-b:web'),
    serviceAccountToken('system:serviceaccount:team-a:web', 'api://other'),
  ]) {
    const credential = new ClientAssertionCredential(tenantId, wiClientId, async () => assertion, {
      ...common(),
      disableInstanceDiscovery: true,
    });
    await expect(credential.getToken(scope)).rejects.toThrow('AADSTS70021');
  }
  expect(azure.entra.stats()).toMatchObject({ tokenRequests: 2, tokensIssued: 0 });
});

test('an unknown client is refused with AADSTS700016', async () => {
  const credential = new ClientSecretCredential(tenantId, 'ffffffff-0000-0000-0000-000000000000', 'x', {
    ...common(),
    disableInstanceDiscovery: true,
  });
  await expect(credential.getToken(scope)).rejects.toThrow('AADSTS700016');
});
