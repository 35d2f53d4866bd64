// The shared "world" of the parity test and the provider benchmark: the fake Azure doubles on port 443
// of random loopback addresses, a service principal, an AzureStackCloud file pointing at them, a vault
// seeded with every kind of object, and the SPC parameters that select them.
import { generateKeyPairSync } from 'node:crypto';
import { FakeAzure, startFakeAzure } from '../fakes/fake-azure';
import { buildChain, chainCertificates, issueCertificate } from '../fakes/x509';

export const TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const SP_CLIENT_ID = '5a0c9d3e-1111-4e0e-9d1b-1c2d3e4f5a6b';
export const SP_CLIENT_SECRET = 'parity-sp-secret-not-for-logs';
export const VAULT = 'paritykv';
export const WI_CLIENT_ID = '0d7f1b2c-3333-4e0e-9d1b-7a6b5c4d3e2f';
export const WI_SUBJECT = 'system:serviceaccount:default:default';

/** The running world. */
export interface ParityWorld {
  readonly azure: FakeAzure;
  /** Path of the AzureStackCloud environment file. */
  readonly cloudFile: string;
  /** Versions of `history` in creation order (index 1 disabled). */
  readonly historyVersions: readonly string[];
  /** Base SPC parameters (vault, tenant, AzureStackCloud + cloud file), without `objects`. */
  readonly baseParameters: Readonly<Record<string, string>>;
  /** nodePublishSecretRef data of the service principal. */
  readonly spSecrets: Readonly<Record<string, string>>;
  /**
   * `csi.storage.k8s.io/serviceAccount.tokens` as the driver forwards it: a service-account-token-shaped
   * JWT for audience api://AzureADTokenExchange (the fake Entra ID checks claims, not signatures).
   */
  readonly serviceAccountTokens: string;
  /** Environment for provider processes: trust the test CA (Go and Node). */
  readonly providerEnv: Readonly<Record<string, string>>;
  /** Flags our provider needs in this world: the directory holding the cloud file (--cloud-env-file-dir). */
  readonly ourProviderFlags: readonly string[];
  dispose(): Promise<void>;
}

/** Properties of {@link startParityWorld}. */
export interface ParityWorldProps {
  /**
   * Latency the fake Key Vault adds per response, in ms.
   * @default 0
   */
  readonly keyVaultLatencyMs?: number;
  /**
   * Extra plain secrets `bench-<i>` (i = 0..n-1) for the benchmark.
   * @default 0
   */
  readonly benchSecrets?: number;
  /**
   * `resource` of the Key Vault's 401 challenge.
   * @default `https://vault.fake.test` (the parent domain of the vault host)
   */
  readonly keyVaultResource?: string;
  /**
   * More vaults beside {@link VAULT} (their host names go into the hosts file), for benchmarks that spread
   * Mounts over several vaults; the caller seeds them.
   * @default none
   */
  readonly extraVaultNames?: readonly string[];
}

/** `objects` YAML in upstream's format: an `array` of YAML document strings. */
export function objectsYaml(objects: readonly Readonly<Record<string, string | number>>[]): string {
  const items = objects.map((o) => {
    // Plain scalars where YAML allows them (so `filePermission: 0755` is tested as users write it).
    const scalar = (v: string | number) =>
      typeof v === 'number' || /^[A-Za-z0-9._/][A-Za-z0-9._/-]*$/.test(v) ? String(v) : JSON.stringify(v);
    const lines = Object.entries(o).map(([k, v]) => `${k}: ${scalar(v)}`);
    return `  - |\n${lines.map((l) => `    ${l}`).join('\n')}`;
  });
  return items.length === 0 ? 'array: []\n' : `array:\n${items.join('\n')}\n`;
}

