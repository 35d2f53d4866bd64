// The fake Key Vault reached by the real Azure SDK clients (secrets, keys, certificates) with a real
// @azure/identity credential against the fake Entra ID, over HTTPS trusted through the test CA.
import { createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { ClientSecretCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import forge from 'node-forge';
import { FakeAzure, startFakeAzure } from '../../harness/fakes/fake-azure';
import { buildChain, chainCertificates, toPemBundle } from '../../harness/fakes/x509';

const tenantId = '11111111-2222-3333-4444-555555555555';
const clientId = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const clientSecret = 'sp-secret-value';

let azure: FakeAzure;
let credential: ClientSecretCredential;

beforeAll(async () => {
  azure = await startFakeAzure({ tenantId, vaultNames: ['kv1', 'kv2'] });
  azure.entra.addClientSecret({ tenantId, clientId, clientSecret });
  credential = new ClientSecretCredential(tenantId, clientId, clientSecret, {
    authorityHost: azure.authorityHost,
    disableInstanceDiscovery: true,
    agent: azure.agent as never,
  });
});

afterAll(async () => {
  await azure?.dispose();
});

beforeEach(() => {
  azure.vault.clearFaults();
  azure.vault.latencyMs = 0;
  azure.vault.resetStats();
});

const clientOptions = () => ({
  agent: azure.agent as never,
  retryOptions: { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 50 },
});
const secrets = (vault = 'kv1', options: object = {}) =>
  new SecretClient(azure.vault.vaultUrl(vault), credential, { ...clientOptions(), ...options });

describe('secrets', () => {
  test('latest and specific versions, ids built from the Host header', async () => {
    const v1 = azure.vault.setSecret('kv1', 'db-password', 'first');
    const v2 = azure.vault.setSecret('kv1', 'db-password', 'second', { contentType: 'text/plain' });
    const client = secrets();
    const latest = await client.getSecret('db-password');
    expect(latest.value).toBe('second');
    expect(latest.properties.version).toBe(v2);
    expect(latest.properties.contentType).toBe('text/plain');
    expect(latest.properties.id).toBe(`${azure.vault.vaultUrl('kv1')}secrets/db-password/${v2}`);
    expect((await client.getSecret('db-password', { version: v1 })).value).toBe('first');
  });

  test('the first request is challenged (401 + WWW-Authenticate) and the token comes from the fake Entra ID', async () => {
    azure.vault.setSecret('kv1', 'challenged', 'x');
    const before = azure.entra.stats().tokensIssued;
    await secrets().getSecret('challenged');
    const stats = azure.vault.stats();
    expect(stats.challenges).toBe(1);
    expect(stats.authorizedRequests).toBe(1);
    expect(stats.distinctTokens).toBe(1);
    expect(azure.entra.stats().tokensIssued - before).toBeLessThanOrEqual(1);
  });

  test('several vaults on one server are told apart by host name', async () => {
    azure.vault.setSecret('kv1', 'same-name', 'from kv1');
    azure.vault.setSecret('kv2', 'same-name', 'from kv2');
    expect((await secrets('kv1').getSecret('same-name')).value).toBe('from kv1');
    expect((await secrets('kv2').getSecret('same-name')).value).toBe('from kv2');
    expect(Object.keys(azure.vault.stats().byPath).sort()).toEqual([
      'kv1/secrets/same-name/',
      'kv2/secrets/same-name/',
    ]);
  });

  test('version listing is paged with nextLink and maxresults', async () => {
    for (let i = 0; i < 30; i++) azure.vault.setSecret('kv1', 'many-versions', `v${i}`);
    const seen: string[] = [];
    for await (const page of secrets()
      .listPropertiesOfSecretVersions('many-versions')
      .byPage({ maxPageSize: 25 })) {
      seen.push(...page.map((p) => p.version!));
    }
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
    expect(azure.vault.stats().byPath['kv1/secrets/many-versions/versions']).toBe(2);
  });

  test('a disabled version is listed as disabled and its GET answers 403', async () => {
    const v1 = azure.vault.setSecret('kv1', 'partly-disabled', 'old');
    azure.vault.setSecret('kv1', 'partly-disabled', 'new');
    azure.vault.setEnabled('kv1', 'secrets', 'partly-disabled', v1, false);
    const listed = [];
    for await (const p of secrets().listPropertiesOfSecretVersions('partly-disabled')) listed.push(p);
    expect(listed.find((p) => p.version === v1)?.enabled).toBe(false);
    await expect(secrets().getSecret('partly-disabled', { version: v1 })).rejects.toMatchObject({
      statusCode: 403,
      message: expect.stringContaining('Operation get is not allowed on a disabled secret.'),
    });
  });

  test('unknown secrets and vaults are 404 with Key Vault error codes', async () => {
    await expect(secrets().getSecret('does-not-exist')).rejects.toMatchObject({
      statusCode: 404,
      code: 'SecretNotFound',
    });
    await expect(secrets('nosuchvault').getSecret('x')).rejects.toMatchObject({
      statusCode: 404,
      code: 'VaultNotFound',
    });
  });
});

describe('faults and latency', () => {
  test('429 with Retry-After is retried by the SDK and counted', async () => {
    azure.vault.setSecret('kv1', 'throttled', 'ok');
    azure.vault.injectFault({ kind: 429, count: 2, retryAfterSeconds: 0, match: /throttled/ });
    expect((await secrets().getSecret('throttled')).value).toBe('ok');
    const stats = azure.vault.stats();
    expect(stats.faults).toBe(2);
    expect(stats.byPath['kv1/secrets/throttled/']).toBe(3);
  });

  test('5xx is answered until the rule is used up', async () => {
    azure.vault.setSecret('kv1', 'flaky', 'ok');
    azure.vault.injectFault({ kind: 503, count: 1 });
    expect((await secrets().getSecret('flaky')).value).toBe('ok');
    azure.vault.injectFault({ kind: 500, count: 10 });
    await expect(secrets().getSecret('flaky')).rejects.toMatchObject({ statusCode: 500 });
    expect(azure.vault.stats().faults).toBe(1 + 4); // maxRetries 3 → 4 attempts.
  });

  test("403 is Key Vault's ForbiddenByRbac answer (no role for the caller), not retried", async () => {
    azure.vault.setSecret('kv1', 'guarded', 'ok');
    azure.vault.injectFault({ kind: 403, count: 1, match: /guarded/ });
    const err = await secrets()
      .getSecret('guarded')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 403, code: 'Forbidden' });
    expect((err as Error).message).toMatch(/^Caller is not authorized to perform action on resource/);
    expect((err as Error).message).toContain("Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'");
    expect(azure.vault.stats().faults).toBe(1);
    expect((await secrets().getSecret('guarded')).value).toBe('ok');
  });

  test('a stalled request times out on the client; the next one is served', async () => {
    azure.vault.setSecret('kv1', 'stalled', 'ok');
    await secrets().getSecret('stalled'); // Token and challenge out of the way.
    azure.vault.injectFault({ kind: 'stall', count: 1 });
    const client = secrets('kv1', { retryOptions: { maxRetries: 0 } });
    await expect(client.getSecret('stalled', { requestOptions: { timeout: 300 } })).rejects.toThrow();
    expect((await client.getSecret('stalled')).value).toBe('ok');
  });

  test('injected latency keeps requests in flight together', async () => {
    azure.vault.setSecret('kv1', 'slow', 'ok');
    const client = secrets();
    await client.getSecret('slow');
    azure.vault.latencyMs = 50;
    await Promise.all(Array.from({ length: 5 }, () => client.getSecret('slow')));
    expect(azure.vault.stats().maxInFlight).toBeGreaterThanOrEqual(2);
  });
});

