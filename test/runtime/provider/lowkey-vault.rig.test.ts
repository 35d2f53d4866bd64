// The built provider against lowkey-vault (a Key Vault emulator written by others, started by the rig):
// secrets with each encoding, RSA and EC keys, self-signed certificates imported as PEM and as PFX,
// pinned versions and history. Objects are created through the real Azure SDK; the provider reaches
// lowkey through an AzureStackCloud file (vault "127" + suffix "0.0.1:<port>" = lowkey's default
// vault on 127.0.0.1) with a VM managed identity from the IMDS double (lowkey accepts any token).
import type { AccessToken, TokenCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeImds } from '../../../harness/fakes/fake-imds';
import { issueCertificate, toPemBundle, toPfxBase64 } from '../../../harness/fakes/x509';
import { cannotRunHere, rig } from '../../../harness/rig/rig-env';
import { mountRequest, objectsYaml } from './support/mount-request';
import { spawnProvider, SpawnedProvider } from './support/spawned-provider';

jest.setTimeout(180_000);

const anyToken: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({
    token: 'rig-seed-token',
    expiresOnTimestamp: Date.now() + 3600_000,
  }),
};
const uniq = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

let lowkeyUrl: string | undefined;
let imds: FakeImds;
let provider: SpawnedProvider;
let dir: string;
let cloudFile: string;
let secrets: SecretClient;
let keys: KeyClient;
let certificates: CertificateClient;

