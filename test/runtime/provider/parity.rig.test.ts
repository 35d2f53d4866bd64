// Parity with the real upstream Azure provider (secrets-store-csi-driver-provider-azure, built by
// harness/rig/build.sh): both processes get the same Mount over their own unix sockets, against the same
// fake Key Vault and token endpoint (service principal, AzureStackCloud with a cloud file), and must
// return the same files (path, bytes, mode), ObjectVersions and error texts. A case that differs on
// purpose names the deviation (docs/compatibility.md) and asserts exactly that difference.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  startParityWorld,
  objectsYaml,
  ParityWorld,
  ParityWorldProps,
  WI_CLIENT_ID,
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

jest.setTimeout(120_000);

const reason = whyProvidersCannotRun();
if (reason && process.env.CI === 'true') throw new Error(`parity cannot run: ${reason}`);

type Obj = Record<string, string | number>;

interface ParityCase {
  readonly name: string;
  /** Objects of the SPC (`objects` parameter); a string is used verbatim. */
  readonly objects?: readonly Obj[] | string;
  /** Parameters added to (or, with null, removed from) the base parameters. */
  readonly parameters?: Readonly<Record<string, string | null>>;
  /** nodePublishSecretRef data; default: the service principal. */
  readonly secrets?: Readonly<Record<string, string>> | null;
  readonly permission?: string;
  readonly podName?: string | null;
  /** Set when ours differs on purpose: the compatibility note, and what to assert instead. */
  readonly deviation?: {
    readonly note: string;
    readonly check: (ours: MountOutcome, upstream: MountOutcome) => void;
  };
}

/** Key Vault error responses: same object prefix and Key Vault code, one line instead of the Go SDK's dump. */
function keyVaultErrorDeviation(objectPrefix: string, keyVaultCode: string): ParityCase['deviation'] {
  return {
    note: "Key Vault errors are one line (status, Key Vault code, message, hint) instead of the Go SDK's multi-line GET/RESPONSE/JSON dump; the object prefix and the Key Vault code are the same",
    check: (ours, upstream) => {
      expect(upstream.ok || ours.ok).toBe(false);
      if (ours.ok || upstream.ok) return;
      for (const m of [ours.message, upstream.message]) {
        expect(m.startsWith(`failed to mount objects, error: ${objectPrefix}`)).toBe(true);
        expect(m).toContain(keyVaultCode);
      }
      expect(ours.message).not.toContain('\n');
      expect(ours.grpcCode).toBe(upstream.grpcCode);
    },
  };
}

const secret = (objectName: string, extra: Obj = {}): Obj => ({ objectName, objectType: 'secret', ...extra });

