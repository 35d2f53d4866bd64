// The built provider against the harness/fakes Key Vault and Entra ID (real REST over HTTPS, the 401
// challenge, paging, disabled versions, chains, 429/5xx/stalls), reached through an AzureStackCloud
// file and a private /etc/hosts, as a cluster would reach Azure: file contents, modes and
// ObjectVersions; request economy (cache, single-flight, token reuse, identity isolation);
// throttling and bounded retries; oversized responses; and no secret in any log line or metric.
import { createPublicKey, generateKeyPairSync, KeyObject, randomBytes, sign } from 'node:crypto';
import { startFakeAzure, FakeAzure } from '../../../harness/fakes/fake-azure';
import { FakeImds } from '../../../harness/fakes/fake-imds';
import { canUsePrivilegedLoopback } from '../../../harness/fakes/loopback-hosts';
import { buildChain, chainCertificates, toPemBundle } from '../../../harness/fakes/x509';
import { encodePem } from '../../../runtime/provider/content/pem';
import { mountRequest, objectsYaml } from './support/mount-request';
import { ProviderClient } from './support/provider-client';
import { counterValue, spawnProvider, SpawnedProvider } from './support/spawned-provider';

jest.setTimeout(180_000);

const TENANT = '6f1d2c3b-0000-4000-8000-00000000a001';
const SP_A = { clientid: 'sp-a', clientsecret: `sp-a-secret-${randomBytes(8).toString('hex')}` };
const SP_B = { clientid: 'sp-b', clientsecret: `sp-b-secret-${randomBytes(8).toString('hex')}` };
const SECRET_VALUES: string[] = [];
/** Every error text a Mount returned in this suite (checked for secrets at the end). */
const ERROR_TEXTS: string[] = [];

let azure: FakeAzure;
let provider: SpawnedProvider;
let cloudFile: string;

/** Why the suite cannot run here (it needs root for the private /etc/hosts), or undefined. */
function cannotRun(): boolean {
  if (canUsePrivilegedLoopback()) return false;
  if (process.env.CI === 'true')
    throw new Error(
      'cannot run in CI: the fake-Azure provider tests need root (unshare --mount for a private /etc/hosts)',
    );
  console.warn(
    'provider fake-Azure tests not run here: they need root (unshare --mount for a private /etc/hosts)',
  );
  return true;
}
const skipHere = cannotRun();

function params(objects: ReadonlyArray<Record<string, string | number>>, extra: Record<string, string> = {}) {
  return {
    keyvaultName: 'kv1',
    tenantID: TENANT,
    cloudName: 'AzureStackCloud',
    cloudEnvFileName: cloudFile,
    objects: objectsYaml(objects),
    ...extra,
  };
}

function secret(
  name: string,
  value: string,
  options?: Parameters<FakeAzure['vault']['setSecret']>[3],
): string {
  SECRET_VALUES.push(value);
  return azure.vault.setSecret('kv1', name, value, options);
}

function gets(path: string): number {
  return azure.vault.stats().byPath[path] ?? 0;
}

beforeAll(async () => {
  if (skipHere) return;
  azure = await startFakeAzure({ tenantId: TENANT, vaultNames: ['kv1', 'kv-cold'] });
  cloudFile = azure.writeCloudFile();
  azure.entra.addClientSecret({ tenantId: TENANT, clientId: SP_A.clientid, clientSecret: SP_A.clientsecret });
  azure.entra.addClientSecret({ tenantId: TENANT, clientId: SP_B.clientid, clientSecret: SP_B.clientsecret });
  azure.entra.addFederatedClient({
    tenantId: TENANT,
    clientId: 'wi-1',
    subject: 'system:serviceaccount:team-a:app',
  });
  provider = await spawnProvider({
    hostsFile: azure.hostsFile,
    env: azure.ca.childEnv(),
    args: [
      '--keyvault-timeout=2s',
      '--keyvault-max-retries=2',
      '--cache-max-age=10m',
      '--log-level=debug',
      `--cloud-env-file-dir=${azure.dir}`,
    ],
  });
  const mountError = provider.client.mountError.bind(provider.client);
  provider.client.mountError = async (request) => {
    const err = await mountError(request);
    ERROR_TEXTS.push(err.details);
    return err;
  };
});

afterAll(async () => {
  await provider?.stop();
  await azure?.dispose();
});

