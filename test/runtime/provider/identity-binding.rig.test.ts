// Identity binding (useAzureTokenProxy) in parity with the real upstream provider v1.8 (built by
// harness/rig/build.sh): both processes get the same Mounts against the same fake AKS token proxy
// (harness/fakes/fake-token-proxy.ts) in front of the same fake Entra ID and Key Vault, and must
// return the same files, ObjectVersions and error texts, and send the token proxy the same token
// request. With no flags both find the proxy as on AKS: kubernetes.default.svc.cluster.local (a
// private hosts file) on 443, the TLS server name computed from the API server certificate's
// cluster id, trust through /var/run/secrets/kubernetes.io/serviceaccount/ca.crt (a file only the
// provider's mount namespace has; the cluster CA is not in the trust store). Then the flags
// --token-proxy-url (with a path) and --sni-name, a proxy that is down, the wrong server name, and a
// cluster that is not AKS. Hostile inputs: a forged token (another signer, same subject) after a good
// one was served, a service account the identity is not bound to, a token for the other audience.
// No token appears in any error or in our provider's log.
import { generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeTokenProxy } from '../../../harness/fakes/fake-token-proxy';
import { randomLoopbackAddress } from '../../../harness/fakes/loopback-hosts';
import { TestCa } from '../../../harness/fakes/test-ca';
import {
  objectsYaml,
  ParityWorld,
  startParityWorld,
  TENANT_ID,
} from '../../../harness/provider/parity-world';
import {
  MountInput,
  MountOutcome,
  ourProviderCommand,
  ProviderProcess,
  upstreamProviderBinary,
  upstreamProviderCommand,
  whyProvidersCannotRun,
} from '../../../harness/provider/provider-process';
import type { TokenProxyRequest } from '../../../harness/fakes/fake-token-proxy';

jest.setTimeout(180_000);

const reason = whyProvidersCannotRun();
if (reason && process.env.CI === 'true') throw new Error(`identity-binding parity cannot run: ${reason}`);

const UAMI = '6e1c2d3f-4444-4e0e-9d1b-0a1b2c3d4e5f';
const UAMI_FLAGS = '6e1c2d3f-5555-4e0e-9d1b-0a1b2c3d4e5f';
const BOUND = 'system:serviceaccount:default:default';
const CLUSTER_ISSUER = 'https://oidc.cluster.test/';
const OBJECT_PREFIX =
  'failed to mount objects, error: failed to get objectType:secret, objectName:plain, objectVersion:: ';
const PREFIX = `${OBJECT_PREFIX}ClientAssertionCredential authentication failed`;

const clusterKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attackerKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** A projected service-account token signed by `key`, as the driver forwards it. */
function tokens(key: KeyObject, subject = BOUND, audience = 'api://AKSIdentityBinding'): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ aud: [audience], iss: CLUSTER_ISSUER, sub: subject, iat: now, exp: now + 3600 })}`;
  const token = `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), key).toString('base64url')}`;
  return JSON.stringify({ [audience]: { token, expirationTimestamp: '2099-01-01T00:00:00Z' } });
}

interface Case {
  readonly name: string;
  readonly parameters: Readonly<Record<string, string | null>>;
  /** Set when ours differs on purpose: the compatibility note and what to assert instead. */
  readonly deviation?: {
    readonly note: string;
    readonly check: (ours: MountOutcome, upstream: MountOutcome, env: Env) => void;
  };
}

/** The proxy answered with an error: same text up to the credential, same AADSTS code, ours on one line. */
function proxyErrorDeviation(code: string, extra?: RegExp): Case['deviation'] {
  return {
    note: "a token proxy error is one line (proxy URL, status, Entra ID error and description) instead of azidentity's multi-line POST/RESPONSE/JSON dump; the text up to the credential and the AADSTS code are the same",
    check: (ours, upstream) => {
      expect(ours.ok || upstream.ok).toBe(false);
      if (ours.ok || upstream.ok) return;
      for (const m of [ours.message, upstream.message]) {
        expect(m.startsWith(PREFIX)).toBe(true);
        expect(m).toMatch(extra ?? code);
      }
      expect(ours.message).toContain(code);
      expect(ours.message).not.toContain('\n');
      expect(ours.grpcCode).toBe(upstream.grpcCode);
    },
  };
}

/** The proxy could not be reached: both fail on the credential; ours says where and what to check. */
function unreachableDeviation(ours: (env: Env) => RegExp, upstream: RegExp): Case['deviation'] {
  return {
    note: "an unreachable token proxy is named with its URL and TLS server name (and, for a certificate error, what to check) on one line, after `ClientAssertionCredential authentication failed: `, instead of `ClientAssertionCredential: unable to resolve an endpoint: server response error:` and Go's transport error on the next line",
    check: (o, u, env) => {
      expect(o.ok || u.ok).toBe(false);
      if (o.ok || u.ok) return;
      // Upstream fails on its first request, the tenant's OpenID metadata (ours sends only the token request).
      expect(
        u.message.startsWith(`${OBJECT_PREFIX}ClientAssertionCredential: unable to resolve an endpoint: `),
      ).toBe(true);
      expect(u.message).toMatch(upstream);
      expect(o.message.startsWith(`${PREFIX}: the AKS token proxy `)).toBe(true);
      expect(o.message).toMatch(ours(env));
      expect(o.grpcCode).toBe(u.grpcCode);
    },
  };
}

const plain = objectsYaml([{ objectName: 'plain', objectType: 'secret' }]);
const bindingParameters = (clientId: string, saTokens: string): Record<string, string> => ({
  useAzureTokenProxy: 'true',
  clientID: clientId,
  objects: plain,
  'csi.storage.k8s.io/serviceAccount.tokens': saTokens,
});

const onAksCases: Case[] = [
  {
    name: 'a bound service account mounts',
    parameters: bindingParameters(UAMI, tokens(clusterKey.privateKey)),
  },
  {
    name: 'hostile: a forged token (another signer) for the same service account, after a good one was served',
    parameters: bindingParameters(UAMI, tokens(attackerKey.privateKey)),
    deviation: proxyErrorDeviation('AADSTS700211'),
  },
  {
    name: 'hostile: a service account the identity is not bound to',
    parameters: bindingParameters(
      UAMI,
      tokens(clusterKey.privateKey, 'system:serviceaccount:default:intruder'),
    ),
    deviation: proxyErrorDeviation('AADSTS700213'),
  },
  {
    name: 'error: only a workload-identity token (api://AzureADTokenExchange)',
    parameters: bindingParameters(UAMI, tokens(clusterKey.privateKey, BOUND, 'api://AzureADTokenExchange')),
  },
  {
    name: 'error: useAzureTokenProxy without clientID',
    parameters: { ...bindingParameters(UAMI, tokens(clusterKey.privateKey)), clientID: null },
  },
  {
    name: 'error: useAzureTokenProxy with useVMManagedIdentity',
    parameters: { ...bindingParameters(UAMI, tokens(clusterKey.privateKey)), useVMManagedIdentity: 'true' },
  },
];

interface Setup {
  readonly title: string;
  readonly flags: (env: Env) => string[];
  /** Whether the providers find the cluster CA at the service-account path. */
  readonly caFile: boolean;
  readonly cases: readonly Case[];
  /** Compare the token requests the proxy received from each (happy path). */
  readonly compareRequests?: FakeTokenProxy;
}

interface Env {
  readonly world: ParityWorld;
  readonly onAks: FakeTokenProxy;
  readonly flagged: FakeTokenProxy;
  readonly closedPort: number;
}

let env: Env | undefined;
let clusterCa: TestCa;
let dir: string;
let hostsFile: string;

beforeAll(async () => {
  if (reason) return;
  const world = await startParityWorld();
  clusterCa = TestCa.create({ commonName: 'cluster CA (identity-binding parity)' });
  const issuer = {
    url: CLUSTER_ISSUER,
    publicKeyPem: clusterKey.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
  // The in-cluster proxy: port 443 of the address kubernetes.default.svc.cluster.local names, signed by
  // a CA only the service-account ca.crt carries.
  let onAks: FakeTokenProxy | undefined;
  let address = '';
  for (let attempt = 1; !onAks; attempt++) {
    address = randomLoopbackAddress();
    onAks = await FakeTokenProxy.start({
      ca: clusterCa,
      entra: world.azure.entra,
      entraCaPem: world.azure.ca.caCertPem,
      host: address,
      port: 443,
      clusterId: '6543abcd1234ef00',
      serviceAccountIssuer: issuer,
    }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EADDRINUSE' || attempt >= 5) throw e;
      return undefined;
    });
  }
  // The flags' proxy: another URL with a path, the machine's trust store (the world's CA).
  const flagged = await FakeTokenProxy.start({
    ca: world.azure.ca,
    entra: world.azure.entra,
    pathPrefix: '/identity-binding',
    clusterId: 'fake-cluster-0002',
    serviceAccountIssuer: issuer,
  });
  world.azure.entra.addFederatedClient(onAks.federatedRegistration(TENANT_ID, UAMI));
  world.azure.entra.addFederatedClient(flagged.federatedRegistration(TENANT_ID, UAMI_FLAGS));
  onAks.allow(BOUND, UAMI);
  flagged.allow(BOUND, UAMI_FLAGS);
  dir = mkdtempSync(join(tmpdir(), 'aks-ss-identity-binding-'));
  hostsFile = join(dir, 'hosts');
  writeFileSync(
    hostsFile,
    `${readFileSync(world.azure.hostsFile, 'utf8')}${address} kubernetes.default.svc.cluster.local\n`,
  );
  const closedPort = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
  env = { world, onAks, flagged, closedPort };
});

afterAll(async () => {
  await env?.onAks.close();
  await env?.flagged.close();
  await env?.world.dispose();
  clusterCa?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const setups: Setup[] = [
  {
    title:
      'no flags: the in-cluster proxy, the server name from the API server certificate, the cluster CA file',
    flags: () => [],
    caFile: true,
    cases: onAksCases,
  },
  {
    title: '--token-proxy-url with a path and --sni-name, no CA file (the trust store)',
    flags: (e) => [`--token-proxy-url=${e.flagged.url}`, `--sni-name=${e.flagged.serverName}`],
    caFile: false,
    cases: [
      {
        name: 'a bound service account mounts',
        parameters: bindingParameters(UAMI_FLAGS, tokens(clusterKey.privateKey)),
      },
    ],
  },
  {
    title: 'a token proxy that is down',
    flags: (e) => [
      `--token-proxy-url=https://127.0.0.1:${e.closedPort}`,
      `--sni-name=${e.flagged.serverName}`,
    ],
    caFile: false,
    cases: [
      {
        name: 'error: connection refused',
        parameters: bindingParameters(UAMI_FLAGS, tokens(clusterKey.privateKey)),
        deviation: unreachableDeviation(
          (e) =>
            new RegExp(
              `https://127\\.0\\.0\\.1:${e.closedPort} \\(TLS server name .*\\) could not be reached: connect ECONNREFUSED`,
            ),
          /connection refused/,
        ),
      },
    ],
  },
  {
    title: 'the wrong --sni-name',
    flags: (e) => [`--token-proxy-url=${e.flagged.url}`, '--sni-name=a0wrong.ests.aks'],
    caFile: false,
    cases: [
      {
        name: "error: the proxy's certificate is not valid for that name",
        parameters: bindingParameters(UAMI_FLAGS, tokens(clusterKey.privateKey)),
        deviation: unreachableDeviation(
          () =>
            /\(TLS server name a0wrong\.ests\.aks\) could not be reached: .*check --sni-name, --token-proxy-url and the service-account ca\.crt/,
          /x509: certificate is valid for .*, not a0wrong\.ests\.aks/,
        ),
      },
    ],
  },
  {
    title: 'not AKS: no flags and no service-account CA file',
    flags: () => [],
    caFile: false,
    cases: [
      {
        name: 'error: the server name cannot be computed',
        parameters: bindingParameters(UAMI, tokens(clusterKey.privateKey)),
      },
    ],
  },
];

