// Every error text a Secrets Store mount can end in, mapped to its cause and its fix: kubelet's, the
// upstream driver's (v1.6) and Azure provider's (v1.8), Key Vault's and Entra ID's, and our own runtime's
// (a test fails when a message of runtime/ matches no entry). One table: the doctor reads FailedMount
// and other failure events through it, and docs/troubleshooting.md lists it.
//
// Order matters: a FailedMount text nests the provider's error inside the driver's inside kubelet's
// ("MountVolume.SetUp failed ... failed to mount secrets store objects ... failed to mount objects,
// error: ... 403 ..."), so the innermost, most specific causes come first and the generic wrappers last.
// Patterns are plain alternations over bounded text (diagnose cuts at MAX_MESSAGE_CHARS): no nested
// quantifiers, so an event message written by anyone cannot make matching slow.

/** Where in the chain a mount depends on the cause lies. */
export type FailureArea =
  | 'install'
  | 'node'
  | 'secret-provider-class'
  | 'identity'
  | 'key-vault'
  | 'network'
  | 'synced-secret'
  | 'pod';

/** Who writes the text. */
export type FailureOrigin =
  'kubelet' | 'driver' | 'provider' | 'our-runtime' | 'key-vault' | 'entra-id' | 'imds' | 'apiserver';

/** One known failure. `{name}` in cause and fix is filled from the pattern's named groups or the context. */
export interface FailureEntry {
  /** Stable id, also the JSON output's `catalogueId`. */
  readonly id: string;
  readonly area: FailureArea;
  readonly origins: readonly FailureOrigin[];
  readonly pattern: RegExp;
  /** What the text means, in words a new user follows. */
  readonly cause: string;
  /** What to change. */
  readonly fix: string;
  /** A command that shows the evidence, when there is a better one than the pod's events. */
  readonly evidence?: string;
  /** A text the pattern must match (the catalogue's unit test checks each, and that it wins). */
  readonly examples: readonly string[];
}

/** Longest text matched; kubelet's events are much shorter, a longer one is cut first. */
export const MAX_MESSAGE_CHARS = 8192;

const ROLE_FIX =
  'grant the identity read access to the vault: with Azure RBAC `az role assignment create --role "Key Vault Secrets User" ' +
  '--assignee {clientId} --scope $(az keyvault show -n {vault} --query id -o tsv)` ("Key Vault Certificate User" for objectType cert and key); ' +
  'with access policies `az keyvault set-policy -n {vault} --secret-permissions get --spn {clientId}` (and --key-permissions/--certificate-permissions get; list too for objectVersionHistory). ' +
  'Role assignments take up to 10 minutes to apply';