describe('file contents', () => {
  it('writes secrets with each encoding, the request permission or filePermission, one ObjectVersion per file', async () => {
    if (skipHere) return;
    const binary = randomBytes(24);
    const v1 = secret('plain', 'héllo wörld');
    const v2 = secret('hexed', binary.toString('hex'));
    const v3 = secret('b64', binary.toString('base64'));
    const response = await provider.client.mount(
      mountRequest({
        parameters: params([
          { objectName: 'plain', objectType: 'secret' },
          {
            objectName: 'hexed',
            objectType: 'secret',
            objectEncoding: 'hex',
            objectAlias: 'dir/hexed.bin',
            filePermission: '0400',
          },
          { objectName: 'b64', objectType: 'secret', objectEncoding: 'base64', filePermission: '755' },
        ]),
        secrets: SP_A,
      }),
    );
    expect(response.files.map((f) => [f.path, f.mode])).toEqual([
      ['plain', 0o644],
      ['dir/hexed.bin', 0o400],
      ['b64', 0o755],
    ]);
    expect(response.files[0].contents.toString('utf8')).toBe('héllo wörld');
    expect(response.files[1].contents).toEqual(binary);
    expect(response.files[2].contents).toEqual(binary);
    expect(response.object_version).toEqual([
      { id: 'secret/plain', version: v1 },
      { id: 'secret/hexed', version: v2 },
      { id: 'secret/b64', version: v3 },
    ]);
  });

  it('orders a PFX chain leaf → intermediate → root after the key; keeps PEM as stored; serves pfx, cert and key views', async () => {
    if (skipHere) return;
    const chain = buildChain({ leafName: 'tls.example' });
    const shuffled = chainCertificates(chain, 'shuffled');
    const vPfx = azure.vault.importCertificate('kv1', 'tls-pfx', {
      leaf: chain.leaf,
      chain: shuffled,
      format: 'pfx',
    });
    azure.vault.importCertificate('kv1', 'tls-pem', { leaf: chain.leaf, chain: shuffled, format: 'pem' });
    const response = await provider.client.mount(
      mountRequest({
        parameters: params([
          { objectName: 'tls-pfx', objectType: 'secret' },
          { objectName: 'tls-pem', objectType: 'secret' },
          {
            objectName: 'tls-pfx',
            objectType: 'secret',
            objectFormat: 'pfx',
            objectEncoding: 'base64',
            objectAlias: 'tls.pfx',
          },
          { objectName: 'tls-pfx', objectType: 'cert', objectAlias: 'tls.crt' },
          { objectName: 'tls-pfx', objectType: 'key', objectAlias: 'tls.pub' },
        ]),
        secrets: SP_A,
      }),
    );
    const keyPem = chain.leaf.keyPem;
    const leafFirst = chainCertificates(chain, 'leaf-first')
      .map((c) => encodePem('CERTIFICATE', c.certDer))
      .join('');
    const files = Object.fromEntries(response.files.map((f) => [f.path, f.contents]));
    expect(files['tls-pfx'].toString()).toBe(keyPem + leafFirst);
    expect(files['tls-pem'].toString()).toBe(toPemBundle(chain.leaf, shuffled));
    expect(files['tls.pfx']).toEqual(Buffer.from(toPfxBase64Stored('tls-pfx'), 'base64'));
    expect(files['tls.crt'].toString()).toBe(chain.leaf.certPem);
    expect(files['tls.pub'].toString()).toBe(
      createPublicKey(chain.leaf.keyPem).export({ type: 'spki', format: 'pem' }).toString(),
    );
    expect(response.object_version.map((v) => v.id)).toEqual([
      'secret/tls-pfx',
      'secret/tls-pem',
      'secret/tls-pfx',
      'cert/tls-pfx',
      'key/tls-pfx',
    ]);
    expect(response.object_version[0].version).toBe(vPfx);
  });

  it('writes RSA and EC public keys', async () => {
    if (skipHere) return;
    const keys = {
      rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
      p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
      p521: generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey,
    };
    for (const [name, key] of Object.entries(keys)) azure.vault.setKey('kv1', `key-${name}`, key);
    const response = await provider.client.mount(
      mountRequest({
        parameters: params(
          Object.keys(keys).map((name) => ({ objectName: `key-${name}`, objectType: 'key' })),
        ),
        secrets: SP_A,
      }),
    );
    for (const [i, key] of Object.values(keys).entries()) {
      expect(response.files[i].contents.toString()).toBe(
        createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString(),
      );
    }
  });

  it('writes exactly N newest enabled versions for objectVersionHistory, across pages, from a pinned version', async () => {
    if (skipHere) return;
    const versions = Array.from({ length: 30 }, (_, i) => secret('hist', `value-${i}`));
    azure.vault.setEnabled('kv1', 'secrets', 'hist', versions[28], false);
    const newestFirst = [...versions].reverse().filter((v) => v !== versions[28]);
    const response = await provider.client.mount(
      mountRequest({
        parameters: params([
          { objectName: 'hist', objectType: 'secret', objectVersionHistory: 3, objectAlias: 'h' },
          {
            objectName: 'hist',
            objectType: 'secret',
            objectVersionHistory: 27,
            objectVersion: versions[26],
            objectAlias: 'old',
          },
        ]),
        secrets: SP_A,
      }),
    );
    const first = response.files.filter((f) => f.path.startsWith('h/'));
    expect(first.map((f) => [f.path, f.contents.toString()])).toEqual([
      ['h/0', 'value-29'],
      ['h/1', 'value-27'],
      ['h/2', 'value-26'],
    ]);
    const pinned = response.files.filter((f) => f.path.startsWith('old/'));
    expect(pinned).toHaveLength(27);
    expect(pinned[0].contents.toString()).toBe('value-26');
    expect(response.object_version.slice(0, 3)).toEqual([
      { id: 'secret/hist/0', version: newestFirst[0] },
      { id: 'secret/hist/1', version: newestFirst[1] },
      { id: 'secret/hist/2', version: newestFirst[2] },
    ]);
  });

  it("reports a missing object with the object named and Key Vault's answer", async () => {
    if (skipHere) return;
    const err = await provider.client.mountError(
      mountRequest({ parameters: params([{ objectName: 'nope', objectType: 'secret' }]), secrets: SP_A }),
    );
    expect(err.details).toMatch(
      /^failed to mount objects, error: failed to get objectType:secret, objectName:nope, objectVersion:: Key Vault returned 404 SecretNotFound/,
    );
  });
});

