import { createHash } from 'crypto';
import * as pulumi from '@pulumi/pulumi';
import * as managedidentity from '@pulumi/azure-native/managedidentity';
import type { Provider as KubernetesProvider } from '@pulumi/kubernetes/provider';
import type { ServiceAccount } from '@pulumi/kubernetes/core/v1';
import { validateDns1123Label, validateDns1123Subdomain } from '../core/validation/kube-names';
import { WORKLOAD_IDENTITY_TOKEN_AUDIENCE } from '../core/install/csi-driver';
import { ValidationError } from '../core/validation/validation-error';
import { serviceAccountSubject, WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION } from '../core/workload-wiring';
import { componentType } from './component-type';
import { checkedInput, knownValue } from './known-inputs';
import { teamServiceAccount } from './team-service-account';

/** The audience Entra ID expects in a Kubernetes service-account token it exchanges (the CSIDriver requests it too). */
export const WORKLOAD_IDENTITY_AUDIENCE = WORKLOAD_IDENTITY_TOKEN_AUDIENCE;
// Names shared with the cdk8s front end, kept here for this entry point's API.
export { serviceAccountSubject, WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION };
/** Azure accepts at most 20 federated identity credentials on one managed identity. */
export const MAX_FEDERATED_CREDENTIALS = 20;

/** One federated identity credential: which issuer's tokens for which subject the identity trusts. */
export interface FederatedCredentialArgs {
  /**
   * Credential name in Azure (3–120 letters, digits, '-' and '_', starting with a letter or digit), and the key of
   * the credential in the program: removing or reordering other credentials never touches this one. Required when
   * `issuerUrl` is only known at deployment.
   * @default - keyed by its issuer (`primary` for the component's own `issuerUrl`); Azure's name is auto-named from that key
   */
  name?: string;
  /**
   * OIDC issuer of the cluster whose tokens are trusted (`oidcIssuerProfile.issuerURL`); set it to trust
   * the same ServiceAccount on another cluster.
   * @default - the component's `issuerUrl`
   */
  issuerUrl?: pulumi.Input<string>;
  /**
   * Token subject, `system:serviceaccount:<namespace>:<name>`. It must be the component's ServiceAccount:
   * a subject for another namespace would never match the tokens of the pods using this identity.
   * @default - `system:serviceaccount:<namespace>:<serviceAccountName>`
   */
  subject?: string;
}

export interface WorkloadIdentityArgs {
  /** Resource group of the user-assigned managed identity. */
  resourceGroupName: pulumi.Input<string>;
  /**
   * Azure region of the identity.
   * @default - the resource group's location
   */
  location?: pulumi.Input<string>;
  /**
   * Name of the user-assigned managed identity.
   * @default - Pulumi auto-names it from the component name
   */
  identityName?: pulumi.Input<string>;
  /** OIDC issuer URL of the AKS cluster: `cluster.oidcIssuerProfile.apply(p => p!.issuerURL)` (see `oidcIssuerUrlOf`). */
  issuerUrl: pulumi.Input<string>;
  /** Namespace of the ServiceAccount the pods run as (e.g. a Namespace resource's `metadata.name`). */
  namespace: pulumi.Input<string>;
  /** Name of the ServiceAccount the pods run as. */
  serviceAccountName: pulumi.Input<string>;
  /**
   * Federated credentials of the identity, written one after another (Azure rejects concurrent writes on one identity).
   * At most 20.
   * @default - one credential for the component's issuer and ServiceAccount
   */
  federatedCredentials?: FederatedCredentialArgs[];
  /**
   * Create the annotated Kubernetes ServiceAccount. Turn off when the ServiceAccount is managed elsewhere;
   * it then needs the annotation `azure.workload.identity/client-id: <clientId>`.
   * @default true
   */
  createServiceAccount?: boolean;
  /**
   * Extra labels for the ServiceAccount.
   * @default - none
   */
  serviceAccountLabels?: Record<string, string>;
  /**
   * Kubernetes provider for the ServiceAccount (the target cluster).
   * @default - the provider inherited from the parent, else the ambient kubeconfig
   */
  kubernetesProvider?: KubernetesProvider;
  /**
   * Tags for the identity.
   * @default - none
   */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

const SUBJECT = /^system:serviceaccount:([^:]+):([^:]+)$/;
const CREDENTIAL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,119}$/;

/**
 * Workload identity for one Kubernetes ServiceAccount: a user-assigned managed identity, its federated
 * credentials (issuer = the cluster's OIDC issuer, subject = the ServiceAccount, audience
 * `api://AzureADTokenExchange`) and the ServiceAccount annotated with the identity's client id.
 */