const cases: ParityCase[] = [
  { name: 'secret utf-8 (default encoding)', objects: [secret('plain')] },
  {
    name: 'secret utf-8 explicit + whitespace kept in the value',
    objects: [secret('plain', { objectEncoding: 'utf-8', objectAlias: 'p' }), secret('spaced')],
  },
  { name: 'secret hex', objects: [secret('hexval', { objectEncoding: 'hex' })] },
  {
    name: 'secret base64 (case-insensitive encoding)',
    objects: [secret('b64val', { objectEncoding: 'BASE64' })],
  },
  {
    name: 'aliases incl. a sub-directory',
    objects: [
      secret('plain', { objectAlias: 'dir/sub/plain.txt' }),
      secret('hexval', { objectAlias: 'h', objectEncoding: 'hex' }),
    ],
  },
  { name: 'specific objectVersion', objects: [secret('history', { objectVersion: 'VERSION:0' })] },
  {
    name: 'cert-backed secret, PEM stored with a shuffled chain (as stored)',
    objects: [secret('pem-chain')],
  },
  { name: 'cert-backed secret, PFX → PEM, key first, chain leaf→root', objects: [secret('pfx-chain')] },
  { name: 'cert-backed secret, PFX stored root-first', objects: [secret('pfx-rootfirst')] },
  {
    name: 'cert-backed secret, PFX without AKI/SKI keeps the stored order',
    objects: [secret('pfx-incomplete')],
  },
  { name: 'cert-backed secret, PFX self-signed', objects: [secret('pfx-selfsigned')] },
  {
    name: 'objectFormat pfx (base64 text of the PFX)',
    objects: [secret('pfx-chain', { objectFormat: 'pfx' })],
  },
  {
    name: 'objectFormat pfx + objectEncoding base64 (binary .pfx)',
    objects: [secret('pfx-chain', { objectFormat: 'PFX', objectEncoding: 'base64', objectAlias: 'tls.pfx' })],
  },
  {
    name: 'objectFormat pfx on a PEM-stored cert is ignored',
    objects: [secret('pem-chain', { objectFormat: 'pfx' })],
  },
  {
    name: 'keys RSA and EC P-256/384/521 → PUBLIC KEY',
    objects: ['rsa-key', 'ec256', 'ec384', 'ec521'].map((n) => ({ objectName: n, objectType: 'key' })),
  },
  {
    name: 'cert → leaf CERTIFICATE only',
    objects: [{ objectName: 'pem-chain', objectType: 'cert', objectAlias: 'leaf.crt' }],
  },
  {
    name: 'all kinds in one SPC, SPC order kept',
    objects: [
      { objectName: 'ec256', objectType: 'key' },
      secret('pfx-chain'),
      { objectName: 'pfx-chain', objectType: 'cert', objectAlias: 'c' },
      secret('plain'),
    ],
  },
  {
    name: 'filePermission per object, octal text',
    objects: [
      secret('plain', { filePermission: '0755' }),
      secret('hexval', { objectEncoding: 'hex', filePermission: '400' }),
    ],
  },
  { name: 'driver permission 0600 as the default mode', objects: [secret('plain')], permission: '384' },
  {
    name: 'history 10 with 5 versions, one disabled: all enabled, newest first',
    objects: [secret('history', { objectVersionHistory: 10 })],
  },
  {
    name: 'history 2 with 4 enabled versions',
    objects: [secret('history', { objectVersionHistory: 2, objectAlias: 'h' })],
    deviation: {
      note: 'objectVersionHistory: N returns exactly N versions; upstream returns N+1 when more exist (loop off-by-one)',
      check: (ours, upstream) => {
        expect(upstream.ok && ours.ok).toBe(true);
        if (!upstream.ok || !ours.ok) return;
        expect(upstream.files.map((f) => f.path)).toEqual(['h/0', 'h/1', 'h/2']);
        expect(ours.files).toEqual(upstream.files.slice(0, 2));
        expect(ours.objectVersions).toEqual(upstream.objectVersions.slice(0, 2));
      },
    },
  },
  {
    name: 'history starting at a given version',
    objects: [secret('history', { objectVersionHistory: 3, objectVersion: 'VERSION:3' })],
  },
  {
    name: 'tenantId (deprecated spelling) accepted',
    parameters: { tenantID: null, tenantId: 'TENANT' },
    objects: [secret('plain')],
  },
  {
    name: 'values are trimmed',
    parameters: { keyvaultName: '  paritykv  ' },
    objects: [secret('plain', { objectName: '  plain  ' })],
  },
  {
    name: 'zero objects',
    objects: 'array: []\n',
    deviation: {
      note: 'an SPC with zero objects is an error saying so; upstream answers no files and no ObjectVersions, which the driver then rejects as "missing object versions"',
      check: (ours, upstream) => {
        expect(upstream).toMatchObject({ ok: true, files: [], objectVersions: [] });
        expect(ours.ok).toBe(false);
        if (!ours.ok) expect(ours.message).toMatch(/no objects/);
      },
    },
  },
  {
    name: 'secrets keys matched case-insensitively',
    secrets: { ClientID: 'SP_ID', CLIENTSECRET: 'SP_SECRET' },
    objects: [secret('plain')],
  },
  {
    // Our parameter (docs/compatibility P25); without --outage-max-staleness ours answers as upstream.
    name: 'serveLastKnownContentOnOutage "true" is ignored by upstream, and by ours without the flag',
    parameters: { serveLastKnownContentOnOutage: 'true' },
    objects: [secret('plain')],
  },
  {
    name: 'serveLastKnownContentOnOutage not a Go bool',
    parameters: { serveLastKnownContentOnOutage: 'yes' },
    objects: [secret('plain')],
    deviation: {
      note: 'our parameter serveLastKnownContentOnOutage is parsed as the identity switches are (Go ParseBool) and refused when it is not a boolean; upstream does not read it',
      check: (ours, upstream) => {
        expect(upstream.ok).toBe(true);
        expect(ours).toMatchObject({
          ok: false,
          message:
            'failed to mount objects, error: failed to parse serveLastKnownContentOnOutage flag, error: strconv.ParseBool: parsing "yes": invalid syntax',
        });
      },
    },
  },
  // Workload identity: the service-account token forwarded by the driver is exchanged at the token endpoint.
  {
    name: 'workload identity (clientID + service-account token)',
    parameters: { clientID: 'WI_ID', 'csi.storage.k8s.io/serviceAccount.tokens': 'WI_TOKENS' },
    secrets: null,
    objects: [secret('plain'), { objectName: 'ec384', objectType: 'key' }],
  },
  {
    name: 'error: workload identity without the token for api://AzureADTokenExchange',
    parameters: {
      clientID: 'WI_ID',
      'csi.storage.k8s.io/serviceAccount.tokens':
        '{"api://other":{"token":"x","expirationTimestamp":"2099-01-01T00:00:00Z"}}',
    },
    secrets: null,
    objects: [secret('plain')],
  },
  {
    name: 'error: workload identity with tokens that are not JSON',
    parameters: { clientID: 'WI_ID', 'csi.storage.k8s.io/serviceAccount.tokens': 'not json' },
    secrets: null,
    objects: [secret('plain')],
    deviation: {
      note: "JSON parse errors (service-account tokens, attributes) end with Node's JSON.parse message instead of Go's encoding/json message; the text before it is the same",
      check: (ours, upstream) => {
        expect(upstream.ok || ours.ok).toBe(false);
        if (ours.ok || upstream.ok) return;
        const prefix =
          'failed to mount objects, error: failed to build auth config for mode None: failed to parse workload identity tokens, error: failed to unmarshal service account tokens, error: ';
        expect(upstream.message.startsWith(prefix)).toBe(true);
        expect(ours.message.startsWith(prefix)).toBe(true);
        expect(ours.grpcCode).toBe(upstream.grpcCode);
      },
    },
  },

  {
    name: 'error: clientID in VM managed identity mode still needs the service-account token',
    parameters: { clientID: 'WI_ID', useVMManagedIdentity: 'true' },
    secrets: null,
    objects: [secret('plain')],
  },
  // Errors: same gRPC code and message.
  { name: 'error: pod name missing', podName: null, objects: [secret('plain')] },
  { name: 'error: keyvaultName missing', parameters: { keyvaultName: null }, objects: [secret('plain')] },
  { name: 'error: tenant missing', parameters: { tenantID: null }, objects: [secret('plain')] },
  {
    name: 'error: usePodIdentity not a bool',
    parameters: { usePodIdentity: 'tru' },
    objects: [secret('plain')],
  },
  {
    name: 'error: two identity modes',
    parameters: { usePodIdentity: 'true', useVMManagedIdentity: 'true' },
    objects: [secret('plain')],
  },
  {
    name: 'error: unknown cloudName',
    parameters: { cloudName: 'MarsCloud', cloudEnvFileName: null },
    objects: [secret('plain')],
  },
  {
    name: 'error: cloud file outside the allowed directory',
    parameters: { cloudEnvFileName: '/nonexistent/cloud.json' },
    objects: [secret('plain')],
    deviation: {
      note: 'cloudEnvFileName must name a file inside the --cloud-env-file-dir directory; a path outside is refused before anything is opened (upstream opens any path the pod names)',
      check: (ours, upstream) => {
        expect(!upstream.ok && upstream.message).toContain(
          'open /nonexistent/cloud.json: no such file or directory',
        );
        expect(!ours.ok && ours.message).toMatch(
          /^failed to mount objects, error: cloudName AzureStackCloud is not valid, error: cloudEnvFileName "\/nonexistent\/cloud.json" is not inside .*--cloud-env-file-dir/,
        );
      },
    },
  },
  {
    name: 'error: cloud file missing inside the allowed directory',
    parameters: { cloudEnvFileName: 'CLOUD_DIR/missing.json' },
    objects: [secret('plain')],
    deviation: {
      note: 'the same error as upstream for a missing file, once the file is inside --cloud-env-file-dir',
      check: (ours, upstream) => {
        expect(ours.ok || upstream.ok).toBe(false);
        if (ours.ok || upstream.ok) return;
        expect(upstream.message).toMatch(/open \S+\/missing.json: no such file or directory$/);
        expect(ours.message).toBe(upstream.message);
      },
    },
  },
  { name: 'error: no nodePublishSecretRef', secrets: null, objects: [secret('plain')] },
  { name: 'error: clientsecret missing', secrets: { clientid: 'x' }, objects: [secret('plain')] },
  { name: 'error: objects missing', objects: '' },
  { name: 'error: objects not in array form', objects: '- objectName: plain\n  objectType: secret\n' },
  { name: 'error: invalid objectFormat', objects: [secret('plain', { objectFormat: 'pkcs' })] },
  {
    name: 'error: objectEncoding on a key',
    objects: [{ objectName: 'ec256', objectType: 'key', objectEncoding: 'hex' }],
  },
  { name: 'error: invalid objectEncoding', objects: [secret('plain', { objectEncoding: 'rot13' })] },
  {
    name: 'error: pfx with objectType cert',
    objects: [{ objectName: 'pfx-chain', objectType: 'cert', objectFormat: 'pfx' }],
  },
  { name: 'error: alias ../x', objects: [secret('plain', { objectAlias: '../x' })] },
  { name: 'error: alias /abs', objects: [secret('plain', { objectAlias: '/abs' })] },
  { name: 'error: alias a/../../b', objects: [secret('plain', { objectAlias: 'a/../../b' })] },
  { name: 'error: alias ..data', objects: [secret('plain', { objectAlias: '..data' })] },
  { name: 'error: invalid vault name', parameters: { keyvaultName: 'kv_bad!' }, objects: [secret('plain')] },
  {
    name: 'error: objectVersion latest outside history mode is sent verbatim',
    objects: [secret('plain', { objectVersion: 'latest' })],
    deviation: keyVaultErrorDeviation(
      'failed to get objectType:secret, objectName:plain, objectVersion:latest: ',
      'SecretNotFound',
    ),
  },
  {
    name: 'error: wrong client secret',
    secrets: { clientid: 'SP_ID', clientsecret: 'wrong-secret-value' },
    objects: [secret('plain')],
    deviation: {
      note: 'token endpoint errors come from @azure/identity (MSAL JS) instead of azidentity (MSAL Go): same AADSTS code, different wording',
      check: (ours, upstream) => {
        expect(upstream.ok || ours.ok).toBe(false);
        if (ours.ok || upstream.ok) return;
        expect(upstream.message).toContain('AADSTS7000215');
        expect(ours.message).toContain('AADSTS7000215');
        expect(ours.message).not.toContain('wrong-secret-value');
      },
    },
  },
  { name: 'error: unknown objectType', objects: [{ objectName: 'plain', objectType: 'blob' }] },
  {
    name: 'error: hex encoding of a non-hex value',
    objects: [secret('plain', { objectEncoding: 'hex' })],
    deviation: {
      note: "a decoding error (objectEncoding hex/base64) names the object like every other object error; upstream returns Go's bare decoder error",
      check: (ours, upstream) => {
        expect(upstream.ok || ours.ok).toBe(false);
        if (ours.ok || upstream.ok) return;
        const bare = upstream.message.replace('failed to mount objects, error: ', '');
        expect(ours.message).toBe(
          `failed to mount objects, error: failed to get objectType:secret, objectName:plain, objectVersion:: ${bare}`,
        );
        expect(ours.grpcCode).toBe(upstream.grpcCode);
      },
    },
  },
  { name: 'error: unknown content type of a cert-backed secret', objects: [secret('odd-content-type')] },
  {
    name: 'error: secret not found',
    objects: [secret('no-such-secret')],
    deviation: keyVaultErrorDeviation(
      'failed to get objectType:secret, objectName:no-such-secret, objectVersion:: ',
      'SecretNotFound',
    ),
  },
  {
    name: 'invalid filePermission',
    objects: [secret('plain', { filePermission: '0900' })],
    deviation: {
      note: 'an invalid filePermission is an error naming the object; upstream silently writes mode 0',
      check: (ours, upstream) => {
        expect(upstream.ok && upstream.files[0].mode).toBe(0);
        expect(ours.ok).toBe(false);
        if (!ours.ok) expect(ours.message).toMatch(/filePermission/);
      },
    },
  },
];

