// A pod author on a shared cluster reaches the provider through SecretProviderClass parameters and
// volumeAttributes. Each row below is one such input, sent to our provider process and to the real
// upstream provider (built by harness/rig/build.sh), both behind the same fake Key Vault and Entra ID,
// with another identity ("tenant A") having mounted its own secret first. For ours every row asserts:
// a clear error; no leak (no other identity's secret, no client secret or service-account token, no
// byte of a node file; where the input is a guess at tenant A's secret, the same text whether or not
// the guess is right); that the provider serves the next request; and, after the table, its RSS.
// Upstream's answer is recorded next to ours (docs/security.md quotes the table).
import { generateKeyPairSync, KeyObject, randomBytes, sign } from 'node:crypto';
import { symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { objectsYaml, ParityWorld, startParityWorld, VAULT } from '../../../harness/provider/parity-world';
import {
  MountInput,
  MountOutcome,
  ourProviderCommand,
  ProviderProcess,
  upstreamProviderBinary,
  upstreamProviderCommand,
  whyProvidersCannotRun,
} from '../../../harness/provider/provider-process';

jest.setTimeout(300_000);

const reason = whyProvidersCannotRun();
if (reason && process.env.CI === 'true') throw new Error(`hostile-input suite cannot run: ${reason}`);

const hex = (n: number) => randomBytes(n).toString('hex').slice(0, n);
/** Tenant A's secret value: shaped like a Key Vault name (so a guess of it reaches Key Vault), 30 chars. */
const TENANT_A_VALUE = `a${hex(29)}`;
/** A wrong guess of the same shape. */
const DECOY = `a${hex(29)}`;
const TENANT_B = { clientid: '2b0c9d3e-2222-4e0e-9d1b-1c2d3e4f5a6b', clientsecret: `tenant-b-${hex(24)}` };
const TENANT_B_VALUE = `tenant-b-own-${hex(12)}`;
/** Bounds the upstream process's address space, so its unbounded reads kill it, not the machine. */
const UPSTREAM_ADDRESS_SPACE = String(1024 * 1024 * 1024);
/** Our provider's RSS after the whole table may exceed its RSS before by at most this... */
const MAX_RSS_GROWTH_KIB = 64 * 1024;
/** ... and its RSS after any row by at most this. */
const MAX_PEAK_GROWTH_KIB = 96 * 1024;

let world: ParityWorld;
let ours: ProviderProcess;
let upstream: ProviderProcess;
let genuineToken: string;
let rssBeforeKiB = 0;
const report: Array<{ name: string; ours: string; upstream: string; oursRssKiB: number }> = [];

interface Row {
  readonly name: string;
  /** The Mount a pod author sends; `guess` is tenant A's secret or a decoy of its shape. */
  readonly input: (guess: string) => MountInput;
  /** Our answer (always an error). */
  readonly expect: RegExp;
  /** The input is a guess at tenant A's secret: our text must not depend on whether it is right. */
  readonly oracle?: boolean;
}

function tenantB(
  parameters: Record<string, string | null>,
  objects?: readonly Record<string, string | number>[] | string,
): MountInput {
  const merged: Record<string, string> = { ...world.baseParameters };
  for (const [k, v] of Object.entries(parameters)) {
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  const objectsText =
    objects === undefined
      ? objectsYaml([{ objectName: 'tenant-b-own', objectType: 'secret' }])
      : typeof objects === 'string'
        ? objects
        : objectsYaml(objects);
  return { parameters: { ...merged, objects: objectsText }, secrets: TENANT_B };
}

const stack = (cloudEnvFileName: string) => tenantB({ cloudName: 'AzureStackCloud', cloudEnvFileName });
const objectError = (text: string) =>
  new RegExp(
    `^failed to mount objects, error: failed to get objectType:\\w+, objectName:[^,]*, objectVersion:[^:]*: ${text}`,
  );
const limit = (what: string) =>
  new RegExp(
    `^failed to mount objects, error: ${what} is \\d+ bytes, more than the \\d+ this provider accepts`,
  );
const outsideDir =
  /cloudEnvFileName ".*" is not inside .*, the directory this provider reads cloud environment files from \(--cloud-env-file-dir\); name a file in it$/;

function forgedToken(subject: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'RS256', kid: 'cluster' })}.${part({ iss: 'https://kubernetes.default.svc', sub: subject, aud: ['api://AzureADTokenExchange'], iat: now, exp: now + 3600 })}.${randomBytes(64).toString('base64url')}`;
}

function signedToken(subject: string, key: KeyObject): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: 'RS256', kid: 'cluster' })}.${part({ iss: 'https://kubernetes.default.svc', sub: subject, aud: ['api://AzureADTokenExchange'], iat: now, exp: now + 3600 })}`;
  return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), key).toString('base64url')}`;
}

const tokens = (token: string, audience = 'api://AzureADTokenExchange') =>
  JSON.stringify({ [audience]: { token, expirationTimestamp: '2099-01-01T00:00:00Z' } });

const PASTED_TOKEN = forgedToken('system:serviceaccount:team-a:app');

const rows: Row[] = [
  // Files on the node.
  { name: 'cloudEnvFileName /dev/zero', input: () => stack('/dev/zero'), expect: outsideDir },
  {
    name: 'cloudEnvFileName /proc/self/environ',
    input: () => stack('/proc/self/environ'),
    expect: outsideDir,
  },
  { name: 'cloudEnvFileName /etc/shadow', input: () => stack('/etc/shadow'), expect: outsideDir },
  {
    name: 'cloudEnvFileName the kubelet service-account token path',
    input: () => stack('/var/run/secrets/kubernetes.io/serviceaccount/token'),
    expect: outsideDir,
  },
  {
    name: 'cloudEnvFileName ../../../../etc/passwd',
    input: () => stack('../../../../etc/passwd'),
    expect: outsideDir,
  },
  {
    name: 'cloudEnvFileName a symlink in the allowed directory to /etc/passwd',
    input: () => stack(join(world.azure.dir, 'passwd-link.json')),
    expect: outsideDir,
  },
  {
    name: 'cloudEnvFileName a non-JSON file in the allowed directory (no byte echoed)',
    input: () => stack(join(world.azure.dir, 'notes.json')),
    expect: /cloud environment file \S+notes.json is not valid JSON$/,
  },
  // Sizes.
  {
    name: 'attributes of 2 MiB',
    input: () => tenantB({ padding: 'p'.repeat(2 * 1024 * 1024) }),
    expect: limit('the attributes JSON'),
  },
  {
    name: 'objects YAML of 200 KiB',
    input: () => tenantB({}, `array: []\n#${'c'.repeat(200 * 1024)}`),
    expect: limit('parameter objects'),
  },
  {
    name: '1,001 objects',
    input: () =>
      tenantB(
        {},
        Array.from({ length: 1001 }, (_, i) => ({ objectName: `s${i}`, objectType: 'secret' })),
      ),
    expect: /the array lists 1001 objects, more than the 1000 one SecretProviderClass may mount/,
  },
  {
    name: 'objectVersionHistory 2147483647',
    input: () =>
      tenantB({}, [{ objectName: 'tenant-b-own', objectType: 'secret', objectVersionHistory: 2147483647 }]),
    expect: /the objects ask for 2147483647 object versions .* more than the 1000 one Mount fetches/,
  },
  {
    name: 'YAML nested 60,000 deep',
    input: () => tenantB({}, `array: ${'['.repeat(60_000)}${']'.repeat(60_000)}`),
    expect: /flow collections nested deeper than 64 levels/,
  },
  {
    name: 'YAML with 20,000 repeated keys',
    input: () => tenantB({}, `array: []\n${'k: v\n'.repeat(20_000)}`),
    expect:
      /^failed to mount objects, error: failed to yaml unmarshal objects, error: yaml: unmarshal errors:\n {2}line 3: mapping key "k" already defined at line 2/,
  },
  {
    name: 'YAML alias expansion ("billion laughs")',
    input: () =>
      tenantB(
        {},
        'a: &a ["x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\narray: [*c,*c,*c,*c,*c,*c,*c,*c]\n',
      ),
    expect:
      /^failed to mount objects, error: failed to yaml unmarshal objects, error: yaml: unmarshal errors:/,
  },
  {
    name: 'service-account tokens of 512 KiB',
    input: () =>
      tenantB({ clientID: 'x', 'csi.storage.k8s.io/serviceAccount.tokens': 't'.repeat(512 * 1024) }),
    expect: limit('parameter csi.storage.k8s.io/serviceAccount.tokens'),
  },
  {
    name: 'a client secret of 512 KiB',
    input: () => ({ ...tenantB({}), secrets: { clientid: 'x', clientsecret: 's'.repeat(512 * 1024) } }),
    expect: limit('clientsecret in the nodePublishSecretRef secret'),
  },
  {
    name: 'cloudName of 512 KiB',
    input: () => tenantB({ cloudName: 'x'.repeat(512 * 1024) }),
    expect: limit('parameter cloudName'),
  },
  {
    name: 'a 33-byte permission',
    input: () => ({ ...tenantB({}), permission: '9'.repeat(33) }),
    expect: limit('the permission JSON'),
  },
  // Paths, control characters, names that are not names.
  {
    name: 'objectAlias ../../etc/cron.d/x',
    input: () =>
      tenantB({}, [{ objectName: 'tenant-b-own', objectType: 'secret', objectAlias: '../../etc/cron.d/x' }]),
    expect: objectError("file name must not contain '..'"),
  },
  {
    name: 'objectAlias /etc/passwd',
    input: () =>
      tenantB({}, [{ objectName: 'tenant-b-own', objectType: 'secret', objectAlias: '/etc/passwd' }]),
    expect: objectError('file name must be a relative path'),
  },
  {
    name: "objectAlias ..data (the atomic writer's own name)",
    input: () => tenantB({}, [{ objectName: 'tenant-b-own', objectType: 'secret', objectAlias: '..data' }]),
    expect: objectError("file name must not contain '..'"),
  },
  {
    name: 'objectAlias with a newline and an ANSI escape',
    input: () =>
      tenantB(
        {},
        'array:\n  - |\n    objectName: tenant-b-own\n    objectType: secret\n    objectAlias: "ok\\nFAKE LOG LINE \\x1b[31m"\n',
      ),
    expect: objectError('file name must not contain control characters \\(U\\+000A at position 2\\)'),
  },
  {
    name: 'objectAlias a//b',
    input: () => tenantB({}, [{ objectName: 'tenant-b-own', objectType: 'secret', objectAlias: 'a//b' }]),
    expect: objectError("file name must not have empty or '.' path elements"),
  },
  {
    name: 'two objects writing one file',
    input: () =>
      tenantB({}, [
        { objectName: 'tenant-b-own', objectType: 'secret', objectAlias: 'same' },
        { objectName: 'plain', objectType: 'secret', objectAlias: 'same' },
      ]),
    expect:
      /objects secret\/tenant-b-own and secret\/plain both write "same"; give one of them another objectAlias$/,
  },
  {
    name: "an object writing inside another's file",
    input: () =>
      tenantB({}, [
        { objectName: 'tenant-b-own', objectType: 'secret', objectAlias: 'conf' },
        { objectName: 'plain', objectType: 'secret', objectAlias: 'conf/inner' },
      ]),
    expect: /object secret\/plain writes "conf\/inner" inside the file "conf" of object secret\/tenant-b-own/,
  },
  {
    name: 'objectName ../keys/rsa-key (a path in the Key Vault URL)',
    input: () => tenantB({}, [{ objectName: '../keys/rsa-key', objectType: 'secret', objectAlias: 'k' }]),
    expect: objectError('objectName must be 1-127 letters, digits and dashes'),
  },
  {
    name: 'objectName with a query string',
    input: () =>
      tenantB({}, [{ objectName: 'plain?api-version=2016-10-01', objectType: 'secret', objectAlias: 'q' }]),
    expect: objectError('objectName must be 1-127 letters, digits and dashes'),
  },
  {
    name: 'objectVersion ../../keys/rsa-key',
    input: () =>
      tenantB({}, [
        { objectName: 'plain', objectType: 'secret', objectVersion: '../../keys/rsa-key', objectAlias: 'v' },
      ]),
    expect: objectError('objectVersion must be empty, "latest" or a Key Vault version id'),
  },
  {
    name: 'keyvaultName with a NUL byte',
    input: () => tenantB({ keyvaultName: 'kv\u0000evil' }),
    expect:
      /^failed to mount objects, error: failed to get vault: Invalid vault name: "kv\\u0000evil", must match \[-a-zA-Z0-9\]\{3,24\}$/,
  },
  // Tokens.
  {
    name: "a forged service-account token claiming another service account's identity",
    input: () =>
      tenantB(
        {
          clientID: 'wi-guarded',
          'csi.storage.k8s.io/serviceAccount.tokens': tokens(forgedToken('system:serviceaccount:team-a:app')),
        },
        [{ objectName: 'tenant-a-private', objectType: 'secret' }],
      ),
    expect: objectError('.*AADSTS700211'),
  },
  {
    name: 'a token for another audience only',
    input: () =>
      tenantB({
        clientID: 'wi-guarded',
        'csi.storage.k8s.io/serviceAccount.tokens': tokens(forgedToken('x'), 'api://other'),
      }),
    expect:
      /failed to parse workload identity tokens, error: token for audience api:\/\/AzureADTokenExchange not found$/,
  },
  {
    name: 'a service-account token pasted into cloudName is never echoed',
    input: () => tenantB({ cloudName: PASTED_TOKEN }),
    // Not even upper-cased, as the cloud lookup's message echoes the name.
    expect:
      /^failed to mount objects, error: cloudName \[REDACTED\] is not valid, error: autorest\/azure: There is no cloud environment matching the name "\[REDACTED\]"$/,
  },
  // Guesses at tenant A's secret.
  {
    name: "cloudName = a guess at another tenant's secret",
    input: (guess) => tenantB({ cloudName: guess }),
    expect:
      /^failed to mount objects, error: cloudName a[0-9a-f]{29} is not valid, error: autorest\/azure: There is no cloud environment matching the name "A[0-9A-F]{29}"$/,
    oracle: true,
  },
  {
    name: "keyvaultName = a guess at another tenant's secret",
    input: (guess) => tenantB({ keyvaultName: guess }),
    expect:
      /^failed to mount objects, error: failed to get vault: Invalid vault name: "a[0-9a-f]{29}", must be between 3 and 24 chars$/,
    oracle: true,
  },
  {
    name: "objectName = a guess at another tenant's secret",
    input: (guess) => tenantB({}, [{ objectName: guess, objectType: 'secret' }]),
    expect: objectError(
      'Key Vault returned 404 SecretNotFound: A secret with \\(name/id\\) a[0-9a-f]{29} was not found',
    ),
    oracle: true,
  },
  {
    name: "objectFormat = a guess at another tenant's secret",
    input: (guess) =>
      tenantB({}, [{ objectName: 'tenant-b-own', objectType: 'secret', objectFormat: guess }]),
    expect: objectError('invalid objectFormat: a[0-9a-f]{29}, should be PEM or PFX'),
    oracle: true,
  },
  {
    name: "usePodIdentity = a guess at another tenant's secret",
    input: (guess) => tenantB({ usePodIdentity: guess }),
    expect:
      /failed to parse usePodIdentity flag, error: strconv.ParseBool: parsing "a[0-9a-f]{29}": invalid syntax$/,
    oracle: true,
  },
  {
    name: "nodePublishSecretRef clientid = a guess at another tenant's secret",
    input: (guess) => ({ ...tenantB({}), secrets: { clientid: guess, clientsecret: 'wrong' } }),
    expect: objectError('.*a[0-9a-f]{29}'),
    oracle: true,
  },
];

