import { byUrn, mockClientId, mockPrincipalId, one, recorded, registered, valueOf } from './mocks';
import * as pulumi from '@pulumi/pulumi';
import {
  FederatedCredentialArgs,
  issuerUrlOf,
  oidcIssuerUrlOf,
  WorkloadIdentity,
  WORKLOAD_IDENTITY_AUDIENCE,
} from '../../lib/pulumi/workload-identity';

const FIC = 'azure-native:managedidentity:FederatedIdentityCredential';

describe('WorkloadIdentity', () => {
  it('creates the identity, one credential for the ServiceAccount and the annotated ServiceAccount', async () => {
    const wi = new WorkloadIdentity('wi-basic', {
      resourceGroupName: 'rg',
      issuerUrl: 'https://oidc.prod-aks.azure.com/tenant/issuer/',
      namespace: 'team-a',
      serviceAccountName: 'orders',
    });
    await registered(...wi.federatedCredentials, wi.serviceAccount!);
    const fic = one(FIC, 'wi-basic-fic-primary');
    expect(fic.inputs).toEqual({
      resourceGroupName: 'rg',
      resourceName: 'wi-basic',
      issuer: 'https://oidc.prod-aks.azure.com/tenant/issuer/',
      subject: 'system:serviceaccount:team-a:orders',
      audiences: ['api://AzureADTokenExchange'],
    });
    expect(WORKLOAD_IDENTITY_AUDIENCE).toBe('api://AzureADTokenExchange');
    const sa = one('kubernetes:core/v1:ServiceAccount', 'wi-basic');
    expect(sa.inputs.metadata).toEqual({
      name: 'orders',
      namespace: 'team-a',
      annotations: { 'azure.workload.identity/client-id': mockClientId('wi-basic') },
    });
    expect(byUrn(sa.parent!)?.type).toBe('aks-secrets-store:index:WorkloadIdentity');
    expect(await valueOf(wi.clientId)).toBe(mockClientId('wi-basic'));
    expect(await valueOf(wi.principalId)).toBe(mockPrincipalId('wi-basic'));
  });

  it('chains the credentials of one identity with dependsOn, one after another', async () => {
    const issuers = ['https://oidc/east/', 'https://oidc/west/', 'https://oidc/north/'];
    const wi = new WorkloadIdentity('wi-multi', {
      resourceGroupName: 'rg',
      issuerUrl: issuers[0],
      namespace: 'team-a',
      serviceAccountName: 'orders',
      federatedCredentials: issuers.map((issuerUrl, i) => ({ name: `cluster-${i}`, issuerUrl })),
      createServiceAccount: false,
    });
    await registered(...wi.federatedCredentials);
    expect(wi.serviceAccount).toBeUndefined();
    const fics = [0, 1, 2].map((i) => one(FIC, `wi-multi-fic-cluster-${i}`));
    expect(fics.map((f) => f.inputs.issuer)).toEqual(issuers);
    expect(fics.map((f) => f.inputs.federatedIdentityCredentialResourceName)).toEqual([
      'cluster-0',
      'cluster-1',
      'cluster-2',
    ]);
    expect(fics.every((f) => f.inputs.subject === 'system:serviceaccount:team-a:orders')).toBe(true);
    expect(fics[0].dependsOn).not.toContain(expect.stringContaining('FederatedIdentityCredential'));
    expect(fics[1].dependsOn).toContain(fics[0].urn);
    expect(fics[2].dependsOn).toContain(fics[1].urn);
    expect(fics[2].dependsOn).not.toContain(fics[0].urn);
  });

  it('accepts 20 federated credentials', () => {
    const federatedCredentials = Array.from({ length: 20 }, (_, i) => ({ issuerUrl: `https://oidc/${i}/` }));
    const wi = new WorkloadIdentity('wi-twenty', {
      resourceGroupName: 'rg',
      issuerUrl: 'x',
      namespace: 'a',
      serviceAccountName: 'b',
      federatedCredentials,
    });
    expect(wi.federatedCredentials).toHaveLength(20);
  });

  it('fails at construction for 21 federated credentials, naming the field', () => {
    const before = recorded.length;
    const federatedCredentials = Array.from({ length: 21 }, (_, i) => ({ issuerUrl: `https://oidc/${i}/` }));
    expect(
      () =>
        new WorkloadIdentity('wi-21', {
          resourceGroupName: 'rg',
          issuerUrl: 'x',
          namespace: 'a',
          serviceAccountName: 'b',
          federatedCredentials,
        }),
    ).toThrow(/^federatedCredentials: has 21 entries; Azure allows at most 20/);
    expect(recorded.slice(before).filter((r) => r.type === FIC)).toEqual([]);
  });

  it('fails for a subject whose namespace does not match the ServiceAccount, naming the field', () => {
    expect(
      () =>
        new WorkloadIdentity('wi-ns', {
          resourceGroupName: 'rg',
          issuerUrl: 'x',
          namespace: 'team-a',
          serviceAccountName: 'orders',
          federatedCredentials: [{}, { subject: 'system:serviceaccount:team-b:orders' }],
        }),
    ).toThrow(
      /^federatedCredentials\[1\]\.subject: namespace "team-b" does not match the ServiceAccount's namespace "team-a"/,
    );
  });

  it.each([
    [
      { subject: 'team-a/orders' },
      /^federatedCredentials\[0\]\.subject: "team-a\/orders" is not a ServiceAccount subject/,
    ],
    [
      { subject: 'system:serviceaccount:team-a:billing' },
      /^federatedCredentials\[0\]\.subject: ServiceAccount "billing" does not match/,
    ],
    [{ name: 'x' }, /^federatedCredentials\[0\]\.name: "x" is not a valid federated credential name/],
  ])('fails for credential %p', (credential, message) => {
    expect(
      () =>
        new WorkloadIdentity('wi-bad', {
          resourceGroupName: 'rg',
          issuerUrl: 'x',
          namespace: 'team-a',
          serviceAccountName: 'orders',
          federatedCredentials: [credential],
        }),
    ).toThrow(message);
  });

  it('fails for names Kubernetes rejects, with the shared core message', () => {
    expect(
      () =>
        new WorkloadIdentity('wi-ns-bad', {
          resourceGroupName: 'rg',
          issuerUrl: 'x',
          namespace: 'Team_A',
          serviceAccountName: 'orders',
        }),
    ).toThrow(/^namespace: "Team_A" is not a valid Kubernetes namespace/);
    expect(
      () =>
        new WorkloadIdentity('wi-sa-bad', {
          resourceGroupName: 'rg',
          issuerUrl: 'x',
          namespace: 'a',
          serviceAccountName: 'Orders',
        }),
    ).toThrow(/^serviceAccountName: "Orders" is not a valid Kubernetes name/);
  });

  it('reads the issuer from the cluster, and explains a cluster without one', async () => {
    const cluster = { oidcIssuerProfile: pulumi.output({ issuerURL: 'https://oidc.example/x/' }) };
    expect(await valueOf(oidcIssuerUrlOf(cluster))).toBe('https://oidc.example/x/');
    expect(() => issuerUrlOf(undefined)).toThrow(
      /^oidcIssuerProfile\.issuerURL: the cluster has no OIDC issuer; create it with oidcIssuerProfile: \{ enabled: true \}/,
    );
  });

  it('fails for an empty credential list', () => {
    expect(
      () =>
        new WorkloadIdentity('wi-none', {
          resourceGroupName: 'rg',
          issuerUrl: 'x',
          namespace: 'a',
          serviceAccountName: 'b',
          federatedCredentials: [],
        }),
    ).toThrow(/^federatedCredentials: is empty/);
  });

  describe('credentials keyed by name, not position (issue 13, defect 1)', () => {
    const issuers = ['https://oidc/east/', 'https://oidc/west/', 'https://oidc/north/'];
    const identity = (name: string, federatedCredentials: FederatedCredentialArgs[]) =>
      new WorkloadIdentity(name, {
        resourceGroupName: 'rg',
        issuerUrl: issuers[0],
        namespace: 'team-a',
        serviceAccountName: 'orders',
        federatedCredentials,
        createServiceAccount: false,
      });

    it('keeps every other credential under its name when one is removed or the list reordered', async () => {
      const before = identity(
        'wi-keyed-1',
        issuers.map((issuerUrl) => ({ issuerUrl })),
      );
      const after = identity(
        'wi-keyed-2',
        [issuers[2], issuers[1]].map((issuerUrl) => ({ issuerUrl })),
      );
      await registered(...before.federatedCredentials, ...after.federatedCredentials);
      const keysOf = (component: string) =>
        Object.fromEntries(
          recorded
            .filter((r) => r.type === FIC && r.name.startsWith(`${component}-fic-`))
            .map((r) => [r.inputs.issuer, r.name.slice(`${component}-fic-`.length)]),
        );
      // The same issuer has the same key in both lists, whatever its position: the engine sees no change to it.
      const [was, is] = [keysOf('wi-keyed-1'), keysOf('wi-keyed-2')];
      expect(is[issuers[2]]).toBe(was[issuers[2]]);
      expect(is[issuers[1]]).toBe(was[issuers[1]]);
      expect(Object.keys(is)).toHaveLength(2);
      expect(was[issuers[0]]).not.toBe(was[issuers[1]]);
    });

    it('uses the name given, and keeps the positional name of 0.1 stacks as an alias', async () => {
      const wi = identity('wi-named', [{ name: 'east' }, { name: 'west', issuerUrl: issuers[1] }]);
      await registered(...wi.federatedCredentials);
      const [east, west] = [one(FIC, 'wi-named-fic-east'), one(FIC, 'wi-named-fic-west')];
      expect(east.inputs.federatedIdentityCredentialResourceName).toBe('east');
      expect(east.aliases).toContainEqual(expect.objectContaining({ name: 'wi-named-fic-0' }));
      expect(west.aliases).toContainEqual(expect.objectContaining({ name: 'wi-named-fic-1' }));
      expect(wi.federatedCredentialsByKey.west).toBe(wi.federatedCredentials[1]);
    });

    it('deletes a credential before creating its replacement (Azure refuses two with one issuer and subject)', async () => {
      const wi = identity('wi-dbr', [{}]);
      await registered(...wi.federatedCredentials);
      expect(one(FIC, 'wi-dbr-fic-primary').deleteBeforeReplace).toBe(true);
    });

    it('fails for two credentials trusting one issuer, and for an unnamed one whose issuer is an Output', () => {
      expect(() => identity('wi-dup', [{}, { issuerUrl: issuers[1] }, { issuerUrl: issuers[1] }])).toThrow(
        'federatedCredentials[2].issuerUrl: trusts the same issuer as federatedCredentials[1]; Azure refuses a second credential with the same issuer and subject on one identity, so drop one',
      );
      expect(() => identity('wi-late', [{}, { issuerUrl: pulumi.output(issuers[1]) }])).toThrow(
        'federatedCredentials[1].name: is required when issuerUrl is only known at deployment: the name keys the credential, so removing or reordering the others never rewrites it',
      );
      expect(() =>
        identity('wi-late-named', [{}, { name: 'west', issuerUrl: pulumi.output(issuers[1]) }]),
      ).not.toThrow();
    });
  });
});