/** Differences between two outcomes, as readable lines (empty when identical). */
function differences(ours: MountOutcome, upstream: MountOutcome): string[] {
  const diffs: string[] = [];
  if (ours.ok !== upstream.ok) {
    return [
      `ours ${ours.ok ? 'succeeded' : `failed: ${ours.message}`}; upstream ${upstream.ok ? 'succeeded' : `failed: ${upstream.message}`}`,
    ];
  }
  if (!ours.ok && !upstream.ok) {
    if (ours.grpcCode !== upstream.grpcCode)
      diffs.push(`gRPC code: ours ${ours.grpcCode}, upstream ${upstream.grpcCode}`);
    if (ours.message !== upstream.message)
      diffs.push(`error text:\n  ours:     ${ours.message}\n  upstream: ${upstream.message}`);
    return diffs;
  }
  if (ours.ok && upstream.ok) {
    if (ours.errorCode !== upstream.errorCode)
      diffs.push(`error.code: ours ${ours.errorCode}, upstream ${upstream.errorCode}`);
    const paths = (o: typeof ours) => o.files.map((f) => f.path).join(', ');
    if (paths(ours) !== paths(upstream))
      diffs.push(`file paths: ours [${paths(ours)}], upstream [${paths(upstream)}]`);
    upstream.files.forEach((u, i) => {
      const o = ours.files[i];
      if (!o || o.path !== u.path) return;
      if (o.mode !== u.mode)
        diffs.push(`${u.path}: mode ours ${o.mode.toString(8)}, upstream ${u.mode.toString(8)}`);
      if (!o.contents.equals(u.contents))
        diffs.push(
          `${u.path}: contents differ (ours ${o.contents.length} bytes, upstream ${u.contents.length} bytes)`,
        );
    });
    const versions = (o: typeof ours) => JSON.stringify(o.objectVersions);
    if (versions(ours) !== versions(upstream))
      diffs.push(`ObjectVersions: ours ${versions(ours)}, upstream ${versions(upstream)}`);
  }
  return diffs;
}

