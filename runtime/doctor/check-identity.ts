// The SecretProviderClass link, identity: the mode the SPC selects against what the pod brings. Workload
// identity: the pod's ServiceAccount exists, is annotated with the same client id (and tenant), and the
// pod carries the webhook's label. Service principal: the nodePublishSecretRef Secret exists in the pod's
// namespace with clientid and clientsecret (key names only are read back).
import {
  serviceAccountSubject,
  WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION,
  WORKLOAD_IDENTITY_TENANT_ID_ANNOTATION,
  WORKLOAD_IDENTITY_USE_LABEL,
} from '../../lib/core';
import type { ClusterFacts } from './cluster-facts';
import type { Findings } from './findings';
import type { SpcReading } from './spc-validation';
import type { SecretsStoreVolume, Subject } from './targets';

export async function checkIdentity(
  facts: ClusterFacts,
  subject: Subject,
  volume: SecretsStoreVolume,
  reading: SpcReading,
  findings: Findings,
): Promise<void> {
  const link = 'secret-provider-class' as const;
  const ns = subject.namespace;
  const { identity } = reading;
  switch (identity.mode) {
    case 'identity-binding':
      findings.add({
        link,
        check: 'identity.identity-binding',
        status: 'info',
        summary: `identity binding (useAzureTokenProxy) with clientID ${identity.clientId}: it needs an AKS IdentityBinding of that identity to the cluster and RBAC that lets ServiceAccount ${ns}/${subject.spec.serviceAccountName || 'default'} use it; the doctor cannot see those from the cluster's API`,
      });
      return;
    case 'workload-identity': {
      const saName = subject.spec.serviceAccountName || 'default';
      const saRef = `${ns}/${saName}`;
      const evidence = `kubectl get serviceaccount -n ${ns} ${saName} -o yaml`;
      const read = await facts.serviceAccount(ns, saName);
      if (!read.ok && read.reason !== 'not-found') {
        findings.add({
          link,
          check: 'identity.service-account',
          status: 'skipped',
          summary: `ServiceAccount ${saRef} could not be read`,
          cause: read.message,
        });
        return;
      }
      if (!read.ok) {
        findings.add({
          link,
          check: 'identity.service-account-missing',
          status: 'problem',
          summary: `${subject.label} runs as ServiceAccount ${saRef}, which does not exist`,
          cause:
            'workload identity federates a ServiceAccount with the Entra identity; kubelet cannot issue a token for a missing one, and pods of the workload are not created',
          fix: `create it: \`kubectl create serviceaccount -n ${ns} ${saName}\` and annotate it with ${WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION}=${identity.clientId}`,
          field: 'spec.serviceAccountName',
        });
        return;
      }
      const annotations = read.value.metadata.annotations ?? {};
      const annotated = annotations[WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION]?.trim();
      const subjectName = serviceAccountSubject(ns, saName);
      if (!annotated) {
        findings.add({
          link,
          check: 'identity.service-account-annotation',
          status: 'problem',
          summary: `ServiceAccount ${saRef} has no ${WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION} annotation, but SecretProviderClass ${volume.secretProviderClass} uses workload identity ${identity.clientId}`,
          cause: `workload identity ties a ServiceAccount to one Entra identity: the identity's federated credential trusts subject ${subjectName}, and the annotation says which identity that is (the workload identity webhook and this package's constructs read it). Without it the ServiceAccount is not set up for ${identity.clientId}, and its token is refused ("AADSTS70021: No matching federated identity record") unless someone created the federated credential by hand`,
          fix: `\`kubectl annotate serviceaccount -n ${ns} ${saName} ${WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION}=${identity.clientId}\`, and check the identity has a federated credential for ${subjectName} (\`az identity federated-credential list --identity-name <identity> -g <rg>\`)`,
          field: `ServiceAccount ${saRef} metadata.annotations`,
          evidence,
        });
        return;
      }
      if (identity.clientId && annotated.toLowerCase() !== identity.clientId.toLowerCase()) {
        findings.add({
          link,
          check: 'identity.client-id-mismatch',
          status: 'problem',
          summary: `SecretProviderClass ${volume.secretProviderClass} uses clientID ${identity.clientId}, but ServiceAccount ${saRef} is annotated with ${annotated}`,
          cause: `the provider exchanges the pod's token for ${identity.clientId}; the ServiceAccount is federated with ${annotated}. One of them is wrong: Entra ID refuses the exchange (AADSTS70021/AADSTS700016) or the vault refuses the identity (403)`,
          fix: `use one identity in both places: set spec.parameters.clientID to ${annotated} (the identity with the federated credential and the vault role), or re-annotate the ServiceAccount`,
          field: 'spec.parameters.clientID',
          evidence,
        });
        return;
      }
      const tenant = annotations[WORKLOAD_IDENTITY_TENANT_ID_ANNOTATION]?.trim();
      if (tenant && identity.tenantId && tenant.toLowerCase() !== identity.tenantId.toLowerCase()) {
        findings.add({
          link,
          check: 'identity.tenant-mismatch',
          status: 'problem',
          summary: `SecretProviderClass ${volume.secretProviderClass} names tenant ${identity.tenantId}, ServiceAccount ${saRef} tenant ${tenant}`,
          cause:
            'the identity lives in one tenant: the provider asks the tenant the SecretProviderClass names',
          fix: "set spec.parameters.tenantId to the identity's (and vault's) tenant",
          field: 'spec.parameters.tenantId',
          evidence,
        });
        return;
      }
      const saLabel = read.value.metadata.labels?.[WORKLOAD_IDENTITY_USE_LABEL];
      if (subject.labels[WORKLOAD_IDENTITY_USE_LABEL] !== 'true' && saLabel !== 'true') {
        findings.add({
          link,
          check: 'identity.pod-label',
          status: 'problem',
          summary: `${subject.label} lacks the label ${WORKLOAD_IDENTITY_USE_LABEL}: "true"`,
          cause:
            'the pod uses workload identity (its SecretProviderClass names a clientID and its ServiceAccount is annotated), but without the label the workload identity webhook leaves the pod alone: its containers get no AZURE_CLIENT_ID and federated token, and AKS documents the label as required for workload identity',
          fix: `add the label ${WORKLOAD_IDENTITY_USE_LABEL}: "true" to the pod template (metadata.labels)`,
          field: 'metadata.labels',
          evidence: `kubectl get pod -n ${ns} ${subject.pod?.metadata.name ?? '<pod>'} --show-labels`,
        });
        return;
      }
      findings.add({
        link,
        check: 'identity.workload-identity',
        status: 'ok',
        summary: `workload identity: ServiceAccount ${saRef} annotated with ${annotated}, pod labelled ${WORKLOAD_IDENTITY_USE_LABEL}; the identity's federated credential must trust ${subjectName}`,
      });
      return;
    }
    case 'service-principal': {
      const name = volume.nodePublishSecretName;
      if (!name) return;
      const read = await facts.secretKeys(ns, name);
      const evidence = `kubectl get secret -n ${ns} ${name} -o jsonpath='{.data}' | jq 'keys'`;
      if (!read.ok && read.reason === 'not-found') {
        findings.add({
          link,
          check: 'identity.service-principal-secret',
          status: 'problem',
          summary: `the volume ${volume.name} names nodePublishSecretRef ${name}, which does not exist in namespace ${ns}`,
          cause:
            'kubelet reads the service principal Secret from the pod\'s namespace before it calls the driver ("fetching NodePublishSecretRef ... failed")',
          fix: `\`kubectl create secret generic ${name} -n ${ns} --from-literal clientid=<app id> --from-literal clientsecret=<secret>\``,
          field: 'spec.volumes[].csi.nodePublishSecretRef.name',
          catalogueId: 'kubelet.node-publish-secret',
        });
        return;
      }
      if (!read.ok) {
        findings.add({
          link,
          check: 'identity.service-principal-secret',
          status: 'skipped',
          summary: `Secret ${ns}/${name} could not be read`,
          cause: read.message,
        });
        return;
      }
      const keys = read.value.keys.map((k) => k.toLowerCase());
      const missing = ['clientid', 'clientsecret'].filter((k) => !keys.includes(k));
      if (missing.length > 0) {
        findings.add({
          link,
          check: 'identity.service-principal-keys',
          status: 'problem',
          summary: `Secret ${ns}/${name} (nodePublishSecretRef) has no key ${missing.join(' or ')}`,
          cause: `the provider reads the service principal from the keys clientid and clientsecret ("could not find ${missing[0]} in secrets"); it has ${read.value.keys.join(', ') || 'no keys'}`,
          fix: `put the app id under clientid and its secret under clientsecret`,
          evidence,
          catalogueId: 'identity.service-principal-keys',
        });
        return;
      }
      findings.add({
        link,
        check: 'identity.service-principal',
        status: 'ok',
        summary: `service principal: Secret ${ns}/${name} has clientid and clientsecret`,
      });
      return;
    }
    case 'vm-managed-identity':
      findings.add({
        link,
        check: 'identity.vm-managed-identity',
        status: 'info',
        summary: `VM managed identity ${identity.userAssignedIdentityId || '(system-assigned)'}: any pod on the node may use it; the doctor cannot see Azure, so check it is assigned to the node pool's scale set and has a Key Vault role`,
        evidence: 'az vmss identity show -g <node resource group> -n <scale set>',
      });
      return;
    case 'pod-identity':
      findings.add({
        link,
        check: 'identity.pod-identity',
        status: 'warning',
        summary: 'usePodIdentity: AAD pod identity is deprecated and no longer supported on AKS',
        fix: "move to workload identity: set clientID to a user-assigned identity federated with the pod's ServiceAccount, and remove usePodIdentity",
      });
      return;
    case 'none':
      return;
  }
}
