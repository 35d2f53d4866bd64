// The cdk8s example (examples/cdk8s, both variants) against a real apiserver: every synthesized object
// passes server-side dry-run, then applies; its SecretProviderClasses are stored; its ServiceAccount gets a
// workload-identity token; a broken copy of its Azure SPC is rejected by the admission policy's message.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KubeObject } from '../../lib/core/kube-object';
import { AZURE_SPC_ADMISSION_POLICY_NAME } from '../../lib/core/install';
import { EXAMPLE_NAMESPACES, synthExamples } from '../../examples/cdk8s/app';
import { settingsFromEnv } from '../../examples/cdk8s/settings';
import { applyAll, describeObject } from '../../harness/rig/apply-objects';
import { AZURE_AD_TOKEN_EXCHANGE_AUDIENCE } from '../../harness/rig/cluster';
import { KubeApi, KubeApiError } from '../../harness/rig/kube-api';
import { waitUntilPolicyEnforced } from './policy-enforced';
import { withAdmissionConfinedTo } from './confined-admission';

jest.setTimeout(180000);

const api = KubeApi.forRig();
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-examples-'));
// Placeholder ids (no environment overrides), so the run does not depend on the caller's shell.
const [selfHosted, addon] = synthExamples(outdir, settingsFromEnv({}));
const objectsOf = (app: typeof selfHosted): KubeObject[] =>
  app.charts.flatMap((chart) => chart.toJson() as KubeObject[]);
// The install's policy is bound to the examples' own namespaces only (see confined-admission.ts).
const confined = (objects: KubeObject[]): KubeObject[] =>
  withAdmissionConfinedTo(objects, 'examples', [
    ...new Set(
      objects.filter((o) => o.kind === 'SecretProviderClass').map((o) => o.metadata.namespace ?? 'default'),
    ),
  ]);
// Both variants carry the policy (the add-on example checks its SPCs at admission too).
const variants = { 'self-hosted': confined(objectsOf(selfHosted)), addon: confined(objectsOf(addon)) };

afterAll(() => {
  api.close();
  fs.rmSync(outdir, { recursive: true, force: true });
});

describe.each(Object.entries(variants))('the %s example', (_variant, objects) => {
  test('binds its admission policy to its own namespaces only on this shared apiserver', () => {
    const bindings = objects.filter((o) => o.kind === 'ValidatingAdmissionPolicyBinding') as (KubeObject & {
      spec: { matchResources?: { namespaceSelector?: unknown } };
    })[];
    expect(bindings.every((b) => b.spec.matchResources?.namespaceSelector !== undefined)).toBe(true);
  });

  test('passes server-side dry-run, then applies for real', async () => {
    expect(objects.length).toBeGreaterThan(0);
    // Dry-run cannot create the namespaces the other objects live in: those are created for real first.
    await applyAll(
      api,
      objects.filter((o) => o.kind === 'Namespace'),
    );
    await applyAll(api, objects, { dryRun: true });
    await applyAll(api, objects);
    const missing: string[] = [];
    for (const object of objects) {
      if (!(await api.find(await api.objectPath(object)))) missing.push(describeObject(object));
    }
    expect(missing).toEqual([]);
  });

  test('its SecretProviderClasses are stored as written', async () => {
    const classes = objects.filter((o) => o.kind === 'SecretProviderClass');
    expect(classes.length).toBeGreaterThan(0);
    for (const spc of classes) {
      const stored = await api.get<{ spec: unknown }>(await api.objectPath(spc));
      expect(stored.spec).toEqual(spc.spec);
    }
  });
});

test("the team's ServiceAccount gets a token for api://AzureADTokenExchange", async () => {
  const serviceAccount = variants['self-hosted'].find(
    (o) => o.kind === 'ServiceAccount' && o.metadata.namespace === EXAMPLE_NAMESPACES.team,
  );
  expect(serviceAccount).toBeDefined();
  const { name, namespace } = serviceAccount!.metadata;
  const response = await api.create<{ status: { token: string } }>(
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: [AZURE_AD_TOKEN_EXCHANGE_AUDIENCE], expirationSeconds: 3600 },
    },
  );
  const claims = JSON.parse(
    Buffer.from(response.status.token.split('.')[1], 'base64url').toString('utf8'),
  ) as {
    aud: string[];
    sub: string;
  };
  expect(claims.aud).toEqual([AZURE_AD_TOKEN_EXCHANGE_AUDIENCE]);
  expect(claims.sub).toBe(`system:serviceaccount:${namespace}:${name}`);
});

describe('a broken copy of the example Azure SecretProviderClass', () => {
  const original = variants['self-hosted'].find(
    (o) => o.kind === 'SecretProviderClass' && (o.spec as { provider?: string }).provider === 'azure',
  ) as KubeObject & { spec: { parameters: Record<string, string> } };

  const broken = (parameters: Record<string, string>): KubeObject => ({
    ...original,
    metadata: { ...original.metadata, name: `${original.metadata.name}-broken` },
    spec: { ...original.spec, parameters },
  });

  beforeAll(async () => {
    await waitUntilPolicyEnforced(
      api,
      AZURE_SPC_ADMISSION_POLICY_NAME,
      broken({ ...original.spec.parameters, keyvaultName: '' }),
    );
  });

  async function rejectionOf(parameters: Record<string, string>): Promise<KubeApiError | undefined> {
    try {
      await api.apply(broken(parameters), { dryRun: true });
      return undefined;
    } catch (error) {
      if (error instanceof KubeApiError) return error;
      throw error;
    }
  }

  test('without tenantId is rejected by the admission policy with its message', async () => {
    const { tenantId: _tenantId, tenantID: _tenantID, ...parameters } = original.spec.parameters;
    const error = await rejectionOf(parameters);
    expect(error?.status).toBe(422);
    expect(error?.statusMessage).toContain(AZURE_SPC_ADMISSION_POLICY_NAME);
    expect(error?.statusMessage).toContain('spec.parameters.tenantId is missing or empty');
  });

  test('with two identity modes is rejected by the admission policy with its message', async () => {
    const error = await rejectionOf({
      ...original.spec.parameters,
      useVMManagedIdentity: 'true',
      usePodIdentity: 'true',
    });
    expect(error?.status).toBe(422);
    expect(error?.statusMessage).toContain('more than one identity mode is true');
  });
});