/** Cert-backed secret cases again, with both providers started with the same non-default flags. */
const flagCases: ParityCase[] = [
  { name: 'PEM-backed secret', objects: [secret('pem-chain')] },
  { name: 'PFX-backed secret', objects: [secret('pfx-chain')] },
  { name: 'PFX-backed secret without AKI/SKI', objects: [secret('pfx-incomplete')] },
  { name: 'objectFormat pfx', objects: [secret('pfx-chain', { objectFormat: 'pfx', objectAlias: 'p' })] },
  { name: 'plain secret is not split', objects: [secret('plain')] },
];

const foreignResourceCases: ParityCase[] = [
  {
    name: 'secret from a vault whose challenge names another resource',
    objects: [secret('plain')],
    deviation: {
      note: "for custom clouds (cloudName AzureStackCloud) the Key Vault challenge's resource is not checked against the vault host; upstream's Go SDK rejects a resource that is not a parent domain of the vault host",
      check: (ours, upstream) => {
        expect(upstream.ok).toBe(false);
        if (!upstream.ok) expect(upstream.message).toMatch(/challenge|resource/i);
        expect(ours.ok).toBe(true);
      },
    },
  },
];

const flagSets: { title: string; flags: string[]; cases: ParityCase[]; world?: ParityWorldProps }[] = [
  { title: 'default flags', flags: [], cases },
  {
    title: '--write-cert-and-key-in-separate-files',
    flags: ['--write-cert-and-key-in-separate-files=true'],
    cases: flagCases,
  },
  { title: '--construct-pem-chain=false', flags: ['--construct-pem-chain=false'], cases: flagCases },
  {
    title: "a challenge resource that is not the vault host's parent domain",
    flags: [],
    cases: foreignResourceCases,
    world: { keyVaultResource: 'https://vault.elsewhere.test' },
  },
];