/** What must match in a token request (upstream's MSAL adds fields; see the deviation note). */
function requestShape(r: TokenProxyRequest) {
  return {
    serverName: r.serverName,
    method: r.method,
    path: r.path,
    host: r.host,
    contentType: r.contentType,
    clientId: r.form.client_id,
    grantType: r.form.grant_type,
    assertionType: r.form.client_assertion_type,
    firstScope: (r.form.scope ?? '').split(' ')[0],
    assertionSubject: r.assertionClaims?.sub,
    assertionAudience: r.assertionClaims?.aud,
    status: r.status,
  };
}

describe.each(setups)('identity binding parity with the upstream provider, $title', (setup) => {
  let ours: ProviderProcess;
  let upstream: ProviderProcess;

  beforeAll(async () => {
    if (reason || !env) return;
    const e = env;
    const common = {
      hostsFile,
      env: e.world.providerEnv,
      ...(setup.caFile ? { serviceAccountCaFile: clusterCa.caCertPath } : {}),
    };
    [ours, upstream] = await Promise.all([
      ProviderProcess.start({
        name: 'ours',
        ...ourProviderCommand([...e.world.ourProviderFlags, ...setup.flags(e)]),
        ...common,
      }),
      ProviderProcess.start({
        name: 'upstream',
        ...upstreamProviderCommand(upstreamProviderBinary(), setup.flags(e)),
        ...common,
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([ours?.stop(), upstream?.stop()]);
  });

  test.each(setup.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    if (reason || !env) {
      console.log(`identity-binding parity not run: ${reason}`);
      return;
    }
    const e = env;
    const parameters: Record<string, string> = { ...e.world.baseParameters };
    for (const [k, v] of Object.entries(c.parameters)) {
      if (v === null) delete parameters[k];
      else parameters[k] = v;
    }
    const input: MountInput = { parameters, secrets: null };
    const saToken = JSON.parse(parameters['csi.storage.k8s.io/serviceAccount.tokens']) as Record<
      string,
      { token: string }
    >;
    const tokenValue = Object.values(saToken)[0].token;

    // One at a time, so each provider's requests to the proxies are its own.
    const seen = (p: FakeTokenProxy) => p.requests().filter((r) => r.method === 'POST');
    e.onAks.resetStats();
    e.flagged.resetStats();
    const o = await ours.mount(input);
    const oursRequests = [...seen(e.onAks), ...seen(e.flagged)].map(requestShape);
    e.onAks.resetStats();
    e.flagged.resetStats();
    const u = await upstream.mount(input);
    const upstreamRequests = [...seen(e.onAks), ...seen(e.flagged)].map(requestShape);

    for (const outcome of [o, u]) if (!outcome.ok) expect(outcome.message).not.toContain(tokenValue);
    expect(ours.logs()).not.toContain(tokenValue);

    if (c.deviation) {
      c.deviation.check(o, u, e);
    } else if (o.ok && u.ok) {
      expect(o.files.map((f) => [f.path, f.mode, f.contents.toString('base64')])).toEqual(
        u.files.map((f) => [f.path, f.mode, f.contents.toString('base64')]),
      );
      expect(o.objectVersions).toEqual(u.objectVersions);
      // The same token request (upstream's MSAL also asks the tenant's OpenID metadata first, GET).
      expect(oursRequests).toEqual(upstreamRequests);
      expect(oursRequests).toHaveLength(1);
      expect(oursRequests[0].status).toBe(200);
    } else {
      expect({ ok: o.ok, ...(o.ok ? {} : { code: o.grpcCode, message: o.message }) }).toEqual({
        ok: u.ok,
        ...(u.ok ? {} : { code: u.grpcCode, message: u.message }),
      });
    }
  });
});
