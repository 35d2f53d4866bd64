// The rig's apiserver is a real one: our CRDs are Established, a TokenRequest for the workload-identity
// audience yields a token the apiserver itself accepts for that audience, and the aggregated RBAC roles of
// the install give namespace admins/viewers what they should (SubjectAccessReview).
import {
  renderSelfHostedInstall,
  SECRETS_STORE_API_GROUP,
  SPC_ADMIN_ROLE_NAME,
  SPC_VIEWER_ROLE_NAME,
  SPCPS_VIEWER_ROLE_NAME,
} from '../../lib/core/install';
import { applyAll } from '../../harness/rig/apply-objects';
import { AZURE_AD_TOKEN_EXCHANGE_AUDIENCE } from '../../harness/rig/cluster';
import { Json, KubeApi } from '../../harness/rig/kube-api';
import { useTestNamespace } from './test-namespace';
import { rig, rigVersions } from '../../harness/rig/rig-env';

jest.setTimeout(120000);

const api = KubeApi.forRig();
const namespace = useTestNamespace(api);

test('the apiserver is the pinned Kubernetes release', async () => {
  const version = await api.get<{ gitVersion: string }>('/version');
  expect(version.gitVersion).toBe(rigVersions().kubernetes);
});

test.each(['secretproviderclasses', 'secretproviderclasspodstatuses'])(
  'CRD %s.secrets-store.csi.x-k8s.io is Established and served at v1',
  async (plural) => {
    const crd = await api.get<{ status: { conditions: { type: string; status: string }[] } }>(
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${plural}.${SECRETS_STORE_API_GROUP}`,
    );
    expect(crd.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Established', status: 'True' }),
    );
    const list = await api.get<{ items: unknown[] }>(`/apis/${SECRETS_STORE_API_GROUP}/v1/${plural}`);
    expect(Array.isArray(list.items)).toBe(true);
  },
);

describe('TokenRequest for the workload-identity audience', () => {
  const serviceAccount = 'workload';

  beforeAll(async () => {
    await api.create(`/api/v1/namespaces/${namespace}/serviceaccounts`, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: serviceAccount, namespace },
    });
  });

  test('issues a token for api://AzureADTokenExchange that the apiserver accepts for that audience', async () => {
    expect(rig().apiAudiences).toContain(AZURE_AD_TOKEN_EXCHANGE_AUDIENCE);
    const tokenRequest = await api.create<{ status: { token: string; expirationTimestamp: string } }>(
      `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: [AZURE_AD_TOKEN_EXCHANGE_AUDIENCE], expirationSeconds: 3600 },
      },
    );
    const token = tokenRequest.status.token;
    // Claims only; the token itself is never printed.
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as {
      aud: string[];
      iss: string;
      sub: string;
    };
    expect(claims.aud).toEqual([AZURE_AD_TOKEN_EXCHANGE_AUDIENCE]);
    expect(claims.iss).toBe(rig().serviceAccountIssuer);
    expect(claims.sub).toBe(`system:serviceaccount:${namespace}:${serviceAccount}`);

    const review = await api.create<{
      status: { authenticated?: boolean; audiences?: string[]; user?: Json };
    }>('/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token, audiences: [AZURE_AD_TOKEN_EXCHANGE_AUDIENCE] },
    });
    expect(review.status.authenticated).toBe(true);
    expect(review.status.audiences).toEqual([AZURE_AD_TOKEN_EXCHANGE_AUDIENCE]);
    expect(review.status.user).toMatchObject({
      username: `system:serviceaccount:${namespace}:${serviceAccount}`,
    });
  });

  test('a token for another audience is not accepted for api://AzureADTokenExchange', async () => {
    const tokenRequest = await api.create<{ status: { token: string } }>(
      `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: ['some-other-audience'] },
      },
    );
    const review = await api.create<{ status: { authenticated?: boolean; error?: string } }>(
      '/apis/authentication.k8s.io/v1/tokenreviews',
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token: tokenRequest.status.token, audiences: [AZURE_AD_TOKEN_EXCHANGE_AUDIENCE] },
      },
    );
    expect(review.status.authenticated).toBeFalsy();
  });
});

describe('aggregated RBAC roles of the install', () => {
  const rolesOfInstall = [SPC_ADMIN_ROLE_NAME, SPC_VIEWER_ROLE_NAME, SPCPS_VIEWER_ROLE_NAME];

  interface AccessCheck {
    readonly user: string;
    readonly verb: string;
    readonly resource: string;
  }

  const allowed = async ({ user, verb, resource }: AccessCheck): Promise<boolean> => {
    const review = await api.create<{ status: { allowed: boolean } }>(
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user, resourceAttributes: { namespace, verb, group: SECRETS_STORE_API_GROUP, resource } },
      },
    );
    return review.status.allowed;
  };

  beforeAll(async () => {
    const install = renderSelfHostedInstall().filter((object) => object.kind === 'ClusterRole');
    expect(install.map((role) => role.metadata.name)).toEqual(expect.arrayContaining(rolesOfInstall));
    await applyAll(api, install);
    for (const [user, clusterRole] of [
      ['alice', 'admin'],
      ['erin', 'edit'],
      ['victor', 'view'],
    ]) {
      await api.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `${user}-${clusterRole}`, namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      });
    }
    // kube-controller-manager's clusterrole-aggregation controller folds the roles in, asynchronously.
    await api.waitFor(
      'admin, edit and view aggregate the install roles',
      async () =>
        Promise.all(
          ['admin', 'edit', 'view'].map((name) =>
            api.get<{ rules?: { resources?: string[] }[] }>(
              `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`,
            ),
          ),
        ),
      // Both resources in all three: the SPCPS viewer reaches admin through view -> edit -> admin, one
      // aggregation pass per hop, so SPC rules alone may arrive first.
      (roles) =>
        roles.every((role) =>
          ['secretproviderclasses', 'secretproviderclasspodstatuses'].every((resource) =>
            (role.rules ?? []).some((rule) => (rule.resources ?? []).includes(resource)),
          ),
        ),
      60000,
    );
  });

  test.each([
    { user: 'alice', verb: 'create', resource: 'secretproviderclasses', expected: true },
    { user: 'alice', verb: 'delete', resource: 'secretproviderclasses', expected: true },
    { user: 'alice', verb: 'get', resource: 'secretproviderclasspodstatuses', expected: true },
    // Nobody but the driver writes SPCPS (a forged targetPath was CVE-2020-8568).
    { user: 'alice', verb: 'update', resource: 'secretproviderclasspodstatuses', expected: false },
    { user: 'erin', verb: 'update', resource: 'secretproviderclasses', expected: true },
    { user: 'victor', verb: 'list', resource: 'secretproviderclasses', expected: true },
    { user: 'victor', verb: 'watch', resource: 'secretproviderclasspodstatuses', expected: true },
    { user: 'victor', verb: 'create', resource: 'secretproviderclasses', expected: false },
    { user: 'mallory', verb: 'get', resource: 'secretproviderclasses', expected: false },
  ])('$user may $verb $resource: $expected', async ({ user, verb, resource, expected }) => {
    expect(await allowed({ user, verb, resource })).toBe(expected);
  });
});