export class WorkloadIdentity extends pulumi.ComponentResource {
  /** The user-assigned managed identity. */
  public readonly identity: managedidentity.UserAssignedIdentity;
  /** Federated credentials, in creation order (each depends on the one before). */
  public readonly federatedCredentials: managedidentity.FederatedIdentityCredential[];
  /** The same credentials by key: their `name`, or `primary` / `issuer-<hash>` for unnamed ones. */
  public readonly federatedCredentialsByKey: Record<string, managedidentity.FederatedIdentityCredential>;
  /** The annotated ServiceAccount, unless `createServiceAccount` is false. */
  public readonly serviceAccount: ServiceAccount | undefined;
  /** Client id: the SecretProviderClass `clientID` and the ServiceAccount annotation. */
  public readonly clientId: pulumi.Output<string>;
  /** Principal (object) id: the principal of role assignments. */
  public readonly principalId: pulumi.Output<string>;
  /** Tenant of the identity. */
  public readonly tenantId: pulumi.Output<string>;
  /** Namespace of the ServiceAccount. */
  public readonly namespace: pulumi.Output<string>;
  /** Name of the ServiceAccount. */
  public readonly serviceAccountName: pulumi.Output<string>;

  constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before registering anything, so bad input leaves no half-built component behind.
    const credentials = validateWorkloadIdentityArgs(args);
    super(componentType('WorkloadIdentity'), name, {}, opts);

    this.namespace = pulumi.output(credentials.namespace);
    this.serviceAccountName = pulumi.output(credentials.serviceAccountName);
    this.identity = new managedidentity.UserAssignedIdentity(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        resourceName: args.identityName,
        tags: args.tags,
      },
      { parent: this },
    );

    const subject = pulumi.interpolate`system:serviceaccount:${this.namespace}:${this.serviceAccountName}`;
    this.federatedCredentials = [];
    this.federatedCredentialsByKey = {};
    credentials.credentials.forEach(({ key, credential, subject: explicitSubject }, i) => {
      const previous = this.federatedCredentials[i - 1];
      const fic = new managedidentity.FederatedIdentityCredential(
        `${name}-fic-${key}`,
        {
          resourceGroupName: args.resourceGroupName,
          resourceName: this.identity.name,
          federatedIdentityCredentialResourceName: credential.name,
          issuer: credential.issuerUrl ?? args.issuerUrl,
          subject: explicitSubject ?? subject,
          audiences: [WORKLOAD_IDENTITY_AUDIENCE],
        },
        {
          parent: this,
          // Azure fails concurrent credential writes on one identity
          // (ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity): one at a time.
          dependsOn: previous ? [previous] : [],
          // Azure refuses a second credential with the same issuer and subject on one identity, so a
          // replacement must delete the old credential before it creates the new one.
          deleteBeforeReplace: true,
          // Until 0.1 credentials were named by position; a stack deployed then keeps its credentials on the
          // first `up` with keyed names (change the list only after that `up`).
          aliases: [{ name: `${name}-fic-${i}` }],
        },
      );
      this.federatedCredentials.push(fic);
      this.federatedCredentialsByKey[key] = fic;
    });

    this.serviceAccount =
      args.createServiceAccount === false
        ? undefined
        : teamServiceAccount(
            name,
            {
              name: this.serviceAccountName,
              namespace: this.namespace,
              labels: args.serviceAccountLabels,
              workloadIdentityClientId: this.identity.clientId,
            },
            // The ServiceAccount waits for what the component waits for (e.g. its Namespace).
            { parent: this, provider: args.kubernetesProvider, dependsOn: opts?.dependsOn },
          );

    this.clientId = this.identity.clientId;
    this.principalId = this.identity.principalId;
    this.tenantId = this.identity.tenantId;
    this.registerOutputs({
      identity: this.identity,
      federatedCredentials: this.federatedCredentials,
      serviceAccount: this.serviceAccount,
      clientId: this.clientId,
      principalId: this.principalId,
      tenantId: this.tenantId,
      namespace: this.namespace,
      serviceAccountName: this.serviceAccountName,
    });
  }
}

/** The OIDC issuer URL of a cluster created with `oidcIssuerProfile: { enabled: true }`. */
export function oidcIssuerUrlOf(cluster: {
  oidcIssuerProfile: pulumi.Output<{ issuerURL: string } | undefined>;
}): pulumi.Output<string> {
  return cluster.oidcIssuerProfile.apply(issuerUrlOf);
}

/** The issuer URL of a cluster's `oidcIssuerProfile` output; throws a ValidationError when there is none. */
export function issuerUrlOf(profile: { issuerURL?: string } | undefined): string {
  if (!profile?.issuerURL) {
    throw new ValidationError(
      'oidcIssuerProfile.issuerURL',
      'the cluster has no OIDC issuer; create it with oidcIssuerProfile: { enabled: true } and securityProfile.workloadIdentity.enabled',
    );
  }
  return profile.issuerURL;
}

/** A credential to create and its key in the program (see {@link FederatedCredentialArgs.name}). */
export interface KeyedFederatedCredential {
  readonly key: string;
  readonly credential: FederatedCredentialArgs;
  /** The checked explicit subject, if the credential names one. */
  readonly subject: pulumi.Input<string> | undefined;
}

