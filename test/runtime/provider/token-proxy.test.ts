// Identity binding's exchange (TokenProxyCredential) and where it goes (TokenProxyTarget), against the
// fake AKS token proxy in front of the fake Entra ID: the request upstream's azidentity sends, the
// proxy's refusals, a proxy that is down, slow or overloaded, the wrong TLS server name or trust, and the
// server-name discovery from the API server certificate. No error text ever carries the token.
import { generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import { FakeAzure, startFakeAzure } from '../../../harness/fakes/fake-azure';
import { startProvider } from '../../../runtime/provider/main';
import { FakeTokenProxy } from '../../../harness/fakes/fake-token-proxy';
import {
  TokenProxyCredential,
  TokenProxyCredentialProps,
  TokenProxyRequestError,
} from '../../../runtime/provider/identity/token-proxy-credential';
import {
  checkServerName,
  identityBindingServerName,
  parseTokenProxyUrl,
  TokenProxyTarget,
} from '../../../runtime/provider/identity/token-proxy-target';

// RSA key generation and TLS handshakes take seconds on a loaded machine.
jest.setTimeout(60_000);

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const UAMI = '6e1c2d3f-4444-4e0e-9d1b-0a1b2c3d4e5f';
const SUBJECT = 'system:serviceaccount:orders:api';
const CLUSTER_ISSUER = 'https://oidc.cluster.test/';
const SCOPE = 'https://vault.fake.test/.default';

/** A service-account token signed by `key` (RS256), as kubelet's projected tokens are. */
function serviceAccountToken(
  key: KeyObject,
  subject = SUBJECT,
  audience = 'api://AKSIdentityBinding',
): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({
    aud: [audience],
    iss: CLUSTER_ISSUER,
    sub: subject,
    iat: now,
    exp: now + 3600,
  })}`;
  return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), key).toString('base64url')}`;
}

