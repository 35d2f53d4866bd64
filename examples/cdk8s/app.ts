import { ApiObject, App, Chart } from 'cdk8s';
import { AksAddOnDriver, SelfHostedInstall } from 'aks-secrets-store/cdk8s';
import { ExampleSettings, settingsFromEnv } from './settings';
import { SeedSyncChart } from './seed-sync-chart';
import { TeamChart } from './team-chart';

// Two variants of one cluster's manifests, one directory each:
// - dist/self-hosted: our install (driver + provider DaemonSets, CRDs, CSIDriver, RBAC, admission
//   policy; rotation on at a custom interval) plus the workloads, using workload identity;
// - dist/addon: for clusters with the AKS add-on `azure-keyvault-secrets-provider` (rotation is set on
//   the cluster's add-on profile, see the Pulumi example): only our admission policy plus the same
//   workloads.
// In both, the seed's pod reads the vault with a user-assigned identity on the nodes (in add-on mode,
// the add-on's own identity) and the team's Deployment with workload identity.

export const EXAMPLE_NAMESPACES = { seed: 'default', team: 'orders' } as const;

/** The team's namespace, in a chart without a namespace of its own (a Namespace is cluster-scoped). */
function namespaceChart(app: App): Chart {
  const chart = new Chart(app, 'namespaces');
  new ApiObject(chart, EXAMPLE_NAMESPACES.team, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: EXAMPLE_NAMESPACES.team },
  });
  return chart;
}

/**
 * The workloads both variants share: the seed's sync example (node identity) and the team's store
 * (workload identity), after the namespace chart so tools apply the Namespace first.
 */
function addWorkloads(app: App, settings: ExampleSettings): void {
  new SeedSyncChart(app, 'seed-sync', {
    namespace: EXAMPLE_NAMESPACES.seed,
    keyVaultName: settings.keyVaultName,
    identity: { tenantId: settings.tenantId, userAssignedIdentityClientId: settings.nodeIdentityClientId },
  });
  const namespaces = namespaceChart(app);
  const team = new TeamChart(app, 'team-orders', {
    namespace: EXAMPLE_NAMESPACES.team,
    keyVaultName: settings.keyVaultName,
    identity: { tenantId: settings.tenantId, workloadIdentityClientId: settings.workloadIdentityClientId },
  });
  team.addDependency(namespaces);
}

/** Synthesizes both variants under `outdir`; returns the apps so tests can inspect them. */
export function synthExamples(outdir: string, settings: ExampleSettings = settingsFromEnv()): App[] {
  const selfHosted = new App({ outdir: `${outdir}/self-hosted` });
  new SelfHostedInstall(new Chart(selfHosted, 'secrets-store-install'), 'install', {
    enableSecretRotation: true,
    rotationPollInterval: settings.rotationPollInterval,
    syncSecrets: true,
    workloadIdentity: true,
  });
  addWorkloads(selfHosted, settings);

  const addon = new App({ outdir: `${outdir}/addon` });
  new AksAddOnDriver(new Chart(addon, 'secrets-store-addon'), 'driver');
  addWorkloads(addon, settings);

  const apps = [selfHosted, addon];
  apps.forEach((app) => app.synth());
  return apps;
}
