import * as pulumi from '@pulumi/pulumi';
import * as managedidentity from '@pulumi/azure-native/managedidentity';
import type { Provider as KubernetesProvider } from '@pulumi/kubernetes/provider';
import { ServiceAccount } from '@pulumi/kubernetes/core/v1';
import { validateDns1123Label, validateDns1123Subdomain } from '../core/validation/kube-names';
import { WORKLOAD_IDENTITY_TOKEN_AUDIENCE } from '../core/install/csi-driver';
import { ValidationError } from '../core/validation/validation-error';
import { serviceAccountSubject, WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION } from '../core/workload-wiring';
import { componentType } from './component-type';

/** The audience Entra ID expects in a Kubernetes service-account token it exchanges (the CSIDriver requests it too). */
export const WORKLOAD_IDENTITY_AUDIENCE = WORKLOAD_IDENTITY_TOKEN_AUDIENCE;
// Names shared with the cdk8s front end, kept here for this entry point's API.
export { serviceAccountSubject, WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION };
/** Azure accepts at most 20 federated identity credentials on one managed identity. */
export const MAX_FEDERATED_CREDENTIALS = 20;

/** One federated identity credential: which issuer's tokens for which subject the identity trusts. */
export interface FederatedCredentialArgs {
  /**
   * Credential name in Azure (3–120 letters, digits, '-' and '_', starting with a letter or digit).
   * @default - Pulumi auto-names it from the component name and the credential's position
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
  /** Namespace of the ServiceAccount the pods run as. */
  namespace: string;
  /** Name of the ServiceAccount the pods run as. */
  serviceAccountName: string;
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
  /** The annotated ServiceAccount, unless `createServiceAccount` is false. */
  public readonly serviceAccount: ServiceAccount | undefined;
  /** Client id: the SecretProviderClass `clientID` and the ServiceAccount annotation. */
  public readonly clientId: pulumi.Output<string>;
  /** Principal (object) id: the principal of role assignments. */
  public readonly principalId: pulumi.Output<string>;
  /** Tenant of the identity. */
  public readonly tenantId: pulumi.Output<string>;
  /** Namespace of the ServiceAccount. */
  public readonly namespace: string;
  /** Name of the ServiceAccount. */
  public readonly serviceAccountName: string;

  constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before registering anything, so bad input leaves no half-built component behind.
    const credentials = validateWorkloadIdentityArgs(args);
    super(componentType('WorkloadIdentity'), name, {}, opts);

    this.namespace = args.namespace;
    this.serviceAccountName = args.serviceAccountName;
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

    const subject = serviceAccountSubject(args.namespace, args.serviceAccountName);
    this.federatedCredentials = [];
    credentials.forEach((credential, i) => {
      const previous = this.federatedCredentials[i - 1];
      this.federatedCredentials.push(
        new managedidentity.FederatedIdentityCredential(
          `${name}-fic-${i}`,
          {
            resourceGroupName: args.resourceGroupName,
            resourceName: this.identity.name,
            federatedIdentityCredentialResourceName: credential.name,
            issuer: credential.issuerUrl ?? args.issuerUrl,
            subject: credential.subject ?? subject,
            audiences: [WORKLOAD_IDENTITY_AUDIENCE],
          },
          // Azure fails concurrent credential writes on one identity
          // (ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity): one at a time.
          { parent: this, dependsOn: previous ? [previous] : [] },
        ),
      );
    });

    this.serviceAccount =
      args.createServiceAccount === false
        ? undefined
        : new ServiceAccount(
            name,
            {
              metadata: {
                name: args.serviceAccountName,
                namespace: args.namespace,
                labels: args.serviceAccountLabels,
                annotations: { [WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION]: this.identity.clientId },
              },
            },
            // The ServiceAccount waits for what the component waits for (e.g. its Namespace).
            { parent: this, provider: args.kubernetesProvider, dependsOn: opts?.dependsOn },
          );

    this.clientId = this.identity.clientId;
    this.principalId = this.identity.principalId;
    this.tenantId = this.identity.tenantId;
    this.registerOutputs({
      clientId: this.clientId,
      principalId: this.principalId,
      tenantId: this.tenantId,
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

/**
 * Construction-time checks of {@link WorkloadIdentityArgs}; returns the credentials to create.
 * Throws a ValidationError naming the field.
 */
export function validateWorkloadIdentityArgs(args: WorkloadIdentityArgs): FederatedCredentialArgs[] {
  validateDns1123Label(args.namespace, 'namespace');
  validateDns1123Subdomain(args.serviceAccountName, 'serviceAccountName');
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
  const names = new Set<string>();
  credentials.forEach((credential, i) => {
    const field = `federatedCredentials[${i}]`;
    if (credential.name !== undefined) {
      if (!CREDENTIAL_NAME.test(credential.name)) {
        throw new ValidationError(
          `${field}.name`,
          `"${credential.name}" is not a valid federated credential name; use 3-120 letters, digits, '-' and '_', starting with a letter or digit`,
        );
      }
      if (names.has(credential.name)) {
        throw new ValidationError(
          `${field}.name`,
          `"${credential.name}" is used twice; give each credential its own name`,
        );
      }
      names.add(credential.name);
    }
    if (credential.subject !== undefined) {
      const expected = serviceAccountSubject(args.namespace, args.serviceAccountName);
      const match = SUBJECT.exec(credential.subject);
      if (!match) {
        throw new ValidationError(
          `${field}.subject`,
          `"${credential.subject}" is not a ServiceAccount subject; use "${expected}" (system:serviceaccount:<namespace>:<name>)`,
        );
      }
      if (match[1] !== args.namespace) {
        throw new ValidationError(
          `${field}.subject`,
          `namespace "${match[1]}" does not match the ServiceAccount's namespace "${args.namespace}"; tokens of pods in "${args.namespace}" carry the subject "${expected}", so Entra ID would answer AADSTS70021. Use "${expected}"`,
        );
      }
      if (match[2] !== args.serviceAccountName) {
        throw new ValidationError(
          `${field}.subject`,
          `ServiceAccount "${match[2]}" does not match serviceAccountName "${args.serviceAccountName}"; use "${expected}"`,
        );
      }
    }
  });
  return credentials;
}
