// The provider's own Key Vault REST client (runtime/provider/keyvault/key-vault-rest.ts) side by side with
// the Azure SDK clients it replaced (@azure/keyvault-secrets, -keys, -certificates, kept as dev
// dependencies for this proof), against the fake Key Vault over real HTTPS with its 401 challenge: for
// every object kind the same fields reach content/ (value, id, version, content type, kid, JWK bytes,
// CER bytes, version listings across pages), failures carry the same status, Key Vault code and message,
// and a challenge naming a foreign resource gets no token from either.
import type { AccessToken, TokenCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { RestError } from '@azure/core-rest-pipeline';
import { generateKeyPairSync } from 'node:crypto';
import { Agent } from 'node:https';
import { FakeAzure, startFakeAzure } from '../../../harness/fakes/fake-azure';
import { staticLookup } from '../../../harness/fakes/loopback-hosts';
import { buildChain, chainCertificates } from '../../../harness/fakes/x509';
import {
  challengeScope,
  KeyVaultRest,
  KeyVaultRestError,
  parseBearerChallenge,
  versionOfId,
} from '../../../runtime/provider/keyvault/key-vault-rest';
import type {
  FetchedObject,
  ObjectVersionInfo,
  VaultObjectType,
} from '../../../runtime/provider/keyvault/types';

const TENANT = '6f1d2c3b-0000-4000-8000-00000000c003';
const VAULT = 'restkv';
let azure: FakeAzure;
let agent: Agent;

/** A credential whose token the fake vault accepts (it checks the bearer is one Entra issued... or any, in this fake). */
const credential: TokenCredential & { scopes: string[] } = {
  scopes: [],
  getToken: async (scopes: string | string[]): Promise<AccessToken> => {
    credential.scopes.push(String(scopes));
    return { token: 'token-of-the-test', expiresOnTimestamp: Date.now() + 3_600_000 };
  },
};

beforeAll(async () => {
  azure = await startFakeAzure({ tenantId: TENANT, vaultNames: [VAULT, 'other'] });
  agent = new Agent({ ca: azure.ca.caCertPem, lookup: staticLookup(azure.hosts) as never, keepAlive: true });
  const v = azure.vault;
  v.setSecret(VAULT, 'plain', 'hello wörld ✓\n');
  v.setSecret(VAULT, 'typed', '{"a":1}', { contentType: 'application/json' });
  for (let i = 0; i < 30; i++) v.setSecret(VAULT, 'many', `version ${i}`);
  const chain = buildChain({ leafName: 'rest.test', intermediates: 1 });
  v.importCertificate(VAULT, 'pem-cert', {
    leaf: chain.leaf,
    chain: chainCertificates(chain, 'shuffled'),
    format: 'pem',
  });
  v.importCertificate(VAULT, 'pfx-cert', {
    leaf: chain.leaf,
    chain: chainCertificates(chain, 'shuffled'),
    format: 'pfx',
  });
  v.setKey(VAULT, 'rsa', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
  for (const curve of ['P-256', 'P-384', 'P-521'])
    v.setKey(VAULT, `ec-${curve}`, generateKeyPairSync('ec', { namedCurve: curve }).publicKey);
});

afterAll(async () => {
  agent?.destroy();
  await azure?.dispose();
});

/** The SDK clients as the provider configured them (serviceVersion 7.4, no SDK retries). */
function sdkClients(vault = VAULT) {
  const options = {
    serviceVersion: '7.4' as const,
    retryOptions: { maxRetries: 0 },
    disableChallengeResourceVerification: false,
    agent,
  };
  const url = azure.vault.vaultUrl(vault);
  return {
    secrets: new SecretClient(url, credential, options),
    keys: new KeyClient(url, credential, options),
    certificates: new CertificateClient(url, credential, options),
  };
}

/** What the SDK-based VaultAccess handed to content/ (the mapping it had, kept here as the reference). */
async function viaSdk(type: VaultObjectType, name: string, version: string): Promise<FetchedObject> {
  const { secrets, keys, certificates } = sdkClients();
  switch (type) {
    case 'secret': {
      const secret = await secrets.getSecret(name, { version });
      return {
        type: 'secret',
        value: secret.value,
        id: secret.properties.id,
        version: secret.properties.version ?? '',
        contentType: secret.properties.contentType,
        kid: secret.properties.certificateKeyId,
      };
    }
    case 'key': {
      const key = await keys.getKey(name, { version });
      return { type: 'key', kid: key.key?.kid, version: key.properties.version ?? '', jwk: key.key };
    }
    case 'cert': {
      const cert =
        version === ''
          ? await certificates.getCertificate(name)
          : await certificates.getCertificateVersion(name, version);
      return {
        type: 'cert',
        id: cert.properties.id ?? cert.id,
        version: cert.properties.version ?? '',
        cer: cert.cer,
      };
    }
  }
}

async function versionsViaSdk(type: VaultObjectType, name: string): Promise<ObjectVersionInfo[]> {
  const { secrets, keys, certificates } = sdkClients();
  const pages =
    type === 'secret'
      ? secrets.listPropertiesOfSecretVersions(name)
      : type === 'key'
        ? keys.listPropertiesOfKeyVersions(name)
        : certificates.listPropertiesOfCertificateVersions(name);
  const versions: ObjectVersionInfo[] = [];
  for await (const item of pages)
    versions.push({ version: item.version ?? '', createdOn: item.createdOn, enabled: item.enabled });
  return versions;
}

function ours(vault = VAULT) {
  const scopes = new Map<string, string>();
  const rest = new KeyVaultRest({ get: (h) => scopes.get(h), set: (h, s) => scopes.set(h, s) });
  const call = {
    vaultUrl: azure.vault.vaultUrl(vault),
    credential,
    agent,
    disableChallengeResourceVerification: false,
  };
  return { rest, call, scopes };
}

/** The fields content/ reads, JWK and CER bytes compared as bytes. */
function comparable(o: FetchedObject): Record<string, unknown> {
  if (o.type === 'key')
    return {
      ...o,
      jwk: o.jwk && {
        kty: o.jwk.kty,
        crv: o.jwk.crv,
        n: o.jwk.n && Buffer.from(o.jwk.n).toString('hex'),
        e: o.jwk.e && Buffer.from(o.jwk.e).toString('hex'),
        x: o.jwk.x && Buffer.from(o.jwk.x).toString('hex'),
        y: o.jwk.y && Buffer.from(o.jwk.y).toString('hex'),
      },
    };
  if (o.type === 'cert') return { ...o, cer: o.cer && Buffer.from(o.cer).toString('hex') };
  return { ...o };
}

describe('KeyVaultRest reads what the Azure SDK clients read', () => {
  const objects: Array<[VaultObjectType, string]> = [
    ['secret', 'plain'],
    ['secret', 'typed'],
    ['secret', 'pem-cert'],
    ['secret', 'pfx-cert'],
    ['key', 'rsa'],
    ['key', 'ec-P-256'],
    ['key', 'ec-P-384'],
    ['key', 'ec-P-521'],
    ['key', 'pfx-cert'],
    ['cert', 'pem-cert'],
    ['cert', 'pfx-cert'],
  ];

  it.each(objects)('%s %s, latest and by version', async (type, name) => {
    const { rest, call } = ours();
    const sdkLatest = await viaSdk(type, name, '');
    const oursLatest = await rest.getObject(call, type, name, '');
    expect(comparable(oursLatest)).toEqual(comparable(sdkLatest));
    expect(oursLatest.version).not.toBe('');
    const pinned = await rest.getObject(call, type, name, oursLatest.version);
    expect(comparable(pinned)).toEqual(comparable(await viaSdk(type, name, sdkLatest.version)));
  });

  it.each([
    ['secret', 'many'],
    ['key', 'rsa'],
    ['cert', 'pfx-cert'],
  ] as Array<[VaultObjectType, string]>)('lists the versions of %s %s across pages', async (type, name) => {
    const { rest, call } = ours();
    const mine = await rest.listVersions(call, type, name);
    expect(mine).toEqual(await versionsViaSdk(type, name));
    if (name === 'many') expect(mine).toHaveLength(30); // two pages of at most 25
  });

  it('fails a missing object, a wrong version and a throttled or failing vault with the same status, code and message', async () => {
    const { rest, call } = ours();
    const cases: Array<{ fault?: number; type: VaultObjectType; name: string; version: string }> = [
      { type: 'secret', name: 'absent', version: '' },
      { type: 'secret', name: 'plain', version: '0123456789abcdef0123456789abcdef' },
      { type: 'key', name: 'absent', version: '' },
      { type: 'cert', name: 'absent', version: '' },
      { fault: 429, type: 'secret', name: 'plain', version: '' },
      { fault: 503, type: 'secret', name: 'plain', version: '' },
      { fault: 500, type: 'key', name: 'rsa', version: '' },
    ];
    for (const c of cases) {
      if (c.fault) azure.vault.injectFault({ kind: c.fault, count: 1, retryAfterSeconds: 7 });
      const sdk = (await viaSdk(c.type, c.name, c.version).catch((e: unknown) => e)) as RestError;
      if (c.fault) azure.vault.injectFault({ kind: c.fault, count: 1, retryAfterSeconds: 7 });
      const mine = (await rest
        .getObject(call, c.type, c.name, c.version)
        .catch((e: unknown) => e)) as KeyVaultRestError;
      expect(sdk).toBeInstanceOf(RestError);
      expect(mine).toBeInstanceOf(KeyVaultRestError);
      expect({ status: mine.statusCode, code: mine.code, message: mine.message }).toEqual({
        status: sdk.statusCode,
        code: sdk.code,
        message: sdk.message,
      });
      expect(mine.authenticated).toBe(true);
      if (c.fault === 429 || c.fault === 503)
        expect(mine.retryAfter).toBe(sdk.response?.headers.get('retry-after'));
    }
    azure.vault.clearFaults();
  });

  it('takes the challenge once per vault host and asks the token for the scope the vault named', async () => {
    const { rest, call, scopes } = ours();
    credential.scopes.length = 0;
    azure.vault.resetStats();
    await rest.getObject(call, 'secret', 'plain', '');
    await rest.getObject(call, 'key', 'rsa', '');
    await rest.getObject(call, 'cert', 'pem-cert', '');
    expect(azure.vault.stats().challenges).toBe(1);
    expect([...scopes.values()]).toEqual(['https://vault.fake.test/.default']);
    expect(new Set(credential.scopes)).toEqual(new Set(['https://vault.fake.test/.default']));
  });

  it('answers a transport failure with the Node error code and no status', async () => {
    const { rest } = ours();
    const call = {
      vaultUrl: 'https://127.0.0.1:1/',
      credential,
      agent: new Agent(),
      disableChallengeResourceVerification: false,
    };
    const err = (await rest
      .getObject(call, 'secret', 'plain', '')
      .catch((e: unknown) => e)) as KeyVaultRestError;
    expect(err).toBeInstanceOf(KeyVaultRestError);
    expect(err.statusCode).toBeUndefined();
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.authenticated).toBe(false);
  });
});

describe('the bearer challenge', () => {
  it('parses the parameters Key Vault sends as the SDK does: quoted values of known names', () => {
    expect(
      parseBearerChallenge(
        'Bearer authorization="https://login.microsoftonline.com/t", resource="https://vault.azure.net"',
      ),
    ).toEqual({ authorization: 'https://login.microsoftonline.com/t', resource: 'https://vault.azure.net' });
    expect(
      parseBearerChallenge(
        'Bearer authorization=https://x/t, scope="https://vault.azure.net/.default", other="x"',
      ),
    ).toEqual({
      scope: 'https://vault.azure.net/.default',
    });
  });

  it('sends a token only for a resource the vault host belongs to, as the SDK checks it', () => {
    const header = (resource: string) => `Bearer authorization="https://login/t", resource="${resource}"`;
    expect(challengeScope(header('https://vault.azure.net'), 'kv1.vault.azure.net', true)).toBe(
      'https://vault.azure.net/.default',
    );
    expect(challengeScope(header('https://vault.azure.net'), 'kv1.vault.azure.net:443', true)).toBe(
      'https://vault.azure.net/.default',
    );
    // `resource` wins over `scope`, as in the SDK.
    expect(
      challengeScope(
        'Bearer resource="https://vault.azure.net", scope="https://other/.default"',
        'a.vault.azure.net',
        true,
      ),
    ).toBe('https://vault.azure.net/.default');
    // A look-alike host must not get a token for vault.azure.net; nor a parent that is only a suffix.
    expect(() =>
      challengeScope(header('https://vault.azure.net'), 'kv1.vault.azure.net.evil.test', true),
    ).toThrow(/does not match the requested domain/);
    expect(() => challengeScope(header('https://vault.azure.net'), 'kv1.notvault.azure.net', true)).toThrow(
      /does not match/,
    );
    expect(() => challengeScope(header('https://vault.azure.net'), 'xvault.azure.net', true)).toThrow(
      /does not match/,
    );
    // Custom clouds (verification off) take the scope as named.
    expect(challengeScope(header('https://vault.fake.test'), 'kv1.elsewhere.test', false)).toBe(
      'https://vault.fake.test/.default',
    );
    // No scope at all: the 401 stands (no token is asked for).
    expect(
      challengeScope('Bearer authorization="https://login/t"', 'kv1.vault.azure.net', true),
    ).toBeUndefined();
  });

  it('reads the version out of an object id as the SDK parses it', () => {
    expect(versionOfId('https://kv.vault.azure.net/secrets/name/0123abcd', 'secrets')).toBe('0123abcd');
    expect(versionOfId('https://kv.vault.azure.net/keys/name', 'keys')).toBe('');
    expect(versionOfId(undefined, 'keys')).toBe('');
    expect(versionOfId('not a url', 'keys')).toBe('');
  });
});