beforeAll(async () => {
  if (reason) return;
  world = await startParityWorld();
  world.azure.entra.addClientSecret({
    tenantId: world.baseParameters.tenantID,
    clientId: TENANT_B.clientid,
    clientSecret: TENANT_B.clientsecret,
  });
  const issuer = generateKeyPairSync('rsa', { modulusLength: 2048 });
  world.azure.entra.addFederatedClient({
    tenantId: world.baseParameters.tenantID,
    clientId: 'wi-guarded',
    subject: 'system:serviceaccount:team-a:app',
    issuer: {
      url: 'https://kubernetes.default.svc',
      publicKeyPem: issuer.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    },
  });
  genuineToken = signedToken('system:serviceaccount:team-a:app', issuer.privateKey);
  world.azure.vault.setSecret(VAULT, 'tenant-a-private', TENANT_A_VALUE);
  world.azure.vault.setSecret(VAULT, 'tenant-b-own', TENANT_B_VALUE);
  writeFileSync(join(world.azure.dir, 'notes.json'), `tenant notes ${TENANT_A_VALUE} {`);
  symlinkSync('/etc/passwd', join(world.azure.dir, 'passwd-link.json'));
  const common = { hostsFile: world.azure.hostsFile, env: world.providerEnv };
  [ours, upstream] = await Promise.all([
    ProviderProcess.start({
      name: 'ours',
      ...ourProviderCommand([...world.ourProviderFlags, '--keyvault-max-retries=1']),
      ...common,
    }),
    startUpstream(),
  ]);
  // Tenant A mounts its secret on both, by service principal and by workload identity: each
  // provider has now seen the value a guess aims at.
  for (const provider of [ours, upstream]) {
    for (const input of tenantAMounts()) {
      const outcome = await provider.mount(input);
      if (!outcome.ok) throw new Error(`tenant A's mount failed on ${provider.name}: ${outcome.message}`);
      expect(outcome.files[0].contents.toString()).toBe(TENANT_A_VALUE);
    }
  }
  rssBeforeKiB = ours.rssKiB();
});

