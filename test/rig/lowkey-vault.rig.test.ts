// lowkey-vault (a Key Vault emulator written by others) through the real Azure SDK clients: set and read a
// secret, create and read an RSA key, create and read a self-signed certificate. TLS is verified against the
// rig's CA for lowkey-vault (tlsOptions.ca), never switched off.
import type { AccessToken, TokenCredential } from '@azure/identity';
import { CertificateClient, DefaultCertificatePolicy } from '@azure/keyvault-certificates';
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { cannotRunHere, rig } from '../../harness/rig/rig-env';

jest.setTimeout(120000);

/** lowkey-vault accepts any bearer token; this credential never reaches Entra ID. */
const fixedTokenCredential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({
    token: 'rig-dummy-token',
    expiresOnTimestamp: Date.now() + 3600_000,
  }),
};

function clientOptions() {
  return {
    // lowkey's challenge names the vault URL itself as resource; the SDK would insist on *.vault.azure.net.
    disableChallengeResourceVerification: true,
    tlsOptions: { ca: fs.readFileSync(rig().lowkeyVaultCaFile as string, 'utf8') },
    retryOptions: { maxRetries: 1 },
  };
}

function lowkeyUrl(): string | undefined {
  const { lowkeyVaultUrl, lowkeyVaultUnavailable } = rig();
  if (lowkeyVaultUrl) return lowkeyVaultUrl;
  cannotRunHere(`lowkey-vault is not running: ${lowkeyVaultUnavailable ?? 'no reason recorded'}`);
  return undefined;
}

const name = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

test('a secret set through @azure/keyvault-secrets reads back with its value and version', async () => {
  const url = lowkeyUrl();
  if (!url) return;
  const client = new SecretClient(url, fixedTokenCredential, clientOptions());
  const secretName = name('db-password');
  const value = randomBytes(16).toString('hex');
  const set = await client.setSecret(secretName, value, { contentType: 'text/plain' });
  const read = await client.getSecret(secretName);
  expect(read.value).toBe(value);
  expect(read.properties.version).toBe(set.properties.version);
  expect(read.properties.contentType).toBe('text/plain');
});

test('an RSA key created through @azure/keyvault-keys reads back as a JWK', async () => {
  const url = lowkeyUrl();
  if (!url) return;
  const client = new KeyClient(url, fixedTokenCredential, clientOptions());
  const keyName = name('signing-key');
  const created = await client.createRsaKey(keyName, { keySize: 2048 });
  const read = await client.getKey(keyName);
  expect(read.keyType).toBe('RSA');
  expect(read.properties.version).toBe(created.properties.version);
  expect(read.key?.n?.length).toBe(256);
  expect(read.key?.e).toBeDefined();
});

test('a self-signed certificate created through @azure/keyvault-certificates reads back with its CER', async () => {
  const url = lowkeyUrl();
  if (!url) return;
  const client = new CertificateClient(url, fixedTokenCredential, clientOptions());
  const certName = name('tls-cert');
  const poller = await client.beginCreateCertificate(
    certName,
    { ...DefaultCertificatePolicy, subject: 'CN=rig.example', validityInMonths: 12 },
    { intervalInMs: 250 },
  );
  await poller.pollUntilDone();
  const read = await client.getCertificate(certName);
  expect(read.cer?.length).toBeGreaterThan(100);
  expect(read.policy?.subject).toBe('CN=rig.example');
  // The certificate's secret (what the Azure provider reads) carries the key id of the certificate.
  const secrets = new SecretClient(url, fixedTokenCredential, clientOptions());
  const backing = await secrets.getSecret(certName);
  expect(backing.properties.keyId).toBeDefined();
  expect(['application/x-pkcs12', 'application/x-pem-file']).toContain(backing.properties.contentType);
});