/** Starts the doubles (port 443 on loopback: root only) and seeds the vault. */
export async function startParityWorld(props: ParityWorldProps = {}): Promise<ParityWorld> {
  const azure = await startFakeAzure({
    tenantId: TENANT_ID,
    vaultNames: [VAULT, ...(props.extraVaultNames ?? [])],
    port443: true,
    keyVaultLatencyMs: props.keyVaultLatencyMs,
    keyVaultResource: props.keyVaultResource,
  });
  azure.entra.addClientSecret({
    tenantId: TENANT_ID,
    clientId: SP_CLIENT_ID,
    clientSecret: SP_CLIENT_SECRET,
  });
  azure.entra.addFederatedClient({ tenantId: TENANT_ID, clientId: WI_CLIENT_ID, subject: WI_SUBJECT });
  const v = azure.vault;

  v.setSecret(VAULT, 'plain', 'hello wörld ✓\n');
  v.setSecret(VAULT, 'hexval', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]).toString('hex'));
  v.setSecret(VAULT, 'b64val', Buffer.from([0, 1, 2, 250, 251, 252, 10, 13]).toString('base64'));
  v.setSecret(VAULT, 'spaced', '  keep my spaces  ');
  const historyVersions = ['one', 'two', 'three', 'four', 'five'].map((value) =>
    v.setSecret(VAULT, 'history', value),
  );
  v.setEnabled(VAULT, 'secrets', 'history', historyVersions[1], false);

  const chain = buildChain({ leafName: 'app.parity.test', intermediates: 2 });
  const shuffled = chainCertificates(chain, 'shuffled');
  v.importCertificate(VAULT, 'pem-chain', { leaf: chain.leaf, chain: shuffled, format: 'pem' });
  v.importCertificate(VAULT, 'pfx-chain', { leaf: chain.leaf, chain: shuffled, format: 'pfx' });
  v.importCertificate(VAULT, 'pfx-rootfirst', {
    leaf: chain.leaf,
    chain: chainCertificates(chain, 'root-first'),
    format: 'pfx',
  });
  const bare = buildChain({ leafName: 'bare.parity.test', intermediates: 1, keyIdentifiers: false });
  v.importCertificate(VAULT, 'pfx-incomplete', {
    leaf: bare.leaf,
    chain: chainCertificates(bare, 'shuffled'),
    format: 'pfx',
  });
  const selfSigned = issueCertificate({ commonName: 'self.parity.test', dnsNames: ['self.parity.test'] });
  v.importCertificate(VAULT, 'pfx-selfsigned', { leaf: selfSigned, format: 'pfx' });
  v.setSecret(VAULT, 'odd-content-type', 'x', { contentType: 'application/json' });

  v.setKey(VAULT, 'rsa-key', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
  v.setKey(VAULT, 'ec256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
  v.setKey(VAULT, 'ec384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey);
  v.setKey(VAULT, 'ec521', generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey);

  for (let i = 0; i < (props.benchSecrets ?? 0); i++) v.setSecret(VAULT, `bench-${i}`, `bench value ${i}`);

  const cloudFile = azure.writeCloudFile('AzureStackCloud');
  return {
    azure,
    cloudFile,
    historyVersions,
    baseParameters: {
      keyvaultName: VAULT,
      tenantID: TENANT_ID,
      cloudName: 'AzureStackCloud',
      cloudEnvFileName: cloudFile,
    },
    spSecrets: { clientid: SP_CLIENT_ID, clientsecret: SP_CLIENT_SECRET },
    serviceAccountTokens: JSON.stringify({
      'api://AzureADTokenExchange': {
        token: fakeServiceAccountToken(WI_SUBJECT, 'api://AzureADTokenExchange'),
        expirationTimestamp: '2099-01-01T00:00:00Z',
      },
    }),
    providerEnv: azure.ca.childEnv(),
    ourProviderFlags: [`--cloud-env-file-dir=${azure.dir}`],
    dispose: () => azure.dispose(),
  };
}

/**
 * An unsigned JWT with the claims of a projected service-account token; `podName` goes into the
 * `kubernetes.io` claim as kubelet's per-pod tokens carry it, so two pods' tokens differ.
 */
export function fakeServiceAccountToken(subject: string, audience: string, podName?: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return [
    part({ alg: 'RS256', kid: 'parity', typ: 'JWT' }),
    part({
      aud: [audience],
      iss: 'https://oidc.fake.test/',
      sub: subject,
      iat: now,
      nbf: now,
      exp: 4070908800,
      ...(podName ? { 'kubernetes.io': { pod: { name: podName } } } : {}),
    }),
    Buffer.from('not-a-real-signature').toString('base64url'),
  ].join('.');
}