describe('keys', () => {
  const cases: [string, KeyObject][] = [
    ['rsa', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey],
    ['ec-p256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey],
    ['ec-p384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey],
    ['ec-p521', generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey],
  ];
  test.each(cases)(
    '%s key is served as a JWK the SDK turns back into the same public key',
    async (name, publicKey) => {
      const version = azure.vault.setKey('kv1', name, publicKey);
      const key = await new KeyClient(azure.vault.vaultUrl('kv1'), credential, clientOptions()).getKey(name);
      expect(key.properties.version).toBe(version);
      const jwk = key.key!;
      const toB64 = (b?: Uint8Array) => (b ? Buffer.from(b).toString('base64url') : undefined);
      const rebuilt =
        jwk.kty === 'RSA'
          ? createPublicKey({ key: { kty: 'RSA', n: toB64(jwk.n), e: toB64(jwk.e) }, format: 'jwk' })
          : createPublicKey({
              key: { kty: 'EC', crv: jwk.crv, x: toB64(jwk.x), y: toB64(jwk.y) },
              format: 'jwk',
            });
      expect(rebuilt.export({ type: 'spki', format: 'der' })).toEqual(
        publicKey.export({ type: 'spki', format: 'der' }),
      );
    },
  );
});

describe('certificates and certificate-backed secrets', () => {
  const chain = buildChain({ leafName: 'web.example.test', intermediates: 2 });
  const shuffled = chainCertificates(chain, 'shuffled');

  test('a certificate serves the leaf DER as cer, with kid and sid of the same version', async () => {
    const version = azure.vault.importCertificate('kv1', 'web-pem', {
      leaf: chain.leaf,
      chain: shuffled,
      format: 'pem',
    });
    const client = new CertificateClient(azure.vault.vaultUrl('kv1'), credential, clientOptions());
    const cert = await client.getCertificate('web-pem');
    expect(Buffer.from(cert.cer!)).toEqual(chain.leaf.certDer);
    expect(cert.properties.version).toBe(version);
    expect(cert.keyId).toBe(`${azure.vault.vaultUrl('kv1')}keys/web-pem/${version}`);
    expect(cert.secretId).toBe(`${azure.vault.vaultUrl('kv1')}secrets/web-pem/${version}`);
    const versions = [];
    for await (const p of client.listPropertiesOfCertificateVersions('web-pem')) versions.push(p.version);
    expect(versions).toEqual([version]);
  });

  test('PEM-backed secret: kid set, x-pem-file, stored bytes with the shuffled chain', async () => {
    azure.vault.importCertificate('kv1', 'web-pem2', { leaf: chain.leaf, chain: shuffled, format: 'pem' });
    const secret = await secrets().getSecret('web-pem2');
    expect(secret.properties.contentType).toBe('application/x-pem-file');
    expect(secret.properties.certificateKeyId).toMatch(/\/keys\/web-pem2\/[0-9a-f]{32}$/);
    expect(secret.properties.managed).toBe(true);
    expect(secret.value).toBe(toPemBundle(chain.leaf, shuffled));
  });

  test('PFX-backed secret: base64 password-less PKCS#12 (3DES, MAC) holding the key and the chain in stored order', async () => {
    azure.vault.importCertificate('kv1', 'web-pfx', { leaf: chain.leaf, chain: shuffled, format: 'pfx' });
    const secret = await secrets().getSecret('web-pfx');
    expect(secret.properties.contentType).toBe('application/x-pkcs12');
    const der = forge.util.decode64(secret.value!);
    const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der), true, ''); // verifies the MAC
    const certBags = p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag]!;
    expect(certBags.map((b) => b.cert!.subject.getField('CN').value)).toEqual(
      shuffled.map((c) => c.commonName),
    );
    expect(
      p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag],
    ).toHaveLength(1);
  });
});

describe('bounds and tokens', () => {
  test('a token the vault does not accept gets the challenge again and fails', async () => {
    const { FakeKeyVault } = await import('../../harness/fakes/fake-key-vault');
    const cert = azure.ca.issueServerCertificate({ dnsNames: ['*.vault.fake.test'] });
    const strict = await FakeKeyVault.start({
      ...cert,
      dnsSuffixes: ['vault.fake.test'],
      tenantId,
      authority: azure.authorityHost,
      acceptToken: () => false,
    });
    try {
      strict.setSecret('kv1', 's', 'v');
      const url = `https://kv1.vault.fake.test:${strict.address.port}/`;
      await expect(new SecretClient(url, credential, clientOptions()).getSecret('s')).rejects.toMatchObject({
        statusCode: 401,
      });
      expect(strict.stats().authorizedRequests).toBe(0);
    } finally {
      await strict.close();
    }
  });

  test('bad fault rules and names are refused with the value named', () => {
    expect(() => azure.vault.injectFault({ kind: 429, count: 0 })).toThrow('count must be positive, got 0');
    expect(() => azure.vault.setSecret('kv1', 'bad/name', 'x')).toThrow('invalid object name "bad/name"');
  });
});