describe('request economy', () => {
  it('serves concurrent and repeated mounts of one identity with one Key Vault GET per object and one token', async () => {
    if (skipHere) return;
    secret('shared-1', 'shared value one');
    secret('shared-2', 'shared value two');
    azure.entra.addClientSecret({
      tenantId: TENANT,
      clientId: 'sp-economy',
      clientSecret: 'economy-secret-value',
    });
    const objects = [
      { objectName: 'shared-1', objectType: 'secret' },
      { objectName: 'shared-2', objectType: 'secret' },
    ];
    const sp = { clientid: 'sp-economy', clientsecret: 'economy-secret-value' };
    const wave = () =>
      Promise.all(
        Array.from({ length: 20 }, () =>
          provider.client.mount(mountRequest({ parameters: params(objects), secrets: sp })),
        ),
      );
    const first = await wave();
    const second = await wave();
    for (const response of [...first, ...second])
      expect(response.files.map((f) => f.contents.toString())).toEqual([
        'shared value one',
        'shared value two',
      ]);
    expect(gets('kv1/secrets/shared-1/')).toBe(1);
    expect(gets('kv1/secrets/shared-2/')).toBe(1);
    expect(azure.entra.stats().tokenRequestsByClient['sp-economy']).toBe(1);
    const metrics = await provider.metrics();
    expect(
      counterValue(metrics, 'keyvault_cache_requests_total', { result: 'hit' }) +
        counterValue(metrics, 'keyvault_cache_requests_total', { result: 'shared' }),
    ).toBeGreaterThanOrEqual(78);
  });

  it('takes one 401 challenge and one token for a cold 10-object Mount, then fetches the rest in parallel; a new identity on a known vault host takes none', async () => {
    if (skipHere) return;
    const names = Array.from({ length: 10 }, (_, i) => `cold-${i}`);
    names.forEach((name, i) => {
      SECRET_VALUES.push(`cold value ${i}`);
      azure.vault.setSecret('kv-cold', name, `cold value ${i}`);
    });
    // A vault host nobody has called yet: its first request learns the challenge's scope for every identity.
    for (const clientId of ['sp-cold', 'sp-cold-2'])
      azure.entra.addClientSecret({ tenantId: TENANT, clientId, clientSecret: 'cold-secret-value' });
    const coldMount = (clientid: string) =>
      provider.client.mount(
        mountRequest({
          parameters: params(
            names.map((objectName) => ({ objectName, objectType: 'secret' })),
            { keyvaultName: 'kv-cold' },
          ),
          secrets: { clientid, clientsecret: 'cold-secret-value' },
        }),
      );
    azure.vault.resetStats();
    // Latency keeps parallel requests overlapping at the vault, so maxInFlight shows them.
    azure.vault.latencyMs = 20;
    const response = await coldMount('sp-cold').finally(() => (azure.vault.latencyMs = 0));
    expect(response.files.map((f) => f.contents.toString())).toEqual(names.map((_, i) => `cold value ${i}`));
    const stats = azure.vault.stats();
    expect(stats.challenges).toBe(1);
    expect(stats.authorizedRequests).toBe(10);
    expect(azure.entra.stats().tokenRequestsByClient['sp-cold']).toBe(1);
    // The 9 after the first still go out together.
    expect(stats.maxInFlight).toBeGreaterThan(1);
    // Another identity on the same host sends its token with its first request (the SDK clients took
    // one challenge per identity × vault × object kind).
    azure.vault.resetStats();
    const second = await coldMount('sp-cold-2');
    expect(second.files.map((f) => f.contents.toString())).toEqual(names.map((_, i) => `cold value ${i}`));
    expect(azure.vault.stats().challenges).toBe(0);
    expect(azure.vault.stats().authorizedRequests).toBe(10);
    expect(azure.entra.stats().tokenRequestsByClient['sp-cold-2']).toBe(1);
  });

  it("never serves one identity's cached value to another", async () => {
    if (skipHere) return;
    secret('isolated', 'isolated value');
    const objects = [{ objectName: 'isolated', objectType: 'secret' }];
    await provider.client.mount(mountRequest({ parameters: params(objects), secrets: SP_A }));
    await provider.client.mount(mountRequest({ parameters: params(objects), secrets: SP_B }));
    expect(gets('kv1/secrets/isolated/')).toBe(2);
    // The same client id with a wrong secret is another identity: Entra ID refuses it, the cache does not answer.
    const err = await provider.client.mountError(
      mountRequest({
        parameters: params(objects),
        secrets: { clientid: 'sp-a', clientsecret: 'wrong-secret-value' },
      }),
    );
    expect(err.details).toContain('failed to get objectType:secret, objectName:isolated');
    expect(gets('kv1/secrets/isolated/')).toBe(2);
  });

  it('keys workload identity by service account: another service account with the same clientID gets no cached value', async () => {
    if (skipHere) return;
    secret('wi-secret', 'workload identity value');
    const objects = [{ objectName: 'wi-secret', objectType: 'secret' }];
    const tokens = (sub: string) =>
      JSON.stringify({
        'api://AzureADTokenExchange': {
          token: fakeServiceAccountJwt(sub),
          expirationTimestamp: new Date(Date.now() + 3600_000).toISOString(),
        },
      });
    const ok = await provider.client.mount(
      mountRequest({
        parameters: params(objects, {
          clientID: 'wi-1',
          'csi.storage.k8s.io/serviceAccount.tokens': tokens('system:serviceaccount:team-a:app'),
        }),
      }),
    );
    expect(ok.files[0].contents.toString()).toBe('workload identity value');
    const other = await provider.client.mountError(
      mountRequest({
        parameters: params(objects, {
          clientID: 'wi-1',
          'csi.storage.k8s.io/serviceAccount.tokens': tokens('system:serviceaccount:team-a:other'),
        }),
      }),
    );
    expect(other.details).toContain('No matching federated identity record');
    expect(gets('kv1/secrets/wi-secret/')).toBe(1);
  });

  it('serves nothing cached to a forged service-account token claiming an identity Entra ID has accepted', async () => {
    if (skipHere) return;
    const issuer = generateKeyPairSync('rsa', { modulusLength: 2048 });
    azure.entra.addFederatedClient({
      tenantId: TENANT,
      clientId: 'wi-signed',
      subject: 'system:serviceaccount:team-b:app',
      issuer: {
        url: 'https://kubernetes.default.svc',
        publicKeyPem: issuer.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    });
    const value = `team-b-value-${randomBytes(6).toString('hex')}`;
    secret('team-b-secret', value);
    const mountWith = (token: string) =>
      mountRequest({
        parameters: params([{ objectName: 'team-b-secret', objectType: 'secret' }], {
          clientID: 'wi-signed',
          'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({
            'api://AzureADTokenExchange': {
              token,
              expirationTimestamp: new Date(Date.now() + 3600_000).toISOString(),
            },
          }),
        }),
      });
    const requestsBefore = azure.entra.stats().tokenRequestsByClient['wi-signed'] ?? 0;
    const genuine = signedServiceAccountJwt('system:serviceaccount:team-b:app', issuer.privateKey);
    const ok = await provider.client.mount(mountWith(genuine));
    expect(ok.files[0].contents.toString()).toBe(value);
    // One exchange: the token Entra ID returned for it serves the Key Vault call.
    expect(azure.entra.stats().tokenRequestsByClient['wi-signed'] - requestsBefore).toBe(1);
    // Same claims (so the same identity key), not signed by the cluster: the cache must not answer.
    const forged = fakeServiceAccountJwt('system:serviceaccount:team-b:app');
    const refused = await provider.client.mountError(mountWith(forged));
    expect(refused.details).toBe(
      'failed to mount objects, error: failed to get objectType:secret, objectName:team-b-secret, objectVersion:: ' +
        refused.details.split('objectVersion:: ')[1],
    );
    expect(refused.details).toContain('AADSTS700211');
    expect(refused.details).not.toContain(value);
    expect(gets('kv1/secrets/team-b-secret/')).toBe(1);
    // The identity keeps working with its genuine tokens: the forged one was never presented again.
    const again = await provider.client.mount(mountWith(genuine));
    expect(again.files[0].contents.toString()).toBe(value);
    const renewed = await provider.client.mount(
      mountWith(signedServiceAccountJwt('system:serviceaccount:team-b:app', issuer.privateKey, 1)),
    );
    expect(renewed.files[0].contents.toString()).toBe(value);
    expect(gets('kv1/secrets/team-b-secret/')).toBe(1);
  });

  it('treats a Mount for a target path served before as rotation', async () => {
    if (skipHere) return;
    secret('rotating', 'r1');
    const request = mountRequest({
      parameters: params([{ objectName: 'rotating', objectType: 'secret' }]),
      secrets: SP_A,
    });
    const mountedLines = () => provider.logs.filter((l) => l.includes('"msg":"mounted"'));
    const before = mountedLines().length;
    await provider.client.mount(request);
    await provider.client.mount(request);
    // The answer comes over the socket, the log line over stderr: wait (bounded) until both lines are here.
    for (let i = 0; i < 100 && mountedLines().length < before + 2; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(
      mountedLines()
        .slice(-2)
        .map((l) => JSON.parse(l).priority),
    ).toEqual(['mount', 'rotation']);
  });

  it('lets a rotation check reuse a latest value only within --rotation-cache-max-age (2 s), a first mount within --cache-max-age', async () => {
    if (skipHere) return;
    secret('fresh-on-rotation', 'rotation-value-one');
    const objects = [{ objectName: 'fresh-on-rotation', objectType: 'secret' }];
    const podA = mountRequest({ parameters: params(objects), secrets: SP_A });
    const contents = async (request: typeof podA) =>
      (await provider.client.mount(request)).files[0].contents.toString();
    expect(await contents(podA)).toBe('rotation-value-one');
    secret('fresh-on-rotation', 'rotation-value-two');
    // Another pod's first mount: the identity's cached value (this suite runs --cache-max-age=10m).
    expect(await contents(mountRequest({ parameters: params(objects), secrets: SP_A }))).toBe(
      'rotation-value-one',
    );
    expect(gets('kv1/secrets/fresh-on-rotation/')).toBe(1);
    // Pod A's republish after the rotation window: Key Vault is asked, and the new version is served ...
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect(await contents(podA)).toBe('rotation-value-two');
    expect(gets('kv1/secrets/fresh-on-rotation/')).toBe(2);
    // ... and stored for the identity: the next pod's first mount gets it without a GET.
    expect(await contents(mountRequest({ parameters: params(objects), secrets: SP_A }))).toBe(
      'rotation-value-two',
    );
    expect(gets('kv1/secrets/fresh-on-rotation/')).toBe(2);
  });
});