describe.each(flagSets)(
  'parity with the upstream Azure provider, $title',
  ({ title, flags, cases: table, world: worldProps }) => {
    let world: ParityWorld;
    let ours: ProviderProcess;
    let upstream: ProviderProcess;
    const report: { name: string; identical: boolean; deviation?: string; differences: string[] }[] = [];

    beforeAll(async () => {
      if (reason) return;
      world = await startParityWorld(worldProps);
      const common = { hostsFile: world.azure.hostsFile, env: world.providerEnv };
      [upstream, ours] = await Promise.all([
        ProviderProcess.start({
          name: 'upstream',
          ...upstreamProviderCommand(upstreamProviderBinary(), flags),
          ...common,
        }),
        ProviderProcess.start({
          name: 'ours',
          ...ourProviderCommand([...world.ourProviderFlags, ...flags]),
          ...common,
        }),
      ]);
    });

    afterAll(async () => {
      await Promise.all([ours?.stop(), upstream?.stop()]);
      await world?.dispose();
      if (report.length > 0) {
        const slug = title.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
        const path = join(tmpdir(), `aks-secrets-store-parity-${slug}.json`);
        writeFileSync(path, JSON.stringify(report, null, 2));
        const different = report.filter((r) => !r.identical);
        console.log(
          `parity (${title}): ${report.length - different.length}/${report.length} cases identical; report ${path}\n` +
            different
              .map(
                (r) =>
                  `- ${r.name}${r.deviation ? ` [deviation: ${r.deviation}]` : ''}\n    ${r.differences.join('\n    ')}`,
              )
              .join('\n'),
        );
      }
    });

    test.each(table.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      if (reason) {
        console.log(`parity not run: ${reason}`);
        return;
      }
      const input = mountInput(c, world);
      const [o, u] = await Promise.all([ours.mount(input), upstream.mount(input)]);
      const diffs = differences(o, u);
      report.push({
        name: c.name,
        identical: diffs.length === 0,
        deviation: c.deviation?.note,
        differences: diffs,
      });
      if (c.deviation) {
        c.deviation.check(o, u);
      } else {
        expect(diffs).toEqual([]);
      }
    });
  },
);