/** What {@link validateWorkloadIdentityArgs} resolved: the checked namespace and ServiceAccount, the keyed credentials. */
export interface CheckedWorkloadIdentity {
  readonly namespace: pulumi.Input<string>;
  readonly serviceAccountName: pulumi.Input<string>;
  readonly credentials: KeyedFederatedCredential[];
}

/**
 * Construction-time checks of {@link WorkloadIdentityArgs} (known values now, the others once resolved); returns
 * the credentials to create with their keys. Throws a ValidationError naming the field.
 */
export function validateWorkloadIdentityArgs(args: WorkloadIdentityArgs): CheckedWorkloadIdentity {
  const namespace = checkedInput(args.namespace, (value) => validateDns1123Label(value, 'namespace'));
  const serviceAccountName = checkedInput(args.serviceAccountName, (value) =>
    validateDns1123Subdomain(value, 'serviceAccountName'),
  );
  const credentials = args.federatedCredentials ?? [{}];
  if (credentials.length === 0) {
    throw new ValidationError(
      'federatedCredentials',
      'is empty; without a federated credential no pod can use the identity. Leave it unset for one credential for issuerUrl',
    );
  }
  if (credentials.length > MAX_FEDERATED_CREDENTIALS) {
    throw new ValidationError(
      'federatedCredentials',
      `has ${credentials.length} entries; Azure allows at most ${MAX_FEDERATED_CREDENTIALS} federated identity credentials per managed identity. Split the clusters across several WorkloadIdentity components`,
    );
  }
  const keyed: KeyedFederatedCredential[] = [];
  const seen = new Map<string, number>();
  credentials.forEach((credential, i) => {
    const field = `federatedCredentials[${i}]`;
    if (credential.name !== undefined && !CREDENTIAL_NAME.test(credential.name)) {
      throw new ValidationError(
        `${field}.name`,
        `"${credential.name}" is not a valid federated credential name; use 3-120 letters, digits, '-' and '_', starting with a letter or digit`,
      );
    }
    // An explicit subject must be the ServiceAccount's own; checked now when both names are known, else as the
    // credential's subject input resolves (so a mismatch fails before the credential is written).
    let subject: pulumi.Input<string> | undefined = credential.subject;
    if (credential.subject !== undefined) {
      const given = credential.subject;
      const [ns, sa] = [knownValue(namespace), knownValue(serviceAccountName)];
      if (ns !== undefined && sa !== undefined) {
        checkSubject(given, ns, sa, field);
      } else {
        subject = pulumi.all([namespace, serviceAccountName]).apply(([resolvedNs, resolvedSa]) => {
          checkSubject(given, resolvedNs, resolvedSa, field);
          return given;
        });
      }
    }
    const key = credentialKey(credential, field);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new ValidationError(
        credential.name !== undefined ? `${field}.name` : `${field}.issuerUrl`,
        credential.name !== undefined
          ? `"${credential.name}" is used twice (also federatedCredentials[${earlier}]); give each credential its own name`
          : `trusts the same issuer as federatedCredentials[${earlier}]; Azure refuses a second credential with the same issuer and subject on one identity, so drop one`,
      );
    }
    seen.set(key, i);
    keyed.push({ key, credential, subject });
  });
  return { namespace, serviceAccountName, credentials: keyed };
}

/**
 * The key of a credential in the program (its Pulumi resource name is `<component>-fic-<key>`): its name, else
 * `primary` for the component's own issuer, else `issuer-<hash of the issuer URL>`. Never its position.
 */
function credentialKey(credential: FederatedCredentialArgs, field: string): string {
  if (credential.name !== undefined) return credential.name;
  if (credential.issuerUrl === undefined) return 'primary';
  const issuer = knownValue(credential.issuerUrl);
  if (issuer === undefined) {
    throw new ValidationError(
      `${field}.name`,
      'is required when issuerUrl is only known at deployment: the name keys the credential, so removing or reordering the others never rewrites it',
    );
  }
  return `issuer-${createHash('sha256').update(issuer).digest('hex').slice(0, 10)}`;
}

function checkSubject(subject: string, namespace: string, serviceAccountName: string, field: string): void {
  const expected = serviceAccountSubject(namespace, serviceAccountName);
  const match = SUBJECT.exec(subject);
  if (!match) {
    throw new ValidationError(
      `${field}.subject`,
      `"${subject}" is not a ServiceAccount subject; use "${expected}" (system:serviceaccount:<namespace>:<name>)`,
    );
  }
  if (match[1] !== namespace) {
    throw new ValidationError(
      `${field}.subject`,
      `namespace "${match[1]}" does not match the ServiceAccount's namespace "${namespace}"; tokens of pods in "${namespace}" carry the subject "${expected}", so Entra ID would answer AADSTS70021. Use "${expected}"`,
    );
  }
  if (match[2] !== serviceAccountName) {
    throw new ValidationError(
      `${field}.subject`,
      `ServiceAccount "${match[2]}" does not match serviceAccountName "${serviceAccountName}"; use "${expected}"`,
    );
  }
}