function tenantAMounts(): MountInput[] {
  const objects = objectsYaml([{ objectName: 'tenant-a-private', objectType: 'secret' }]);
  return [
    { parameters: { ...world.baseParameters, objects }, secrets: world.spSecrets },
    {
      parameters: {
        ...world.baseParameters,
        objects,
        clientID: 'wi-guarded',
        'csi.storage.k8s.io/serviceAccount.tokens': tokens(genuineToken),
      },
      secrets: null,
    },
  ];
}

function startUpstream(): Promise<ProviderProcess> {
  const binary = upstreamProviderBinary();
  const command = upstreamProviderCommand(binary);
  return ProviderProcess.start({
    name: 'upstream',
    command: 'prlimit',
    args: (ports) => [`--as=${UPSTREAM_ADDRESS_SPACE}`, binary, ...command.args(ports)],
    hostsFile: world.azure.hostsFile,
    env: world.providerEnv,
  });
}

afterAll(async () => {
  if (!reason && report.length > 0) {
    const path = join(tmpdir(), 'aks-secrets-store-hostile-inputs.json');
    const peakKiB = Math.max(0, ...report.map((r) => r.oursRssKiB));
    writeFileSync(
      path,
      JSON.stringify({ rssBeforeKiB, rssAfterKiB: ours?.rssKiB(), peakKiB, rows: report }, null, 2),
    );
    const cell = (text: string) => text.replace(/\n/g, ' ').replace(/\|/g, '\\|').slice(0, 160);
    console.log(
      [
        `hostile inputs: ${report.length} rows; our provider's RSS ${rssBeforeKiB} KiB before, ${ours?.rssKiB()} KiB after, ${peakKiB} KiB at most after a row; report ${path}`,
        '| input | ours | upstream v1.8.2 |',
        '| --- | --- | --- |',
        ...report.map((r) => `| ${cell(r.name)} | ${cell(r.ours)} | ${cell(r.upstream)} |`),
      ].join('\n'),
    );
  }
  await Promise.all([ours?.stop(), upstream?.stop()]);
  await world?.dispose();
});