describe('identity binding through the AKS token proxy', () => {
  const cluster = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let azure: FakeAzure;
  let proxy: FakeTokenProxy;
  let token: string;

  beforeAll(async () => {
    azure = await startFakeAzure({ tenantId: TENANT });
    proxy = await FakeTokenProxy.start({
      ca: azure.ca,
      entra: azure.entra,
      serviceAccountIssuer: {
        url: CLUSTER_ISSUER,
        publicKeyPem: cluster.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    });
    azure.entra.addFederatedClient(proxy.federatedRegistration(TENANT, UAMI));
    proxy.allow('orders:api', UAMI);
    token = serviceAccountToken(cluster.privateKey);
  });

  afterAll(async () => {
    await proxy?.close();
    await azure?.dispose();
  });

  beforeEach(() => {
    proxy.resetStats();
    azure.entra.latencyMs = 0;
  });

  const target = (props: Partial<ConstructorParameters<typeof TokenProxyTarget>[0]> = {}) =>
    new TokenProxyTarget({
      url: proxy.url,
      serverName: proxy.serverName,
      caFile: azure.ca.caCertPath,
      ...props,
    });
  const credential = (props: Partial<TokenProxyCredentialProps> = {}) =>
    new TokenProxyCredential({
      tenantId: TENANT,
      clientId: UAMI,
      assertion: () => token,
      authorityHost: azure.authorityHost,
      target: target(),
      retryBaseDelayMs: 5,
      ...props,
    });
  /** The rejection of `promise`, checked to name no token. */
  const failure = async (promise: Promise<unknown>, tokens: string[] = [token]) => {
    const err = await promise.then(
      () => {
        throw new Error('expected a failure');
      },
      (e: unknown) => e as Error,
    );
    for (const t of tokens) expect(err.message).not.toContain(t);
    expect(err.message).not.toContain('\n');
    return err;
  };

  it("exchanges the token at the proxy with upstream's request: the authority's path and Host, the proxy's server name", async () => {
    const answer = await credential().getToken(SCOPE);
    expect(answer.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(answer.expiresOnTimestamp).toBeGreaterThan(Date.now() + 60_000);
    const [request] = proxy.requests();
    expect(request).toMatchObject({
      serverName: proxy.serverName,
      reachedProxy: true,
      method: 'POST',
      path: `/${TENANT}/oauth2/v2.0/token`,
      query: '',
      host: new URL(azure.authorityHost).host,
      contentType: 'application/x-www-form-urlencoded; charset=utf-8',
      form: {
        client_id: UAMI,
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        scope: SCOPE,
      },
      assertionClaims: expect.objectContaining({ sub: SUBJECT, aud: ['api://AKSIdentityBinding'] }),
      status: 200,
    });
    expect(proxy.stats()).toMatchObject({ tokenRequests: 1, tokensIssued: 1, refused: 0 });
    // Entra ID saw the proxy's own assertion, never the service-account token.
    const verified = azure.entra.verifiedAssertionClaims();
    expect(verified[verified.length - 1]).toMatchObject({ iss: proxy.issuerUrl });
  });

  it("keeps the proxy URL's path in front of the authority's path (azidentity's JoinPath)", async () => {
    const prefixed = await FakeTokenProxy.start({ ca: azure.ca, entra: azure.entra, pathPrefix: '/tp/v1' });
    try {
      // Another proxy is another issuer: its own identity (one federated credential per identity).
      const uami = '6e1c2d3f-5555-4e0e-9d1b-0a1b2c3d4e5f';
      azure.entra.addFederatedClient(prefixed.federatedRegistration(TENANT, uami));
      prefixed.allow(SUBJECT, uami);
      const tp = target({ url: prefixed.url, serverName: prefixed.serverName });
      await expect(credential({ target: tp, clientId: uami }).getToken(SCOPE)).resolves.toHaveProperty(
        'token',
      );
      expect(prefixed.requests()[0]).toMatchObject({ path: `/${TENANT}/oauth2/v2.0/token`, status: 200 });
    } finally {
      await prefixed.close();
    }
  });

  it('refuses a forged token (another signer) once, with the proxy answer and without the token', async () => {
    const forged = serviceAccountToken(attacker.privateKey);
    const err = await failure(credential({ assertion: () => forged }).getToken(SCOPE), [forged, token]);
    expect(err).toBeInstanceOf(TokenProxyRequestError);
    expect(err.message).toMatch(
      /^ClientAssertionCredential authentication failed: the AKS token proxy https:\/\/127\.0\.0\.1:\d+ answered 401: invalid_client: AADSTS700211: /,
    );
    expect(proxy.stats()).toMatchObject({ tokenRequests: 1, refused: 1, tokensIssued: 0 });
  });

  it('refuses a service account the identity is not bound to (AKS RBAC), naming both', async () => {
    const other = serviceAccountToken(cluster.privateKey, 'system:serviceaccount:orders:intruder');
    const err = await failure(credential({ assertion: () => other }).getToken(SCOPE), [other]);
    expect(err.message).toContain(
      'answered 403: unauthorized_client: AADSTS700213: system:serviceaccount:orders:intruder may not use the managed identity',
    );
    expect(proxy.stats().tokenRequests).toBe(1);
  });

  it('refuses a token for another audience without exchanging it', async () => {
    const wi = serviceAccountToken(cluster.privateKey, SUBJECT, 'api://AzureADTokenExchange');
    const err = await failure(credential({ assertion: () => wi }).getToken(SCOPE), [wi]);
    expect(err.message).toContain(
      "answered 401: invalid_client: AADSTS700212: The service-account token's audience must be api://AKSIdentityBinding",
    );
    expect(proxy.stats().tokensIssued).toBe(0);
  });

  it('retries an overloaded proxy (503) and then succeeds', async () => {
    proxy.injectFault(503, 2);
    await expect(credential().getToken(SCOPE)).resolves.toHaveProperty('token');
    expect(proxy.stats()).toMatchObject({ tokenRequests: 3, tokensIssued: 1 });
  });

  it('gives up on a proxy that stays overloaded, with its last answer', async () => {
    proxy.injectFault(503, 10);
    const err = await failure(credential({ maxRetries: 2 }).getToken(SCOPE));
    expect(err.message).toContain('answered 503: temporarily_unavailable: AADSTS50196');
    expect(proxy.stats().tokenRequests).toBe(3);
    proxy.resetStats();
    // The faults left are not this test's business.
    await credential({ maxRetries: 7 }).getToken(SCOPE);
  });

  it('says the proxy is down, with its URL, after retrying', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const down = target({ url: `https://127.0.0.1:${closed}` });
    const err = await failure(credential({ target: down, maxRetries: 1 }).getToken(SCOPE));
    expect(err.message).toBe(
      `ClientAssertionCredential authentication failed: the AKS token proxy https://127.0.0.1:${closed} (TLS server name ${proxy.serverName}) could not be reached: connect ECONNREFUSED 127.0.0.1:${closed}`,
    );
  });

  it('bounds a slow proxy by the attempt timeout', async () => {
    azure.entra.latencyMs = 2000;
    const err = await failure(credential({ attemptTimeoutMs: 200, maxRetries: 0 }).getToken(SCOPE));
    expect(err.message).toContain('could not be reached: no answer in time');
  });

  it('stops when the Mount is cancelled', async () => {
    azure.entra.latencyMs = 2000;
    const controller = new AbortController();
    const pending = credential().getToken(SCOPE, { abortSignal: controller.signal });
    setTimeout(() => controller.abort(new Error('mount cancelled')), 100);
    await expect(pending).rejects.toThrow('mount cancelled');
  });

  it('does not retry the wrong TLS server name, and says what to check', async () => {
    const wrong = target({ serverName: 'a0wrong.ests.aks' });
    const err = await failure(credential({ target: wrong }).getToken(SCOPE));
    expect(err.message).toContain('(TLS server name a0wrong.ests.aks) could not be reached');
    expect(err.message).toContain('check --sni-name, --token-proxy-url and the service-account ca.crt');
    // The name not served by the proxy reaches the API server identity, whose certificate does not
    // match: the TLS handshake fails, no request is sent (other tests' late requests may still arrive).
    expect(proxy.requests().filter((r) => r.serverName === 'a0wrong.ests.aks')).toEqual([]);
  });

  it('trusts the proxy only through the cluster CA file', async () => {
    const noCa = target({ caFile: join(tmpdir(), 'no-such-dir-aks-ss', 'ca.crt') });
    const err = await failure(credential({ target: noCa }).getToken(SCOPE));
    expect(err.message).toMatch(/could not be reached: .*(self-signed|unable to verify|local issuer)/i);
  });

  it('follows a rotated CA file and rides out an empty one mid-rotation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aks-ss-ca-rotation-'));
    try {
      const file = join(dir, 'ca.crt');
      writeFileSync(file, azure.ca.caCertPem);
      const rotating = target({ caFile: file });
      await credential({ target: rotating }).getToken(SCOPE);
      writeFileSync(file, '');
      await expect(credential({ target: rotating }).getToken(SCOPE)).resolves.toHaveProperty('token');
      writeFileSync(file, 'not a certificate');
      await expect(rotating.tls()).rejects.toThrow(
        `proxy transport not available: parse CA file "${file}": no valid certificates found`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("finds the server name from the API server certificate's cluster id, trusting the cluster CA", async () => {
    const discovering = new TokenProxyTarget({
      url: proxy.url,
      caFile: azure.ca.caCertPath,
      apiServerHost: '127.0.0.1',
      apiServerPort: proxy.address.port,
    });
    await expect(discovering.tls()).resolves.toEqual({
      serverName: proxy.serverName,
      ca: azure.ca.caCertPem,
    });
    await expect(credential({ target: discovering }).getToken(SCOPE)).resolves.toHaveProperty('token');
  });

  it("fails discovery with upstream's texts, and retries it only after a pause", async () => {
    let now = 1_000_000;
    const missing = join(tmpdir(), 'no-such-dir-aks-ss', 'ca.crt');
    const noFile = new TokenProxyTarget({ url: proxy.url, caFile: missing, now: () => now });
    await expect(noFile.tls()).rejects.toThrow(
      `proxy transport not available: compute SNI name: extract cluster ID from API server certificate: read CA file ${missing}: open ${missing}: no such file or directory (use --sni-name flag to skip automatic SNI detection)`,
    );
    // An API server whose certificate carries no hcp-kubernetes name (not an AKS cluster).
    const plain = azure.ca.issueServerCertificate({ dnsNames: ['kubernetes.default.svc.cluster.local'] });
    const apiServer = createTlsServer({ cert: plain.certPem, key: plain.keyPem }, (s) => s.end());
    await new Promise<void>((resolve) => apiServer.listen(0, '127.0.0.1', resolve));
    const noSan = new TokenProxyTarget({
      url: proxy.url,
      caFile: azure.ca.caCertPath,
      apiServerHost: '127.0.0.1',
      apiServerPort: (apiServer.address() as { port: number }).port,
      now: () => now,
    });
    const text =
      'proxy transport not available: compute SNI name: extract cluster ID from API server certificate: cluster ID SAN not found in API server certificate (use --sni-name flag to provide SNI name explicitly)';
    await expect(noSan.tls()).rejects.toThrow(text);
    const rejection = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    const first = await rejection(noSan.tls());
    now += 31_000;
    const second = await rejection(noSan.tls());
    expect(second?.message).toBe(text);
    expect(second).not.toBe(first);
    await new Promise((resolve) => apiServer.close(resolve));
  });
});

describe('token proxy settings', () => {
  it("computes the server name as upstream does (Go's value for the same cluster id)", () => {
    expect(identityBindingServerName('6543abcd1234ef00')).toBe(
      'a043aoj63mgc54hgcu8qat5aj91ucj131lojbgdpia9k04tfqrll0.ests.aks',
    );
    expect(identityBindingServerName('fake-cluster-0001')).toBe(
      'ab7oo4eu766mlqd9b7sg6r7bivhqj5egfj5upq4c684b1kpl1u3fg.ests.aks',
    );
  });

  it.each([
    ['http://proxy.test', 'custom token endpoint must use https scheme, got "http"'],
    [
      'https://u:p@proxy.test',
      'custom token endpoint URL "https://u:p@proxy.test" must not contain user info',
    ],
    [
      'https://proxy.test/?a=1',
      'custom token endpoint URL "https://proxy.test/?a=1" must not contain a query',
    ],
    [
      'https://proxy.test/#f',
      'custom token endpoint URL "https://proxy.test/#f" must not contain a fragment',
    ],
    ['not a url', 'failed to parse custom token proxy URL "not a url": '],
  ])('refuses the proxy URL %s as azidentity does', (url, text) => {
    expect(() => parseTokenProxyUrl(url)).toThrow(text);
  });

  it('keeps the path of a proxy URL and takes a DNS name as the server name', () => {
    expect(parseTokenProxyUrl('https://proxy.test:8443/tp').pathname).toBe('/tp');
    expect(checkServerName('A1b2.ESTS.aks')).toBe('a1b2.ests.aks');
    for (const bad of ['', 'a b', 'a..b', '-a.b', 'a/b', 'x'.repeat(254)])
      expect(() => checkServerName(bad)).toThrow('must be a DNS name');
  });
});

describe('--token-proxy-url and --sni-name', () => {
  // Upstream keeps a bad value until the first identity-binding Mount fails with it; ours refuses to
  // start (docs/compatibility.md P16), so a typo shows at rollout, not at the first pod.
  it.each([
    [
      '--token-proxy-url=http://proxy.test',
      'invalid value "http://proxy.test" for flag --token-proxy-url: custom token endpoint must use https scheme, got "http"',
    ],
    [
      '--sni-name=bad name',
      'invalid value "bad name" for flag --sni-name: must be a DNS name such as a<hash>.ests.aks (letters, digits, hyphens and dots)',
    ],
  ])('refuses %s at start', async (flag, text) => {
    const dir = mkdtempSync(join(tmpdir(), 'aks-ss-token-proxy-flags-'));
    try {
      await expect(
        startProvider([
          `--endpoint=unix://${dir}/azure.sock`,
          '--healthz-port=0',
          '--metrics-port=0',
          '--http-listen-address=127.0.0.1',
          flag,
        ]),
      ).rejects.toThrow(text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