/** Builds the Mount of a case, resolving the placeholders VERSION:<i>, TENANT, SP_ID, SP_SECRET. */
function mountInput(c: ParityCase, world: ParityWorld): MountInput {
  const resolve = (value: string) =>
    value
      .replace(/VERSION:(\d)/g, (_m, i: string) => world.historyVersions[Number(i)])
      .replace('TENANT', world.baseParameters.tenantID)
      .replace('SP_ID', world.spSecrets.clientid)
      .replace('SP_SECRET', world.spSecrets.clientsecret)
      .replace('WI_ID', WI_CLIENT_ID)
      .replace('WI_TOKENS', world.serviceAccountTokens)
      .replace('CLOUD_DIR', dirname(world.cloudFile));
  const parameters: Record<string, string> = { ...world.baseParameters };
  for (const [k, v] of Object.entries(c.parameters ?? {})) {
    if (v === null) delete parameters[k];
    else parameters[k] = resolve(v);
  }
  if (c.objects !== undefined) {
    const text = typeof c.objects === 'string' ? c.objects : objectsYaml(c.objects);
    if (text !== '') parameters.objects = resolve(text);
  }
  const secrets =
    c.secrets === undefined
      ? world.spSecrets
      : c.secrets === null
        ? null
        : Object.fromEntries(Object.entries(c.secrets).map(([k, v]) => [k, resolve(v)]));
  return { parameters, secrets, permission: c.permission, podName: c.podName };
}