describe('throttling and faults', () => {
  it('honours 429 Retry-After and succeeds within the retry budget', async () => {
    if (skipHere) return;
    secret('throttled', 'after the storm');
    const before = counterValue(await provider.metrics(), 'keyvault_retries_total', { reason: 'throttled' });
    azure.vault.injectFault({
      kind: 429,
      count: 2,
      retryAfterSeconds: 1,
      match: /^kv1\/secrets\/throttled\//,
    });
    const response = await provider.client.mount(
      mountRequest({
        parameters: params([{ objectName: 'throttled', objectType: 'secret' }]),
        secrets: SP_A,
      }),
    );
    expect(response.files[0].contents.toString()).toBe('after the storm');
    expect(gets('kv1/secrets/throttled/')).toBe(3);
    expect(
      counterValue(await provider.metrics(), 'keyvault_retries_total', { reason: 'throttled' }) - before,
    ).toBe(2);
  });

  it('bounds retries on 5xx and reports the last answer', async () => {
    if (skipHere) return;
    secret('broken', 'never served');
    azure.vault.injectFault({ kind: 503, count: 50, match: /^kv1\/secrets\/broken\// });
    const err = await provider.client.mountError(
      mountRequest({ parameters: params([{ objectName: 'broken', objectType: 'secret' }]), secrets: SP_A }),
    );
    expect(err.details).toContain(
      'failed to get objectType:secret, objectName:broken, objectVersion:: Key Vault returned 503',
    );
    // --keyvault-max-retries=2: one attempt plus two retries.
    expect(gets('kv1/secrets/broken/')).toBe(3);
    azure.vault.clearFaults();
  });

  it('retries a stalled request after the per-attempt timeout', async () => {
    if (skipHere) return;
    secret('stalled', 'eventually');
    azure.vault.injectFault({ kind: 'stall', count: 1, match: /^kv1\/secrets\/stalled\// });
    const response = await provider.client.mount(
      mountRequest({ parameters: params([{ objectName: 'stalled', objectType: 'secret' }]), secrets: SP_A }),
    );
    expect(response.files[0].contents.toString()).toBe('eventually');
    expect(
      counterValue(await provider.metrics(), 'keyvault_retries_total', { reason: 'timeout' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('fails an oversized response (over 4 MiB) with a clear error instead of a gRPC transport error', async () => {
    if (skipHere) return;
    const objects = Array.from({ length: 180 }, (_, i) => {
      azure.vault.setSecret('kv1', `big-${i}`, 'x'.repeat(24_000));
      return { objectName: `big-${i}`, objectType: 'secret' };
    });
    const err = await provider.client.mountError(
      mountRequest({ parameters: params(objects), secrets: SP_A }),
    );
    expect(err.details).toMatch(
      /^failed to mount objects, error: the mount response would be \d+ bytes, more than the 4194304-byte gRPC message limit \(largest files: big-/,
    );
  });
});

describe('managed identity through IMDS', () => {
  it('gets one IMDS token for repeated mounts of a user-assigned identity', async () => {
    if (skipHere) return;
    const imds = await FakeImds.start({ userAssignedClientIds: ['mi-1'] });
    const mi = await spawnProvider({
      hostsFile: azure.hostsFile,
      args: [`--cloud-env-file-dir=${azure.dir}`],
      env: { ...azure.ca.childEnv(), AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.endpoint },
    });
    try {
      secret('mi-secret', 'managed identity value');
      const request = () =>
        mountRequest({
          parameters: params([{ objectName: 'mi-secret', objectType: 'secret' }], {
            useVMManagedIdentity: 'true',
            userAssignedIdentityID: 'mi-1',
          }),
        });
      for (let i = 0; i < 3; i++)
        expect((await mi.client.mount(request())).files[0].contents.toString()).toBe(
          'managed identity value',
        );
      expect(imds.stats().tokensByClient['mi-1']).toBe(1);
      const wrong = await mi.client.mountError(
        mountRequest({
          parameters: params([{ objectName: 'mi-secret', objectType: 'secret' }], {
            useVMManagedIdentity: 'true',
            userAssignedIdentityID: 'mi-unknown',
          }),
        }),
      );
      expect(wrong.details).toContain('failed to get objectType:secret, objectName:mi-secret');
    } finally {
      await mi.stop();
      await imds.close();
    }
  });
});

describe('no oracle across identities', () => {
  it("words an echo of caller input the same whether or not it is another identity's secret", async () => {
    if (skipHere) return;
    // Identity A mounts its secret, so the provider has seen (and logs replace) the value.
    const value = `tenant-a-value-${randomBytes(6).toString('hex')}`;
    const decoy = `tenant-a-value-${randomBytes(6).toString('hex')}`;
    azure.vault.setSecret('kv1', 'a-private', value);
    const mounted = await provider.client.mount(
      mountRequest({
        parameters: params([{ objectName: 'a-private', objectType: 'secret' }]),
        secrets: SP_A,
      }),
    );
    expect(mounted.files[0].contents.toString()).toBe(value);
    // Identity B guesses A's value through parameters whose errors echo them. A client of its own, so
    // the suite-wide no-secret check does not count B's own echoes.
    const client = new ProviderClient(provider.socketPath);
    try {
      const guesses: Array<(guess: string) => Record<string, string>> = [
        (guess) => params([{ objectName: 'x', objectType: 'secret' }], { cloudName: guess }),
        (guess) => ({ ...params([{ objectName: 'x', objectType: 'secret' }]), keyvaultName: guess }),
        (guess) => params([{ objectName: 'x', objectType: 'secret', objectFormat: guess }]),
        (guess) => params([{ objectName: guess, objectType: 'secret', objectAlias: '/abs' }]),
        (guess) => params([{ objectName: guess, objectType: 'secret' }]),
        (guess) => params([{ objectName: 'x', objectType: 'secret' }], { usePodIdentity: guess }),
      ];
      for (const parameters of guesses) {
        const right = await client.mountError(mountRequest({ parameters: parameters(value), secrets: SP_B }));
        const wrong = await client.mountError(mountRequest({ parameters: parameters(decoy), secrets: SP_B }));
        expect(right.details).toContain(value);
        // The same text with the guess swapped (cloudName errors also echo it upper-cased).
        const swapped = wrong.details
          .split(decoy)
          .join(value)
          .split(decoy.toUpperCase())
          .join(value.toUpperCase());
        expect(right.details).toBe(swapped);
      }
    } finally {
      client.close();
    }
    // The metrics any pod can read carry no error text at all.
    const metrics = await provider.metrics();
    expect(metrics).not.toContain(value);
    expect(metrics).not.toContain(decoy);
  });
});

describe('log hygiene', () => {
  it('prints no secret value, client secret or token in any log line or metric', async () => {
    if (skipHere) return;
    expect(ERROR_TEXTS.length).toBeGreaterThanOrEqual(5);
    const text = provider.logs.join('\n') + (await provider.metrics()) + ERROR_TEXTS.join('\n');
    expect(provider.logs.length).toBeGreaterThan(10);
    for (const value of [
      ...SECRET_VALUES,
      SP_A.clientsecret,
      SP_B.clientsecret,
      'economy-secret-value',
      'wrong-secret-value',
    ]) {
      expect(text).not.toContain(value);
    }
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\./);
  });
});

/** The base64 PFX text the fake stores for a certificate-backed secret (what objectFormat: pfx returns). */
function toPfxBase64Stored(name: string): string {
  return (
    azure.vault as unknown as {
      vaults: Map<string, { secrets: Map<string, { versions: Array<{ data: { value: string } }> }> }>;
    }
  ).vaults
    .get('kv1')!
    .secrets.get(name)!
    .versions.at(-1)!.data.value;
}

/** A service-account JWT signed RS256 by `key`, as the apiserver signs projected tokens. */
function signedServiceAccountJwt(sub: string, key: KeyObject, skewSeconds = 0): string {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000) + skewSeconds;
  const unsigned = `${b64({ alg: 'RS256', kid: 'cluster' })}.${b64({ iss: 'https://kubernetes.default.svc', sub, aud: ['api://AzureADTokenExchange'], iat: now, exp: now + 3600 })}`;
  return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), key).toString('base64url')}`;
}

/** An unsigned service-account-shaped JWT; the fake Entra checks sub and aud, as federation does. */
function fakeServiceAccountJwt(sub: string): string {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'RS256', kid: 'test' })}.${b64({ iss: 'https://kubernetes.default.svc', sub, aud: ['api://AzureADTokenExchange'], iat: now, exp: now + 3600 })}.${randomBytes(32).toString('base64url')}`;
}