const secretsNeverShown = () => [
  TENANT_A_VALUE,
  world.spSecrets.clientsecret,
  TENANT_B.clientsecret,
  genuineToken,
  PASTED_TOKEN,
  PASTED_TOKEN.toUpperCase(),
  'root:x:0:0',
  'PATH=',
];

function withoutRequestIds(text: string): string {
  return text
    .replace(/Timestamp: [0-9: Z-]+/g, 'Timestamp: <time>')
    .replace(/(Correlation|Trace) ID: [0-9a-f-]+/gi, '$1 ID: <id>');
}

/** The Go runtime's fatal line, if the process printed one. */
function lastFatalLine(logs: string): string {
  return /^(fatal error: .*|runtime: out of memory.*)$/m.exec(logs)?.[0] ?? 'no fatal error printed';
}

function describeOutcome(outcome: MountOutcome): string {
  return outcome.ok
    ? `succeeded (${outcome.files.length} files)`
    : `${grpcName(outcome.grpcCode)}: ${outcome.message}`;
}

function grpcName(code: number): string {
  return (
    ({ 2: 'Unknown', 4: 'DeadlineExceeded', 14: 'Unavailable' } as Record<number, string>)[code] ??
    `code ${code}`
  );
}

describe('hostile inputs', () => {
  it('has at least 20 rows', () => {
    expect(rows.length).toBeGreaterThanOrEqual(20);
  });

  test.each(rows.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    if (reason) {
      console.log(`hostile-input suite not run: ${reason}`);
      return;
    }
    const outcome = await ours.mount(row.input(TENANT_A_VALUE));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.grpcCode).toBe(2);
    expect(outcome.message).toMatch(row.expect);
    expect(outcome.message.length).toBeLessThan(4096);
    for (const value of secretsNeverShown()) {
      if (row.oracle && value === TENANT_A_VALUE) continue;
      expect(outcome.message).not.toContain(value);
    }
    if (row.oracle) {
      // The guess is echoed; a wrong guess of the same shape reads exactly the same.
      const wrong = await ours.mount(row.input(DECOY));
      expect(wrong.ok).toBe(false);
      if (wrong.ok) return;
      const swapped = wrong.message
        .split(DECOY)
        .join(TENANT_A_VALUE)
        .split(DECOY.toUpperCase())
        .join(TENANT_A_VALUE.toUpperCase());
      // Entra ID's answers carry a time and request ids, which differ between any two calls.
      expect(withoutRequestIds(outcome.message)).toBe(withoutRequestIds(swapped));
    }
    // The provider keeps serving.
    const next = await ours.mount(tenantB({}));
    expect(next.ok && next.files[0].contents.toString()).toBe(TENANT_B_VALUE);

    let upstreamText = describeOutcome(await upstream.mount(row.input(TENANT_A_VALUE), 30_000));
    const answering = await upstream.version(5000).then(
      () => true,
      () => false,
    );
    if (!answering) {
      upstreamText += upstream.running
        ? ' (the upstream provider stopped answering Version; restarted for the next row)'
        : ` (the upstream provider died: ${lastFatalLine(upstream.logs())}; restarted for the next row)`;
      await upstream.stop();
      upstream = await startUpstream();
    }
    report.push({ name: row.name, ours: outcome.message, upstream: upstreamText, oursRssKiB: ours.rssKiB() });
  });

  it('keeps its memory bounded over the table and prints no secret in a log line', () => {
    if (reason) return;
    const rssAfterKiB = ours.rssKiB();
    const peakKiB = Math.max(rssAfterKiB, ...report.map((r) => r.oursRssKiB));
    expect(rssAfterKiB - rssBeforeKiB).toBeLessThan(MAX_RSS_GROWTH_KIB);
    // The heaviest row (100 KB of repeated YAML keys) costs the yaml library ~40 MiB while it parses.
    expect(peakKiB - rssBeforeKiB).toBeLessThan(MAX_PEAK_GROWTH_KIB);
    // The install's memory limit for our provider.
    expect(peakKiB).toBeLessThan(256 * 1024);
    const logs = ours.logs();
    for (const value of secretsNeverShown().slice(0, 4)) expect(logs).not.toContain(value);
  });
});
