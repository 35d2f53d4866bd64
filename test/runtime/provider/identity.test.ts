// Identity decisions and the AAD Pod Identity (NMI) credential, which has no Azure double: a local
// HTTP server speaks the NMI protocol (GET /host/token/?resource=..., podns/podname headers).
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildIdentityConfig, identityKey } from '../../../runtime/provider/identity/auth-config';
import { PodIdentityCredential } from '../../../runtime/provider/identity/pod-identity-credential';

const base = {
  userAssignedIdentityId: '',
  clientId: '',
  serviceAccountTokens: '',
  secrets: undefined,
  podName: 'p',
  podNamespace: 'ns',
  serviceAccountName: 'sa',
};
const jwt = (claims: object) =>
  `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

describe('buildIdentityConfig', () => {
  it('keys workload identity by the token subject, falling back to the pod service account', () => {
    const tokens = (token: string) =>
      JSON.stringify({
        'api://AzureADTokenExchange': { token, expirationTimestamp: '2030-01-01T00:00:00Z' },
      });
    const fromToken = buildIdentityConfig({
      ...base,
      mode: 'None',
      clientId: 'c',
      serviceAccountTokens: tokens(jwt({ sub: 'system:serviceaccount:ns:real' })),
    });
    expect(fromToken).toMatchObject({
      kind: 'workload-identity',
      serviceAccount: 'system:serviceaccount:ns:real',
    });
    const opaque = buildIdentityConfig({
      ...base,
      mode: 'None',
      clientId: 'c',
      serviceAccountTokens: tokens('opaque-token-value'),
    });
    expect(opaque).toMatchObject({
      kind: 'workload-identity',
      serviceAccount: 'system:serviceaccount:ns:sa',
    });
  });

  it('prefers workload identity over nodePublishSecretRef when clientID and a token are present (upstream order)', () => {
    const tokens = JSON.stringify({ 'api://AzureADTokenExchange': { token: jwt({ sub: 's' }) } });
    expect(
      buildIdentityConfig({
        ...base,
        mode: 'None',
        clientId: 'c',
        serviceAccountTokens: tokens,
        secrets: { clientid: 'x', clientsecret: 'y' },
      }).kind,
    ).toBe('workload-identity');
    expect(
      buildIdentityConfig({ ...base, mode: 'None', secrets: { clientid: 'x', clientsecret: 'y' } }).kind,
    ).toBe('service-principal');
  });

  it('uses the node identity for useVMManagedIdentity (system-assigned when no id is given)', () => {
    expect(buildIdentityConfig({ ...base, mode: 'VMManagedIdentity' })).toEqual({
      kind: 'managed-identity',
      clientId: '',
    });
    expect(buildIdentityConfig({ ...base, mode: 'VMManagedIdentity', userAssignedIdentityId: 'u1' })).toEqual(
      { kind: 'managed-identity', clientId: 'u1' },
    );
  });

  it('builds identity binding from the api://AKSIdentityBinding token, keyed apart from workload identity', () => {
    const token = jwt({ sub: 'system:serviceaccount:ns:real', aud: ['api://AKSIdentityBinding'] });
    const tokens = JSON.stringify({
      'api://AKSIdentityBinding': { token },
      'api://AzureADTokenExchange': { token: 'other' },
    });
    const identity = buildIdentityConfig({
      ...base,
      mode: 'AzureTokenProxy',
      clientId: 'c',
      serviceAccountTokens: tokens,
    });
    expect(identity).toEqual({
      kind: 'identity-binding',
      clientId: 'c',
      serviceAccountToken: token,
      serviceAccount: 'system:serviceaccount:ns:real',
    });
    const workload = {
      kind: 'workload-identity' as const,
      clientId: 'c',
      serviceAccountToken: token,
      serviceAccount: 'system:serviceaccount:ns:real',
    };
    expect(identityKey(identity, 't', 'https://login')).not.toBe(identityKey(workload, 't', 'https://login'));
    expect(identityKey(identity, 't', 'https://login')).not.toContain(token);
    expect(() =>
      buildIdentityConfig({ ...base, mode: 'AzureTokenProxy', clientId: 'c', serviceAccountTokens: '{}' }),
    ).toThrow(
      'failed to parse service account token for identity binding, error: token for audience api://AKSIdentityBinding not found',
    );
  });
});

describe('PodIdentityCredential (NMI protocol)', () => {
  let server: http.Server;
  let port: number;
  const seen: Array<{ url: string; podns: string; podname: string }> = [];
  let answer: { status: number; body: string } = { status: 200, body: '' };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({
        url: req.url ?? '',
        podns: String(req.headers.podns),
        podname: String(req.headers.podname),
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const credential = () =>
    new PodIdentityCredential({
      podName: 'app-0',
      podNamespace: 'team-a',
      resource: 'https://vault.azure.net',
      nmiPort: port,
    });

  it('asks the NMI for the pod and returns its token', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        token: { access_token: 'nmi-token', expires_on: '2000000000' },
        clientid: 'c1',
      }),
    };
    const token = await credential().getToken();
    expect(token).toEqual({ token: 'nmi-token', expiresOnTimestamp: 2_000_000_000_000 });
    expect(seen.at(-1)).toEqual({
      url: '/host/token/?resource=https://vault.azure.net',
      podns: 'team-a',
      podname: 'app-0',
    });
  });

  it('reports NMI failures with the upstream texts', async () => {
    answer = { status: 403, body: 'no AzureIdentityBinding' };
    await expect(credential().getToken()).rejects.toThrow(
      'nmi response failed with status code: 403, response body: no AzureIdentityBinding',
    );
    answer = { status: 200, body: JSON.stringify({ token: { access_token: '' }, clientid: '' }) };
    await expect(credential().getToken()).rejects.toThrow(
      'nmi did not return expected values in response: token and clientid',
    );
  });
});