beforeAll(async () => {
  const endpoints = rig();
  lowkeyUrl = endpoints.lowkeyVaultUrl;
  if (!lowkeyUrl) {
    cannotRunHere(`lowkey-vault is not running: ${endpoints.lowkeyVaultUnavailable ?? 'no reason recorded'}`);
    return;
  }
  const url = new URL(lowkeyUrl);
  if (url.hostname !== '127.0.0.1') throw new Error(`expected lowkey-vault on 127.0.0.1, got ${lowkeyUrl}`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provider-lowkey-'));
  cloudFile = path.join(dir, 'lowkey-cloud.json');
  fs.writeFileSync(
    cloudFile,
    JSON.stringify({
      name: 'LowkeyCloud',
      activeDirectoryEndpoint: 'https://login.lowkey.invalid/',
      keyVaultEndpoint: `${lowkeyUrl}/`,
      keyVaultDNSSuffix: `0.0.1:${url.port}`,
    }),
  );
  imds = await FakeImds.start({ userAssignedClientIds: ['lowkey-mi'] });
  provider = await spawnProvider({
    args: [`--cloud-env-file-dir=${dir}`],
    env: {
      NODE_EXTRA_CA_CERTS: endpoints.lowkeyVaultCaFile!,
      AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.endpoint,
    },
  });
  const options = {
    disableChallengeResourceVerification: true,
    tlsOptions: { ca: fs.readFileSync(endpoints.lowkeyVaultCaFile!, 'utf8') },
    retryOptions: { maxRetries: 1 },
  };
  secrets = new SecretClient(lowkeyUrl, anyToken, options);
  keys = new KeyClient(lowkeyUrl, anyToken, options);
  certificates = new CertificateClient(lowkeyUrl, anyToken, options);
});

afterAll(async () => {
  await provider?.stop();
  await imds?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function mount(objects: ReadonlyArray<Record<string, string | number>>) {
  return provider.client.mount(
    mountRequest({
      parameters: {
        keyvaultName: '127',
        tenantID: 'lowkey-tenant',
        cloudName: 'AzureStackCloud',
        cloudEnvFileName: cloudFile,
        useVMManagedIdentity: 'true',
        userAssignedIdentityID: 'lowkey-mi',
        objects: objectsYaml(objects),
      },
    }),
  );
}

it('writes secrets with each encoding', async () => {
  if (!lowkeyUrl) return;
  const bytes = randomBytes(32);
  const [plain, hexed, b64] = [uniq('plain'), uniq('hexed'), uniq('b64')];
  const setPlain = await secrets.setSecret(plain, 'pässword-1');
  await secrets.setSecret(hexed, bytes.toString('hex'));
  await secrets.setSecret(b64, bytes.toString('base64'));
  const response = await mount([
    { objectName: plain, objectType: 'secret' },
    { objectName: hexed, objectType: 'secret', objectEncoding: 'hex' },
    { objectName: b64, objectType: 'secret', objectEncoding: 'base64', filePermission: '0600' },
  ]);
  expect(response.files.map((f) => f.path)).toEqual([plain, hexed, b64]);
  expect(response.files[0].contents.toString('utf8')).toBe('pässword-1');
  expect(response.files[1].contents).toEqual(bytes);
  expect(response.files[2].contents).toEqual(bytes);
  expect(response.files.map((f) => f.mode)).toEqual([0o644, 0o644, 0o600]);
  expect(response.object_version[0]).toEqual({ id: `secret/${plain}`, version: setPlain.properties.version });
});

it('writes RSA and EC public keys as PUBLIC KEY PEM', async () => {
  if (!lowkeyUrl) return;
  const names = { rsa: uniq('rsa'), p256: uniq('p256'), p384: uniq('p384'), p521: uniq('p521') };
  await keys.createRsaKey(names.rsa, { keySize: 2048 });
  await keys.createEcKey(names.p256, { curve: 'P-256' });
  await keys.createEcKey(names.p384, { curve: 'P-384' });
  await keys.createEcKey(names.p521, { curve: 'P-521' });
  const response = await mount(Object.values(names).map((name) => ({ objectName: name, objectType: 'key' })));
  for (const [i, name] of Object.values(names).entries()) {
    const jwk = (await keys.getKey(name)).key!;
    const b64 = (v?: Uint8Array) => (v ? Buffer.from(v).toString('base64url') : undefined);
    const nodeJwk =
      jwk.kty === 'RSA'
        ? { kty: 'RSA', n: b64(jwk.n), e: b64(jwk.e) }
        : { kty: 'EC', crv: jwk.crv, x: b64(jwk.x), y: b64(jwk.y) };
    const expected = createPublicKey({ key: nodeJwk as never, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    expect(response.files[i].contents.toString()).toBe(expected);
    expect(response.object_version[i].id).toBe(`key/${name}`);
  }
});

it('writes self-signed certificates imported as PEM and as PFX (secret, pfx, cert and key views)', async () => {
  if (!lowkeyUrl) return;
  const issued = issueCertificate({ commonName: 'lowkey.example', dnsNames: ['lowkey.example'] });
  const [pemName, pfxName] = [uniq('pem-cert'), uniq('pfx-cert')];
  await certificates.importCertificate(pemName, Buffer.from(toPemBundle(issued, [issued])), {
    policy: { contentType: 'application/x-pem-file' },
  });
  await certificates.importCertificate(pfxName, Buffer.from(toPfxBase64(issued, [issued]), 'base64'), {
    policy: { contentType: 'application/x-pkcs12' },
  });
  const response = await mount([
    { objectName: pemName, objectType: 'secret' },
    { objectName: pfxName, objectType: 'secret' },
    { objectName: pfxName, objectType: 'secret', objectFormat: 'pfx', objectAlias: 'bundle.pfx.b64' },
    { objectName: pfxName, objectType: 'cert', objectAlias: 'leaf.crt' },
    { objectName: pfxName, objectType: 'key', objectAlias: 'leaf.pub' },
  ]);
  const files = Object.fromEntries(response.files.map((f) => [f.path, f.contents.toString()]));
  // PEM-stored: exactly what Key Vault (lowkey) serves as the secret value.
  expect(files[pemName]).toBe((await secrets.getSecret(pemName)).value);
  // PFX-stored: the key as PKCS#8 first, then the certificate.
  const keyPem = createPrivateKey(issued.keyPem).export({ type: 'pkcs8', format: 'pem' }).toString();
  expect(files[pfxName]).toBe(keyPem + issued.certPem);
  expect(files['bundle.pfx.b64']).toBe((await secrets.getSecret(pfxName)).value);
  expect(files['leaf.crt']).toBe(issued.certPem);
  expect(files['leaf.pub']).toBe(
    createPublicKey(issued.keyPem).export({ type: 'spki', format: 'pem' }).toString(),
  );
  expect(response.object_version.map((v) => v.id)).toEqual([
    `secret/${pemName}`,
    `secret/${pfxName}`,
    `secret/${pfxName}`,
    `cert/${pfxName}`,
    `key/${pfxName}`,
  ]);
});

it('mounts a pinned version and the newest N versions for objectVersionHistory', async () => {
  if (!lowkeyUrl) return;
  const name = uniq('versioned');
  const versions: string[] = [];
  for (const value of ['one', 'two', 'three']) {
    versions.push((await secrets.setSecret(name, value)).properties.version!);
    // lowkey stamps creation times in seconds: keep the versions apart so the order is defined.
    await new Promise((resolve) => setTimeout(resolve, 1100));
  }
  const response = await mount([
    { objectName: name, objectType: 'secret', objectVersion: versions[0], objectAlias: 'pinned' },
    { objectName: name, objectType: 'secret', objectVersionHistory: 2, objectAlias: 'history' },
  ]);
  expect(response.files.map((f) => [f.path, f.contents.toString()])).toEqual([
    ['pinned', 'one'],
    ['history/0', 'three'],
    ['history/1', 'two'],
  ]);
  expect(response.object_version).toEqual([
    { id: `secret/${name}`, version: versions[0] },
    { id: `secret/${name}/0`, version: versions[2] },
    { id: `secret/${name}/1`, version: versions[1] },
  ]);
});