/** The table. Most specific first (see the file comment). */
export const FAILURE_CATALOGUE: readonly FailureEntry[] = [
  // ---- Entra ID (workload identity, service principal) ----
  {
    id: 'entra.federated-credential-mismatch',
    area: 'identity',
    origins: ['entra-id'],
    pattern: /AADSTS70021[123]?\b|No matching federated identity record found/,
    cause:
      "Entra ID has no federated identity credential on the workload identity {clientId} that matches the pod's service-account token (issuer, subject or audience differ)",
    fix:
      'add or fix the federated credential: issuer = the cluster\'s OIDC issuer (`az aks show -n <cluster> -g <rg> --query oidcIssuerProfile.issuerUrl -o tsv`), subject = "system:serviceaccount:{namespace}:{serviceAccount}", audience = "api://AzureADTokenExchange"; ' +
      '`az identity federated-credential create --identity-name <identity> -g <rg> --name <name> --issuer <issuer> --subject system:serviceaccount:{namespace}:{serviceAccount} --audiences api://AzureADTokenExchange`',
    evidence: 'az identity federated-credential list --identity-name <identity> -g <rg> -o table',
    examples: [
      "AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://oidc.example'. Assertion Subject: 'system:serviceaccount:default:app'.",
      "AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:team-a:web'.",
    ],
  },
  {
    id: 'entra.client-not-found',
    area: 'identity',
    origins: ['entra-id'],
    pattern: /AADSTS700016\b|Application with identifier '[^']{0,100}' was not found/,
    cause:
      'Entra ID knows no application or managed identity with the client id the SecretProviderClass names (`clientID`), in the tenant it names (`tenantId`)',
    fix: "set `clientID` to the identity's client id (`az identity show -n <identity> -g <rg> --query clientId -o tsv`) and `tenantId` to its tenant; the ServiceAccount's azure.workload.identity/client-id annotation should name the same id",
    examples: [
      "AADSTS700016: Application with identifier '11111111-2222-3333-4444-555555555555' was not found in the directory 'contoso'.",
    ],
  },
  {
    id: 'entra.tenant-not-found',
    area: 'identity',
    origins: ['entra-id'],
    pattern: /AADSTS900(?:02|23)\b|Tenant '[^']{0,100}' not found/,
    cause:
      'the `tenantId` of the SecretProviderClass is not an Entra tenant (a typo, or the id of a subscription)',
    fix: "set `tenantId` to the vault's tenant: `az keyvault show -n {vault} --query properties.tenantId -o tsv`",
    examples: ["AADSTS90002: Tenant '00000000-0000-0000-0000-00000000000x' not found."],
  },
  {
    id: 'entra.assertion-expired',
    area: 'identity',
    origins: ['entra-id'],
    pattern: /AADSTS700024\b|Client assertion is not within its valid time range/,
    cause:
      "the pod's service-account token was expired or not yet valid when it reached Entra ID (node clock skew, or a token kept too long)",
    fix: 'check the node clock (NTP); the driver gets fresh tokens from kubelet on every mount, so a restart of the pod retries with a new one',
    examples: ['AADSTS700024: Client assertion is not within its valid time range.'],
  },
  {
    id: 'entra.assertion-signature',
    area: 'identity',
    origins: ['entra-id'],
    pattern: /AADSTS700027\b|AADSTS50027\b|Client assertion failed signature validation/,
    cause:
      "Entra ID could not verify the service-account token against the federated credential's issuer: the issuer URL belongs to another cluster, or the cluster's OIDC issuer keys changed",
    fix: "make the federated credential's issuer the issuer of this cluster (`az aks show -n <cluster> -g <rg> --query oidcIssuerProfile.issuerUrl -o tsv`); after `az aks oidc-issuer rotate-signing-keys` wait for the discovery document to update",
    examples: ['AADSTS700027: Client assertion failed signature validation.'],
  },
  {
    id: 'entra.client-secret',
    area: 'identity',
    origins: ['entra-id'],
    pattern:
      /AADSTS700021[5-8]\b|AADSTS7000222\b|Invalid client secret provided|client secret keys .{0,40}expired/,
    cause: 'the service principal secret in the nodePublishSecretRef Secret is wrong or expired',
    fix: 'create a new secret (`az ad app credential reset --id <app id>`) and store it under the key clientsecret of the Secret the volume names in nodePublishSecretRef; use the secret value, not its id',
    examples: [
      "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'x'.",
    ],
  },
  {
    id: 'entra.other',
    area: 'identity',
    origins: ['entra-id'],
    pattern: /AADSTS(?<aadsts>\d{4,7})/,
    cause: 'Entra ID refused the token request with AADSTS{aadsts}',
    fix: 'look the code up at https://login.microsoftonline.com/error?code={aadsts} and fix the identity it names (clientID, tenantId, or the federated credential)',
    examples: ['AADSTS50034: The user account does not exist in the directory.'],
  },
  // ---- IMDS (VM managed identity) and NMI (pod identity) ----
  {
    id: 'imds.identity-not-found',
    area: 'identity',
    origins: ['imds'],
    pattern:
      /Identity not found|identity_not_found|No managed identity found for client id|Multiple user assigned identities exist/i,
    cause:
      'the node has no managed identity with the client id the SecretProviderClass names in `userAssignedIdentityID` (or, with it empty, no system-assigned identity)',
    fix: "set `userAssignedIdentityID` to the client id of an identity assigned to the node pool's VM scale set; for the AKS add-on identity: `az aks show -n <cluster> -g <rg> --query addonProfiles.azureKeyvaultSecretsProvider.identity.clientId -o tsv`",
    examples: ['{"error":"invalid_request","error_description":"Identity not found"}'],
  },
  {
    id: 'nmi.pod-identity',
    area: 'identity',
    origins: ['provider'],
    pattern: /nmi response failed|nmi did not (?:return|answer)/,
    cause:
      'AAD pod identity (usePodIdentity) gave no token: no AzureIdentityBinding matches the pod, or NMI is not running. Pod identity is deprecated and no longer supported on AKS',
    fix: "move the SecretProviderClass to workload identity: set `clientID` to a user-assigned identity federated with the pod's ServiceAccount and remove usePodIdentity",
    examples: ['failed to get key vault token: nmi response failed with status code: 404, err: <nil>'],
  },
  {
    id: 'identity.binding-token-proxy',
    area: 'identity',
    origins: ['provider', 'our-runtime'],
    pattern:
      /invalid tenantID\. You can locate your tenantID|custom token (?:endpoint|proxy URL)|must be a DNS name such as a<hash>\.ests\.aks|compute SNI name|read CA file|CA file "[^"]{0,300}" is empty|parse CA file|no valid certificates found in|TLS connect to API server|no certificates presented by API server|empty cluster ID in SAN|cluster ID SAN not found|\banswer larger than \S{1,20} bytes|^larger than \S{1,20} bytes|no answer in time/,
    cause:
      "identity binding (useAzureTokenProxy): the provider on node {node} could not use the AKS token proxy: its address, TLS server name (SNI, from the API server's certificate) or CA, or the SecretProviderClass's tenantId, is not right",
    fix: 'check tenantId is the tenant GUID; check that identity binding is enabled on the cluster and the provider runs with the right --token-proxy-url / --sni-name (or none: they are computed from the API server certificate) and the service-account ca.crt; the provider logs on the node name the step',
    examples: [
      'failed to get keyvault client: invalid tenantID. You can locate your tenantID by following the instructions listed here: https://learn.microsoft.com/partner-center/find-ids-and-domain-names',
      'compute SNI name: extract cluster ID from API server certificate: cluster ID SAN not found in API server certificate (use --sni-name flag to provide SNI name explicitly)',
      'custom token endpoint must use https scheme, got "http"',
      'answer larger than 65536 bytes',
      'no answer in time',
    ],
  },
  // The generic identity failure after the specific IMDS and NMI texts (the first match wins).
  {
    id: 'identity.token-failed',
    area: 'identity',
    origins: ['provider', 'our-runtime'],
    pattern:
      /the identity returned no access token|(?:ManagedIdentity|ClientAssertion|ClientSecret|WorkloadIdentity)Credential/,
    cause: 'the identity endpoint (Entra ID or IMDS) gave the provider no token for Key Vault',
    fix: "read the rest of the message for the endpoint's own error; check clientID/tenantId (workload identity) or userAssignedIdentityID (VM identity)",
    examples: [
      'ManagedIdentityCredential: Authentication failed. Message Attempted to use the IMDS endpoint, but it is not available.',
    ],
  },
  // ---- Key Vault ----
  {
    id: 'keyvault.firewall',
    area: 'network',
    origins: ['key-vault'],
    pattern:
      /ForbiddenByFirewall|ForbiddenByConnection|Client address is not authorized and caller is not a trusted service|Public network access is disabled/,
    cause: "the vault's firewall or private endpoint refused the node's address",
    fix: "allow the node subnet in the vault's networking (`az keyvault network-rule add -n {vault} --subnet <subnet id>`), or use a private endpoint with the privatelink.vaultcore.azure.net DNS zone linked to the cluster's VNet",
    examples: [
      'Code="Forbidden" Message="Client address is not authorized and caller is not a trusted service." InnerError={"code":"ForbiddenByFirewall"}',
    ],
  },
  {
    id: 'keyvault.object-disabled',
    area: 'key-vault',
    origins: ['key-vault'],
    pattern: /not allowed on a disabled (?:secret|key|certificate)|\b(?:Secret|Key|Certificate)Disabled\b/,
    cause: 'the Key Vault object (or the version the SecretProviderClass pins) is disabled',
    fix: 'enable it (`az keyvault secret set-attributes --vault-name {vault} --name <name> --enabled true`) or pin another version with objectVersion',
    examples: ['Operation get is not allowed on a disabled secret.'],
  },
  {
    id: 'keyvault.forbidden',
    area: 'key-vault',
    origins: ['key-vault'],
    pattern:
      /ForbiddenByRbac|ForbiddenByPolicy|AccessDenied|does not have (?:secrets|keys|certificates) \w+ permission|Caller is not authorized to perform action|RESPONSE 403|StatusCode=403|Status=403|returned 403\b/,
    cause:
      'Key Vault answered 403: the identity the SecretProviderClass uses ({clientId}) may not read this object',
    fix: ROLE_FIX,
    evidence:
      'az role assignment list --assignee {clientId} --scope $(az keyvault show -n {vault} --query id -o tsv) -o table',
    examples: [
      'Key Vault returned 403 Forbidden: Caller is not authorized to perform action on resource. (check the identity has a Key Vault role or access policy for this object type, and the vault firewall)',
      'RESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n{"error":{"code":"Forbidden","innererror":{"code":"ForbiddenByRbac"}}}',
    ],
  },
  {
    id: 'keyvault.wrong-tenant',
    area: 'identity',
    origins: ['key-vault'],
    pattern: /AKV10032|AKV10022|Invalid issuer\.? Expected one of/,
    cause: "the token was issued by another tenant than the vault's: `tenantId` names the wrong tenant",
    fix: "set `tenantId` to the vault's tenant: `az keyvault show -n {vault} --query properties.tenantId -o tsv`",
    examples: ['AKV10032: Invalid issuer. Expected one of https://sts.windows.net/x/'],
  },
  {
    id: 'keyvault.challenge-resource',
    area: 'secret-provider-class',
    origins: ['our-runtime'],
    pattern:
      /The challenge resource '(?<resource>[^']{0,253})' does not match the requested domain|The challenge contains invalid scope/,
    cause:
      "the vault host is not under the domain Key Vault's 401 challenge names ({resource}): the cloud of the SecretProviderClass (cloudName, or the cloud file) is not the vault's, or something between the node and the vault answers for it; no token is sent to such a host",
    fix: "set cloudName to the vault's cloud (AzurePublicCloud, AzureUSGovernmentCloud, AzureChinaCloud, or AzureStackCloud with its cloud file) and keyvaultName to its name there; check no proxy answers for *.vault.azure.net",
    examples: [
      "The challenge resource 'vault.azure.net' does not match the requested domain kv1.vault.usgovcloudapi.net, so no token is sent to it. See https://aka.ms/azsdk/blog/vault-uri for more information.",
      "The challenge contains invalid scope 'not a url'",
    ],
  },
  {
    id: 'keyvault.object-not-found',
    area: 'key-vault',
    origins: ['key-vault'],
    pattern:
      /SecretNotFound|KeyNotFound|CertificateNotFound|was not found in this key vault|RESPONSE 404|StatusCode=404|Status=404|returned 404\b/,
    cause:
      'Key Vault has no such object: the objectName, the objectType (a key is "key", a certificate "cert", or "secret" for its private key) or the pinned objectVersion is wrong',
    fix: 'check the object exists: `az keyvault secret show --vault-name {vault} --name <objectName>` (key show / certificate show for other types); fix objectName/objectType/objectVersion in spec.parameters.objects',
    examples: [
      'Key Vault returned 404 SecretNotFound: A secret with (name/id) db-pasword was not found in this key vault. (check the object name, type and version)',
      'RESPONSE 404: 404 Not Found\nERROR CODE: SecretNotFound',
    ],
  },
  {
    id: 'network.entra-unreachable',
    area: 'network',
    origins: ['entra-id'],
    pattern: /(?:ENOTFOUND |lookup )login\.|login\.microsoftonline\.\S{0,20}: no such host/,
    cause:
      'the provider on node {node} cannot resolve the Entra ID login host: the node has no DNS or egress to login.microsoftonline.com',
    fix: "allow egress to login.microsoftonline.com:443 (AKS outbound rules); the provider runs on the host network, so the node's DNS applies",
    examples: ['getaddrinfo ENOTFOUND login.microsoftonline.com'],
  },
  {
    id: 'keyvault.vault-not-found',
    area: 'key-vault',
    origins: ['key-vault'],
    pattern: /no such host|ENOTFOUND|VaultNotFound|getaddrinfo EAI_AGAIN|server misbehaving/,
    cause:
      'the vault host name does not resolve: `keyvaultName` ({vault}) is not an existing vault, or a private DNS zone for it is not linked to the cluster',
    fix: 'set keyvaultName to the vault\'s name (not its URL): `az keyvault list --query "[].name" -o tsv`; with a private endpoint, link privatelink.vaultcore.azure.net to the cluster\'s VNet',
    evidence:
      'kubectl run -it --rm dnscheck --image=busybox --restart=Never -- nslookup {vault}.vault.azure.net',
    examples: [
      'Key Vault request failed: ENOTFOUND getaddrinfo ENOTFOUND wrongvault.vault.azure.net',
      'dial tcp: lookup wrongvault.vault.azure.net on 10.0.0.10:53: no such host',
    ],
  },
  {
    id: 'keyvault.throttled',
    area: 'key-vault',
    origins: ['key-vault', 'driver'],
    pattern: /\b429\b|Throttled|Too Many Requests|rate: Wait\(n=\d+\) would exceed context deadline/,
    cause:
      'Key Vault throttled the requests (each pod and each rotation costs one GET per object per pod with the upstream provider)',
    fix: 'raise the rotation poll interval, mount fewer objects per pod, split hot secrets across vaults; our provider shares one fetch per identity and object across pods (docs/operations.md)',
    examples: ['Key Vault returned 429 Throttled: Rate limit is exceeded. Try again in a few seconds.'],
  },
  {
    // Before keyvault.timeout: this text also says DeadlineExceeded or "the driver cancelled the Mount
    // call", but the Mount never reached Key Vault.
    id: 'provider.admission-queue-timeout',
    area: 'node',
    origins: ['our-runtime'],
    pattern: /in this provider's admission queue/,
    cause:
      "the Mount waited in our provider's admission queue on node {node} until its deadline and never started: the provider is short of CPU for the node's burst of pods (it never reached Key Vault or Entra ID)",
    fix: "raise the provider's CPU limit (providerResources.limits.cpu of the install; the default is upstream's 50m) or --mount-admission-slots, or start fewer pods on the node at once; the kubelet retries the mount",
    evidence:
      "kubectl debug node/{node} -it --image=busybox -- wget -qO- http://127.0.0.1:8898/metrics | grep -E '^mount_admission'",
    examples: [
      "failed to mount objects, error: the Mount waited 4.0 s in this provider's admission queue (1 Mount running, --mount-admission-slots=1; 2 Mounts waiting ahead of it) and the driver's deadline of 5.0 s passed before it started (this provider answers 1.0 s before it); nothing was mounted; the kubelet retries the mount; raise the provider's CPU limit (providerResources.limits.cpu of the install) or --mount-admission-slots so Mounts start sooner",
      "failed to mount objects, error: the driver cancelled the Mount call after it waited 2.1 s in this provider's admission queue (4 Mounts running, --mount-admission-slots=4; 0 Mounts waiting ahead of it), before it started; nothing was mounted; raise the provider's CPU limit (providerResources.limits.cpu of the install) or --mount-admission-slots so Mounts start sooner",
    ],
  },
  {
    id: 'keyvault.timeout',
    area: 'network',
    origins: ['key-vault', 'driver', 'kubelet'],
    pattern:
      /Key Vault did not answer within|context deadline exceeded|i\/o timeout|ETIMEDOUT|StatusCode=0|DeadlineExceeded|the driver cancelled the Mount call|The operation was aborted/,
    cause:
      'no answer from Key Vault or Entra ID in time: egress from the node to {vault}.vault.azure.net:443 or login.microsoftonline.com:443 is blocked (firewall, NSG, proxy, private endpoint DNS), or the vault is throttling',
    fix: 'allow egress to <vault>.vault.azure.net:443 and login.microsoftonline.com:443 (AKS outbound rules), check the private endpoint DNS; the provider runs on the host network, so test from the node',
    evidence:
      'kubectl debug node/{node} -it --image=busybox -- wget -qO- -T 5 https://{vault}.vault.azure.net/healthstatus',
    examples: [
      'keyvault.BaseClient#GetSecret: Failure sending request: StatusCode=0 -- Original Error: context deadline exceeded',
      'rpc error: code = DeadlineExceeded desc = context deadline exceeded',
      'failed to get objectType:secret, objectName:db, objectVersion:: The operation was aborted.',
    ],
  },
  {
    id: 'keyvault.server-error',
    area: 'key-vault',
    origins: ['key-vault'],
    pattern: /RESPONSE 50[0-4]|StatusCode=50[0-4]|returned 50[0-4]\b|ECONNRESET/,
    cause: 'Key Vault answered with a server error or dropped the connection',
    fix: 'kubelet retries the mount; check https://status.azure.com for the region if it persists',
    examples: ['Key Vault returned 503 ServiceUnavailable: try later'],
  },
  {
    id: 'keyvault.too-many-versions',
    area: 'key-vault',
    origins: ['our-runtime'],
    pattern: /has more than \S{1,12} pages of versions/,
    cause:
      'objectVersionHistory needs the list of every version, and this object has more versions than the provider lists (tens of thousands)',
    fix: 'pin objectVersion instead of objectVersionHistory for this object, or purge old versions in Key Vault',
    examples: ['db-password has more than 400 pages of versions'],
  },
  {
    id: 'network.unexpected-answer',
    area: 'network',
    origins: ['our-runtime'],
    pattern:
      /answered 200 with a body that is not JSON|answered a token without a valid expires_in|the response of \S{1,260} is larger than \S{1,20} bytes|the versions listing of \S{1,130} points to another host|endpoints_resolution_error: the token endpoint of/,
    cause:
      'an answer that is not what Key Vault or Entra ID send (not JSON, too large, or pointing elsewhere): usually a proxy, firewall or TLS inspection on the way from node {node} answers in their place',
    fix: "let the node reach <vault>.vault.azure.net:443 and login.microsoftonline.com:443 directly (no TLS inspection for them); the provider runs on the host network, so the node's egress applies",
    evidence:
      'kubectl debug node/{node} -it --image=busybox -- wget -qO- -T 5 https://{vault}.vault.azure.net/healthstatus',
    examples: [
      'Key Vault answered 200 with a body that is not JSON',
      'Entra ID answered a token without a valid expires_in',
      'the response of kv1.vault.azure.net is larger than 4194304 bytes',
      'the versions listing of db-password points to another host (evil.example); it is not followed',
      'endpoints_resolution_error: the token endpoint of https://login.microsoftonline.com/t is not on https:',
    ],
  },
  {
    id: 'network.entra-error',
    area: 'network',
    origins: ['our-runtime'],
    pattern: /network_error: (?<host>[^\s:]{1,253}): /,
    cause:
      'the provider on node {node} could not talk to Entra ID at {host} (connection refused, reset or TLS failed)',
    fix: "allow egress from the node to {host}:443 (AKS outbound rules, NSG, firewall), without TLS inspection; the provider runs on the host network, so the node's egress applies",
    examples: ['network_error: login.microsoftonline.com: connect ECONNREFUSED 20.190.160.1:443'],
  },
  // ---- the objects parameter ----
  {
    id: 'objects.type',
    area: 'secret-provider-class',
    origins: ['provider'],
    pattern: /Invalid vaultObjectTypes|Should be secret, key, or cert/,
    cause: 'an objectType is not one of secret, key or cert (it is case-sensitive)',
    fix: 'write objectType: secret, key or cert in lower case in spec.parameters.objects',
    examples: [
      'failed to get objectType:Secret, objectName:db, objectVersion:: Invalid vaultObjectTypes. Should be secret, key, or cert',
    ],
  },
  {
    id: 'objects.format',
    area: 'secret-provider-class',
    origins: ['provider'],
    pattern: /invalid objectFormat|PFX format only supported/,
    cause: 'an objectFormat is not pem or pfx, or pfx is asked of a key or cert',
    fix: 'use objectFormat pem or pfx, and pfx only with objectType secret',
    examples: ['invalid objectFormat: pkcs, should be PEM or PFX'],
  },
  {
    id: 'objects.encoding',
    area: 'secret-provider-class',
    origins: ['provider'],
    pattern: /objectEncoding only supported|invalid objectEncoding|illegal base64 data|encoding\/hex/,
    cause:
      "an objectEncoding is not utf-8, hex or base64, is set on a key or cert, or the secret's value is not in that encoding",
    fix: 'remove objectEncoding, or make it match how the secret value is stored (base64 for a base64 text, hex for hex)',
    examples: [
      'invalid objectEncoding: b64, should be hex, base64 or utf-8',
      'illegal base64 data at input byte 4',
    ],
  },
  {
    id: 'objects.file-name',
    area: 'secret-provider-class',
    origins: ['provider'],
    pattern: /file name must (?:not be empty|be a relative path|not contain '\.\.')/,
    cause: 'an objectAlias (or objectName) is empty, absolute or contains ".."',
    fix: 'use a plain relative file name such as db-password or certs/tls.pem',
    examples: ["file name must not contain '..'"],
  },
  {
    id: 'objects.file-permission',
    area: 'secret-provider-class',
    origins: ['our-runtime'],
    pattern: /invalid filePermission/,
    cause: 'a filePermission is not an octal file mode (upstream silently writes such a file with mode 0)',
    fix: 'write an octal mode such as "0440" or "0644"',
    examples: [
      'invalid filePermission "0900": use an octal file mode between 0000 and 0777, e.g. "0644" or "0400"',
    ],
  },
  {
    id: 'objects.yaml',
    area: 'secret-provider-class',
    origins: ['provider'],
    pattern: /failed to yaml unmarshal objects|unmarshal failed for keyVaultObjects at index|\byaml: /,
    cause:
      'spec.parameters.objects is not the YAML the provider reads: `array:` with one `- |` block string per object',
    fix: 'write objects as:\n  objects: |\n    array:\n      - |\n        objectName: db-password\n        objectType: secret',
    examples: [
      'failed to yaml unmarshal objects, error: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into types.StringArray',
    ],
  },
  {
    id: 'objects.not-set',
    area: 'secret-provider-class',
    origins: ['provider', 'our-runtime'],
    pattern: /objects is not set|lists no objects/,
    cause: 'spec.parameters.objects is missing or lists no object',
    fix: 'list at least one Key Vault object in spec.parameters.objects',
    examples: ['objects is not set'],
  },
  {
    id: 'objects.collision',
    area: 'secret-provider-class',
    origins: ['our-runtime'],
    pattern: /both write (?:the file )?"|writes "[^"]{0,300}" inside the file/,
    cause: 'two objects would write the same file, or one inside the other',
    fix: 'give one of them another objectAlias',
    examples: ['objects secret/a and secret/b both write the file "a"; give one of them another objectAlias'],
  },
  {
    id: 'objects.limits',
    area: 'secret-provider-class',
    origins: ['our-runtime'],
    pattern: /more than the \S+ (?:this provider accepts|one Mount fetches)/,
    cause:
      'the SecretProviderClass asks for more than our provider accepts in one mount (sizes, object or version counts)',
    fix: 'split the objects over two SecretProviderClasses or lower objectVersionHistory; the message names the limit',
    examples: ['objects is 300000 bytes, more than the 262144 this provider accepts; split the objects'],
  },
  {
    id: 'objects.content',
    area: 'key-vault',
    origins: ['provider'],
    pattern:
      /unknown content type|no leaf found|constructing chain resulted in cycle|\bpkcs12: |raw bag wanted|failed to parse key for type|curve \S+ is not supported|key type '[^']{0,40}' currently not supported|(?:secret|key|certificate) (?:value|id) is nil/,
    cause:
      'the Key Vault object exists but its content is of a kind the provider cannot write (content type, PFX encryption, key type or curve, certificate chain)',
    fix: 'store the certificate as PFX (application/x-pkcs12) or PEM (application/x-pem-file) without a password, with SHA-1/3DES or RC2 PKCS#12 algorithms; keys as RSA or EC P-256/384/521',
    examples: ["failed to get certificate. unknown content type 'application/json'"],
  },
  // ---- other parameters ----
  {
    id: 'csidriver.pod-info',
    area: 'install',
    origins: ['provider'],
    pattern: /pod (?:name|namespace) is not provided/,
    cause: 'kubelet sent no pod name/namespace: the CSIDriver {driver} lacks podInfoOnMount: true',
    fix: 'set podInfoOnMount: true on the CSIDriver: `kubectl patch csidriver {driver} --type merge -p \'{"spec":{"podInfoOnMount":true}}\'`, or re-apply the install (our SelfHostedInstall and the upstream chart render it)',
    evidence: 'kubectl get csidriver {driver} -o yaml',
    examples: ['pod name is not provided'],
  },
  {
    id: 'spc.identity-modes',
    area: 'secret-provider-class',
    origins: ['provider'],
    pattern: /only one identity mode can be enabled at a time/,
    cause: 'more than one of usePodIdentity, useVMManagedIdentity, useAzureTokenProxy is "true"',
    fix: 'keep exactly one identity mode in spec.parameters (workload identity: only clientID)',
    examples: [
      'only one identity mode can be enabled at a time: usePodIdentity, useVMManagedIdentity, or useAzureTokenProxy',
    ],
  },
  {
    id: 'spc.boolean',
    area: 'secret-provider-class',
    origins: ['provider'],
    pattern: /failed to parse (?<flag>\w+) flag/,
    cause: 'spec.parameters.{flag} is not a boolean the provider reads',
    fix: 'write "true" or "false" (quoted: every parameter is a string)',
    examples: [
      'failed to parse usePodIdentity flag, error: strconv.ParseBool: parsing "tru": invalid syntax',
    ],
  },
  {
    id: 'spc.vault-name',
    area: 'secret-provider-class',
    origins: ['provider'],
    pattern: /Invalid vault name|keyvaultName is not provided/,
    cause: 'keyvaultName is missing or not a vault name (3-24 letters, digits or "-")',
    fix: "set spec.parameters.keyvaultName to the vault's name, not its URL",
    examples: [
      'failed to get vault: Invalid vault name: "https://kv.vault.azure.net", must match [-a-zA-Z0-9]{3,24}',
    ],
  },
  {
    id: 'spc.tenant',
    area: 'secret-provider-class',
    origins: ['provider'],
    pattern: /tenantId is not provided/,
    cause: 'spec.parameters.tenantId is missing (the provider needs it in every identity mode)',
    fix: "set tenantId to the vault's tenant: `az keyvault show -n {vault} --query properties.tenantId -o tsv`",
    examples: ['tenantId is not provided'],
  },
  {
    id: 'spc.cloud',
    area: 'secret-provider-class',
    origins: ['provider', 'our-runtime'],
    pattern:
      /cloudName \S+ is not valid|There is no cloud environment matching|cloud environment file|cloudEnvFileName|is not inside \S+, the directory this provider reads/,
    cause:
      'cloudName is not an Azure cloud, or its AzureStackCloud environment file cannot be read by the provider',
    fix: 'use cloudName AzurePublicCloud, AzureUSGovernmentCloud or AzureChinaCloud; for AzureStackCloud name a file the provider may read (our provider: inside its --cloud-env-file-dir)',
    examples: [
      'cloudName AzureCloud is not valid, error: autorest/azure: There is no cloud environment matching the name "AZURECLOUD"',
    ],
  },
  // ---- identity as the provider sees it ----
  {
    id: 'csidriver.token-audience',
    area: 'install',
    origins: ['provider'],
    pattern:
      /service account tokens not found|token for audience \S+ not found|failed to unmarshal service account tokens|failed to parse workload identity tokens|service account tokens are required for identity binding/,
    cause:
      'the SecretProviderClass uses workload identity (clientID), but kubelet passed no service-account token for api://AzureADTokenExchange: the CSIDriver {driver} has no tokenRequests entry for that audience',
    fix: 'add tokenRequests: [{audience: api://AzureADTokenExchange}] to the CSIDriver (our SelfHostedInstall: workloadIdentity: true; upstream chart: --set tokenRequests[0].audience=api://AzureADTokenExchange); or use another identity mode',
    evidence: 'kubectl get csidriver {driver} -o jsonpath={.spec.tokenRequests}',
    examples: [
      'failed to build auth config for mode None: failed to parse workload identity tokens, error: service account tokens not found',
    ],
  },
  {
    id: 'identity.none',
    area: 'identity',
    origins: ['provider'],
    pattern: /nodePublishSecretRef secret is not set|no identity mode is enabled/,
    cause:
      'the SecretProviderClass selects no identity: no clientID (workload identity), no useVMManagedIdentity, and the volume has no nodePublishSecretRef (service principal)',
    fix: 'set clientID (workload identity, recommended), or useVMManagedIdentity: "true" with userAssignedIdentityID, or a nodePublishSecretRef on the pod volume',
    examples: ['failed to get credentials, nodePublishSecretRef secret is not set'],
  },
  {
    id: 'identity.service-principal-keys',
    area: 'identity',
    origins: ['provider'],
    pattern: /could not find client(?:id|secret) in secrets/,
    cause: 'the nodePublishSecretRef Secret lacks the key clientid or clientsecret',
    fix: 'create it with both keys: `kubectl create secret generic <name> -n {namespace} --from-literal clientid=<app id> --from-literal clientsecret=<secret>`',
    examples: ['could not find clientsecret in secrets'],
  },
  {
    id: 'identity.binding',
    area: 'identity',
    origins: ['provider', 'our-runtime'],
    pattern: /identity binding|useAzureTokenProxy\) is not supported/,
    cause:
      'identity binding (useAzureTokenProxy) is not set up: it needs clientID, the CSIDriver token audience api://AKSIdentityBinding and a provider that supports it',
    fix: 'set clientID to the user-assigned identity and add tokenRequests audience api://AKSIdentityBinding to the CSIDriver, or use workload identity (clientID without useAzureTokenProxy)',
    examples: ['clientID is required for identity binding'],
  },
  {
    id: 'provider.request',
    area: 'install',
    origins: ['provider'],
    pattern: /failed to unmarshal [\w ]{1,30}, error: /,
    cause:
      'the provider could not read the request the driver sent (a driver and provider of incompatible versions)',
    fix: 'run driver and provider from the same install (upstream driver >= v1.1 with provider >= v1.0, or both of this package)',
    examples: ['failed to unmarshal attributes, error: unexpected end of JSON input'],
  },
  // ---- the driver ----
  {
    id: 'driver.apiserver-unavailable',
    area: 'install',
    origins: ['our-runtime'],
    pattern: /the Kubernetes API server is unreachable or overloaded/,
    cause:
      'the driver on node {node} could not reach the Kubernetes API server (to read the SecretProviderClass or the pod); nothing is wrong with the volume',
    fix: 'kubelet retries the mount; if it lasts, check the API server and the network from the node (`kubectl get --raw /readyz`)',
    examples: [
      'failed to get secretproviderclass a/b, error: kubernetes GET /apis/x: transport error (the Kubernetes API server is unreachable or overloaded; nothing is wrong with the volume, and kubelet retries the mount until the API server answers)',
    ],
  },
  {
    id: 'driver.spc-not-found',
    area: 'secret-provider-class',
    origins: ['driver'],
    pattern:
      /failed to get secretproviderclass (?<spcNamespace>[^/\s]{1,253})\/(?<spcName>[^,\s]{1,253}), error: [^\n]{0,300}not found/,
    cause:
      'there is no SecretProviderClass {spcName} in namespace {spcNamespace}, the namespace of the pod; the driver never reads one from another namespace',
    fix: 'create the SecretProviderClass in namespace {spcNamespace} (or fix volumeAttributes.secretProviderClass of the pod volume)',
    evidence: 'kubectl get secretproviderclasses -A --field-selector metadata.name={spcName}',
    examples: [
      'failed to get secretproviderclass team-a/azure-sync, error: secretproviderclasses.secrets-store.csi.x-k8s.io "azure-sync" not found',
    ],
  },
  {
    id: 'driver.spc-forbidden',
    area: 'install',
    origins: ['driver', 'apiserver'],
    pattern: /failed to get secretproviderclass [^\n]{0,300}forbidden/,
    cause:
      "the driver's ServiceAccount may not read SecretProviderClasses (its ClusterRole binding is missing)",
    fix: "re-apply the install's RBAC (ClusterRole secretproviderclasses-role and its binding to the driver's ServiceAccount)",
    examples: [
      'failed to get secretproviderclass a/b, error: secretproviderclasses.secrets-store.csi.x-k8s.io "b" is forbidden: User "x" cannot get resource',
    ],
  },
  {
    id: 'driver.spc-read',
    area: 'install',
    origins: ['driver'],
    pattern: /failed to get secretproviderclass /,
    cause: 'the driver on node {node} could not read the SecretProviderClass from the API server',
    fix: "check the driver pod's log and its connection to the API server (network policy, API server load)",
    examples: [
      'failed to get secretproviderclass a/b, error: kubernetes GET /apis/x: transport error TransportError: connect ECONNREFUSED',
    ],
  },
  {
    id: 'driver.bad-request',
    area: 'install',
    origins: ['driver'],
    pattern: /(?:Volume capability|Volume ID|Target path|Volume attributes) missing in request/,
    cause:
      'the driver got a NodePublishVolume without the fields kubelet always sends: something other than kubelet called it, or the CSIDriver object does not match the driver',
    fix: 'let only kubelet call the driver socket; re-create the CSIDriver object of the install',
    examples: ['Volume attributes missing in request'],
  },
  {
    id: 'driver.spc-attribute',
    area: 'pod',
    origins: ['driver'],
    pattern: /secretProviderClass is not set|provider not set in|parameters not set in/,
    cause:
      'the pod volume names no SecretProviderClass, or the SecretProviderClass has no provider or no parameters',
    fix: 'set volumeAttributes.secretProviderClass on the pod volume, and spec.provider: azure with spec.parameters on the SecretProviderClass',
    examples: ['secretProviderClass is not set', 'parameters not set in team-a/app'],
  },
  {
    id: 'driver.read-only',
    area: 'pod',
    origins: ['driver'],
    pattern: /Readonly is not true in request/,
    cause: 'the CSI volume of the pod is not read-only',
    fix: 'set csi.readOnly: true on the pod volume (and readOnly: true on its volumeMount)',
    examples: ['rpc error: code = InvalidArgument desc = Readonly is not true in request'],
  },
  {
    id: 'driver.legacy-provider-binary',
    area: 'install',
    origins: ['driver'],
    pattern: /failed to find provider binary/,
    cause:
      'a driver older than v0.0.20 looks for provider binaries; current providers serve gRPC on a socket',
    fix: 'upgrade the driver (upstream chart >= 1.0, the AKS add-on, or our SelfHostedInstall)',
    examples: [
      'failed to find provider binary azure, err: stat /etc/kubernetes/secrets-store-csi-providers/azure/provider-azure: no such file or directory',
    ],
  },
  {
    id: 'driver.provider-not-found',
    area: 'install',
    origins: ['driver'],
    pattern: /provider not found: provider "(?<provider>[^"]{0,64})"/,
    cause:
      'the driver on node {node} found no {provider}.sock: the {provider} provider DaemonSet has no ready pod on that node, or it puts its socket in another host directory than the driver reads',
    fix: 'make the provider DaemonSet run on the node and mount the same host directory the driver searches (default /var/run/secrets-store-csi-providers; our install and the upstream charts agree); spec.provider must equal the socket name without .sock',
    evidence: 'kubectl get pods -A -o wide --field-selector spec.nodeName={node} | grep -i provider',
    examples: ['error connecting to provider "azure": provider not found: provider "azure"'],
  },
  {
    id: 'driver.invalid-provider',
    area: 'secret-provider-class',
    origins: ['driver'],
    pattern: /invalid provider: provider/,
    cause: 'spec.provider is not a provider name (at most 30 letters, digits, "-" or "_")',
    fix: 'set spec.provider: azure',
    examples: ['error connecting to provider "../x": invalid provider: provider "../x"'],
  },
  {
    id: 'driver.provider-unavailable',
    area: 'install',
    origins: ['driver'],
    pattern:
      /code = Unavailable|connect ECONNREFUSED|connect ENOENT|connection refused|error reading from server: EOF/,
    cause:
      'the provider socket exists but nothing answers on it: the provider on node {node} crashed or is restarting',
    fix: 'look at the provider pod on the node: `kubectl logs` of it and its restarts',
    examples: [
      'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix /provider/azure.sock: connect: connection refused"',
    ],
  },
  {
    id: 'driver.message-size',
    area: 'install',
    origins: ['driver', 'our-runtime'],
    pattern: /received message larger than max|gRPC message limit|ResourceExhausted/,
    cause:
      'the mounted content is larger than the gRPC message limit between driver and provider (4 MiB by default)',
    fix: "mount fewer or smaller objects, or raise the driver's --max-call-recv-msg-size (our provider: --max-response-bytes too)",
    examples: [
      'rpc error: code = ResourceExhausted desc = grpc: received message larger than max (4194370 vs. 4194304)',
    ],
  },
  {
    id: 'driver.pod-status',
    area: 'install',
    origins: ['driver'],
    pattern: /failed to create secret provider class pod status|failed to get pod [^\n]{0,300}, err:/,
    cause:
      "the driver could not read the pod or write its SecretProviderClassPodStatus: the driver's RBAC or the SecretProviderClassPodStatus CRD is missing",
    fix: "re-apply the install's CRDs and RBAC (secretproviderclasspodstatuses create/get/update; pods get)",
    examples: ['failed to create secret provider class pod status for pod a/b, err: forbidden'],
  },
  {
    id: 'driver.pod-volume',
    area: 'pod',
    origins: ['driver'],
    pattern:
      /could not find secret provider class pod status volume|targetPath did not match pod UID|volume name does not match the volume name in the pod/,
    cause:
      "the target path kubelet passed does not name this pod's Secrets Store volume (kubelet root dir differs from the driver's, or the pod changed)",
    fix: "make the driver DaemonSet's kubelet root dir (host path /var/lib/kubelet/pods) match the kubelet's --root-dir",
    examples: ['could not find secret provider class pod status volume for pod a/b'],
  },
  {
    id: 'driver.target-path-shape',
    area: 'node',
    origins: ['our-runtime'],
    pattern:
      /is not an absolute path without "\.", "\.\." or empty segments|is not of the form <kubelet>\/pods\/<pod uid>|belongs to pod uid [^\s,]{1,100}, not /,
    cause:
      "the target path of the NodePublishVolume call is not kubelet's path for this pod's volume (only something other than kubelet, or a kubelet with a different root dir, sends that)",
    fix: "check what calls the driver's CSI socket; the driver accepts only <kubelet>/pods/<pod uid>/volumes/kubernetes.io~csi/<volume>/mount for the pod's own UID",
    examples: [
      'failed to check the target path of pod a/b, err: target path "/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/v/mount/../../x" is not an absolute path without ".", ".." or empty segments',
      'failed to check the target path of pod a/b, err: target path /var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/v/mount belongs to pod uid u1, not u2',
    ],
  },
  {
    id: 'driver.token-not-from-kubelet',
    area: 'pod',
    origins: ['our-runtime'],
    pattern: / in the [^\n]{1,40} did not come from kubelet: /,
    cause:
      "the pod's volume carries a service-account token of its own: kubelet sends tokens only for the audiences in the CSIDriver's spec.tokenRequests, so this one came from the pod author and is refused",
    fix: "remove csi.storage.k8s.io/serviceAccount.tokens from the pod's volumeAttributes; for workload identity, list api://AzureADTokenExchange in the CSIDriver's spec.tokenRequests (SelfHostedInstall: workloadIdentity)",
    examples: [
      "csi.storage.k8s.io/serviceAccount.tokens in the volume attributes did not come from kubelet: CSIDriver secrets-store.csi.k8s.io has no tokenRequests, so kubelet sends no service-account tokens. Remove it from the pod's volumeAttributes; to use workload identity, list the audience in the CSIDriver's spec.tokenRequests",
    ],
  },
  {
    id: 'driver.token-policy-unknown',
    area: 'install',
    origins: ['our-runtime'],
    pattern: /and the driver has not read CSIDriver \S{1,300} yet/,
    cause:
      'the driver has not been able to read its CSIDriver object since it started (the API server is away, or its RBAC lacks get/list/watch on csidrivers)',
    fix: "check the driver's logs for list/watch failures and that its ClusterRole grants get/list/watch on storage.k8s.io csidrivers (resourceNames: the driver name); kubelet retries the mount",
    examples: [
      "the request carries csi.storage.k8s.io/serviceAccount.tokens, and the driver has not read CSIDriver secrets-store.csi.k8s.io yet (the Kubernetes API server has not answered since the driver started), so it cannot tell kubelet's tokens from a pod's; kubelet retries the mount",
    ],
  },
  {
    id: 'driver.volume-attributes-too-large',
    area: 'pod',
    origins: ['our-runtime'],
    pattern: /the volume attributes are too large: /,
    cause:
      "the pod's CSI volumeAttributes exceed the driver's bounds (256 keys, 316-byte keys, 128 KiB values, 256 KiB in all)",
    fix: 'move parameters into the SecretProviderClass and keep volumeAttributes to secretProviderClass (and small overrides)',
    examples: [
      'the volume attributes are too large: "objects" is 204812 bytes, more than 131072; keep volumeAttributes small (the SecretProviderClass holds the parameters)',
    ],
  },
  {
    id: 'driver.spc-name',
    area: 'pod',
    origins: ['our-runtime'],
    pattern: /volume attribute [^\n]{1,200} is not a SecretProviderClass name/,
    cause: "the pod's volumeAttributes.secretProviderClass is not a valid object name",
    fix: 'set volumeAttributes.secretProviderClass to the name of a SecretProviderClass in the pod\'s namespace (lowercase letters, digits, "-" and ".")',
    examples: [
      'volume attribute secretProviderClass "../x" is not a SecretProviderClass name (a DNS subdomain: lowercase letters, digits, "-" and ".", at most 253 characters); name an SPC in the pod\'s own namespace',
    ],
  },
  {
    id: 'driver.file-path',
    area: 'secret-provider-class',
    origins: ['driver', 'our-runtime'],
    pattern:
      /failed to write file|invalid path|returned by the provider: |the path (?:is empty|is absolute|contains|is longer|is not clean|is returned more than once)|the element "[^"]{0,60}"\.{0,3} is longer|the first element starts with|its parent "[^"]{0,300}" is also returned|file mode \S+ is outside/,
    cause:
      'the provider returned a file path or mode the driver refuses (an objectAlias that is not a clean relative path)',
    fix: 'use plain relative objectAlias names without "..", leading "/", "./" or trailing "/"',
    examples: ['failed to write file: invalid path: must not be empty'],
  },
  {
    id: 'driver.missing-versions',
    area: 'install',
    origins: ['driver'],
    pattern: /missing object versions|mount request failed with provider error code/,
    cause:
      'the provider answered the mount without object versions or with an error code: a provider the driver does not understand',
    fix: 'use the Azure provider v1.x (or ours) with driver v1.x; see the provider pod logs',
    examples: ['missing object versions'],
  },
  {
    id: 'node.tmpfs',
    area: 'node',
    origins: ['driver'],
    pattern: /failed to mount tmpfs|failed to check if target path|failed to clean and unmount target path/,
    cause:
      'the driver could not mount or unmount the tmpfs on node {node} (it needs privileged: true and Bidirectional mount propagation of /var/lib/kubelet/pods)',
    fix: "check the driver container is privileged and mounts the kubelet's pods dir with mountPropagation: Bidirectional",
    examples: [
      'failed to mount tmpfs at /var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/v/mount, err: mount failed',
    ],
  },
  // ---- kubelet ----
  {
    id: 'kubelet.driver-not-registered',
    area: 'install',
    origins: ['kubelet'],
    pattern: /driver name (?<driver>\S{1,253}) not found in the list of registered CSI drivers/,
    cause:
      'the driver {driver} is not registered with kubelet on node {node}: its DaemonSet has no ready pod there, or node-driver-registrar points at another kubelet root dir',
    fix: 'make the driver DaemonSet run on the node (nodeSelector, tolerations) and check its node-driver-registrar container logs',
    evidence: 'kubectl get csinode {node} -o yaml',
    examples: [
      'kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers',
    ],
  },
  {
    id: 'kubelet.no-csidriver',
    area: 'install',
    origins: ['kubelet'],
    pattern:
      /not supported by driver (?<driver>\S{1,253}) \(no CSIDriver object\)|volume mode "Ephemeral" not supported by driver/,
    cause:
      'there is no CSIDriver object {driver} (or it does not list volumeLifecycleModes Ephemeral), so kubelet refuses inline volumes',
    fix: 'install the driver with its CSIDriver object (our SelfHostedInstall, the upstream chart, or the AKS add-on)',
    evidence: 'kubectl get csidriver',
    examples: [
      'kubernetes.io/csi: mounter.SetUpAt failed to check volume lifecycle mode: volume mode "Ephemeral" not supported by driver secrets-store.csi.k8s.io (no CSIDriver object)',
    ],
  },
  {
    id: 'kubelet.node-publish-secret',
    area: 'identity',
    origins: ['kubelet'],
    pattern: /fetching NodePublishSecretRef (?<secretRef>\S{1,253}) failed/,
    cause:
      "the Secret {secretRef} the volume names in nodePublishSecretRef cannot be read (it must be in the pod's namespace)",
    fix: "create the service principal Secret (keys clientid, clientsecret) in the pod's namespace, or fix nodePublishSecretRef.name",
    examples: [
      'fetching NodePublishSecretRef team-a/secrets-store-creds failed: kubernetes.io/csi: failed to find the secret secrets-store-creds in the namespace team-a with error: secrets "secrets-store-creds" not found',
    ],
  },
  {
    id: 'kubelet.token-request',
    area: 'install',
    origins: ['kubelet'],
    pattern: /failed to get service acc(?:o)?ount token attributes/,
    cause:
      "kubelet could not get a service-account token for the CSIDriver's tokenRequests (an audience the API server does not accept, or the ServiceAccount is missing)",
    fix: "check the CSIDriver tokenRequests audiences and that the pod's ServiceAccount exists",
    examples: [
      'kubernetes.io/csi: mounter.SetUpAt failed to get service accoount token attributes: failed to fetch token: serviceaccounts "app" not found',
    ],
  },
  // ---- Secret sync ----
  {
    id: 'sync.file-not-found',
    area: 'synced-secret',
    origins: ['driver'],
    pattern:
      /file matching objectName (?<objectName>\S{1,253}) not found in the pod|objectName "[^"]{0,253}" is not a relative file path inside the volume/,
    cause:
      'secretObjects names a file ({objectName}) that the volume does not have: objectName in secretObjects must be the objectAlias of an object (or its objectName when it has no alias)',
    fix: 'make secretObjects[].data[].objectName equal the mounted file name (the alias when there is one)',
    examples: ['file matching objectName foo1 not found in the pod'],
  },
  {
    id: 'sync.forbidden',
    area: 'install',
    origins: ['driver', 'apiserver'],
    pattern: /cannot (?:create|update|get|patch) resource "secrets"|enable secret sync in the install/,
    cause:
      "the driver may not create Secrets: secret sync is not enabled in the install (the driver's ServiceAccount lacks the secrets role)",
    fix: 'enable sync: upstream chart --set syncSecret.enabled=true; our SelfHostedInstall syncSecrets: true (the default); the AKS add-on syncs always',
    examples: [
      'secrets is forbidden: User "system:serviceaccount:kube-system:secrets-store-csi-driver" cannot create resource "secrets" in API group "" in the namespace "a"',
    ],
  },
  {
    id: 'sync.secret-object',
    area: 'synced-secret',
    origins: ['driver'],
    pattern:
      /is not supported\. Only 'tls\.key' and 'tls\.crt'|secretName is empty|\.type is empty|\.data is empty|key in secretObjects\.data is empty|a Secret's type cannot change|no owner to attach|the PFX holds no certificate|no private key found|private key could not be parsed|is not supported for kubernetes\.io\/tls|neither PEM with a CERTIFICATE/,
    cause:
      'a secretObjects entry cannot be turned into a Secret (empty name, type or data; a kubernetes.io/tls Secret with other keys or content without a certificate and key)',
    fix: 'give every secretObjects entry secretName, type and data; a kubernetes.io/tls Secret takes exactly tls.crt and tls.key from a certificate-backed secret object',
    examples: ["key 'cert' is not supported. Only 'tls.key' and 'tls.crt' are supported"],
  },
  // ---- the pod's containers ----
  {
    id: 'container.secret-key',
    area: 'synced-secret',
    origins: ['kubelet'],
    pattern: /couldn't find key (?<key>\S{1,253}) in Secret (?<secret>\S{1,253})/,
    cause: 'an env var of the pod reads key {key} from Secret {secret}, which secretObjects does not sync',
    fix: "add {key} to secretObjects[].data of that Secret, or change the env var's secretKeyRef.key",
    examples: ["couldn't find key password in Secret team-a/db"],
  },
  {
    id: 'container.secret-not-found',
    area: 'synced-secret',
    origins: ['kubelet'],
    pattern: /secrets? "(?<secret>[^"]{1,253})" not found/,
    cause:
      'the Secret {secret} an env var of the pod reads does not exist yet: the driver creates a synced Secret only after a pod has mounted the volume ("must be mounted by at least one pod")',
    fix: 'mount the Secrets Store volume in this pod (or another pod of the namespace) so the driver syncs {secret}; check secret sync is enabled',
    examples: ['secret "foosecret" not found', 'Error: secret "db-credentials" not found'],
  },
  {
    id: 'kubelet.mount-timeout',
    area: 'pod',
    origins: ['kubelet'],
    pattern: /Unable to attach or mount volumes|timed out waiting for the condition/,
    cause: 'kubelet gave up waiting for a volume; this is the consequence of an earlier failure',
    fix: 'read the earlier FailedMount event of the pod (the doctor shows the most specific one)',
    examples: [
      'Unable to attach or mount volumes: unmounted volumes=[secrets-store-inline], unattached volumes=[]: timed out waiting for the condition',
    ],
  },
  // ---- generic wrappers: the innermost known text has already been tried ----
  {
    id: 'provider.mount-failed',
    area: 'key-vault',
    origins: ['provider'],
    pattern:
      /failed to mount objects, error:|failed to get objectType:|failed to get keyvault client|failed to get key vault token|failed to build auth config/,
    cause: "the provider could not fetch the objects for a reason not in the doctor's table",
    fix: "read the whole message above, and the provider pod's log on node {node}",
    examples: ['failed to mount objects, error: something new'],
  },
  {
    id: 'driver.mount-failed',
    area: 'install',
    origins: ['driver'],
    pattern: /failed to mount secrets store objects for pod|MountVolume\.SetUp failed|kubernetes\.io\/csi:/,
    cause: "the mount failed for a reason not in the doctor's table",
    fix: "read the whole message above, and the driver pod's log on node {node}",
    examples: ['failed to mount secrets store objects for pod a/b, err: something new'],
  },
];

/** The entry a message matches, with the values its named groups captured. */
export interface Diagnosis {
  readonly entry: FailureEntry;
  readonly values: Readonly<Record<string, string>>;
}

/** The first (most specific) entry matching `message`, or undefined when none does. */
export function diagnoseMessage(message: string): Diagnosis | undefined {
  const text = message.slice(0, MAX_MESSAGE_CHARS);
  for (const entry of FAILURE_CATALOGUE) {
    const match = entry.pattern.exec(text);
    if (match) {
      const values: Record<string, string> = {};
      for (const [key, value] of Object.entries(match.groups ?? {}))
        if (value !== undefined) values[key] = value;
      return { entry, values };
    }
  }
  return undefined;
}

/** Fills `{name}` from `values`; a name without a value is shown as `<name>`. */
export function fillPlaceholders(
  template: string,
  values: Readonly<Record<string, string | undefined>>,
): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    return value !== undefined && value !== '' ? value : `<${name}>`;
  });
}
