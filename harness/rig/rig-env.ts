// The rig's contract with the tests: where the built components live (rigBinaries) and how to reach the
// running ones (rig). Paths follow harness/rig/build.sh; the running endpoints come from environment variables
// that global-setup.ts sets before any rig test file loads.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The tools go.mod files pin the Go components; build.sh reads the same lines. */
const TOOLS_DIR = path.join(__dirname, 'tools');
/** Keep in step with LOWKEY_VAULT_VERSION in build.sh. */
export const LOWKEY_VAULT_VERSION = '7.3.74';

/** Versions of the real components, as pinned in harness/rig/tools/<component>/go.mod and build.sh. */
export interface RigVersions {
  readonly kubernetes: string;
  readonly etcd: string;
  readonly csiSanity: string;
  readonly upstreamDriver: string;
  readonly upstreamProvider: string;
  readonly lowkeyVault: string;
}

/** Absolute paths of the built components (all exist when rigBinaries() returns). */
export interface RigBinaries {
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly etcd: string;
  readonly csiSanity: string;
  /** Upstream sigs.k8s.io/secrets-store-csi-driver (cmd/secrets-store-csi-driver). */
  readonly upstreamDriver: string;
  /** Upstream github.com/Azure/secrets-store-csi-driver-provider-azure: the parity oracle. */
  readonly upstreamProvider: string;
}

/** The lowkey-vault runnable jar and the Java 25 that runs it. */
export interface LowkeyVaultRuntime {
  readonly jar: string;
  readonly java: string;
}

/** The Pulumi engine (CLI) and the pulumi-kubernetes provider plugin, built by build.sh from the Go module proxy. */
export interface PulumiEngineBinaries {
  /** The `pulumi` CLI, pinned in harness/rig/tools/pulumi/go.mod. */
  readonly cli: string;
  readonly cliVersion: string;
  /** `pulumi-resource-kubernetes`, pinned in harness/rig/tools/pulumi-kubernetes/go.mod. */
  readonly kubernetesPlugin: string;
  readonly kubernetesPluginVersion: string;
}

/** Paths of the Pulumi engine's binaries; throws naming the missing one and `bash harness/rig/build.sh`. */
export function pulumiEngineBinaries(): PulumiEngineBinaries {
  const cliVersion = pinnedGoVersion('pulumi', 'github.com/pulumi/pulumi/pkg/v3');
  const kubernetesPluginVersion = pinnedGoVersion(
    'pulumi-kubernetes',
    'github.com/pulumi/pulumi-kubernetes/provider/v4',
  );
  return {
    cli: builtFile('pulumi', cliVersion, 'pulumi'),
    cliVersion,
    kubernetesPlugin: builtFile('pulumi-kubernetes', kubernetesPluginVersion, 'pulumi-resource-kubernetes'),
    kubernetesPluginVersion,
  };
}

/** Endpoints and credentials of the running rig, set by global-setup.ts. */
export interface RigEndpoints {
  /** Admin kubeconfig (client certificate in group system:masters). */
  readonly kubeconfig: string;
  /** `https://127.0.0.1:<port>` of kube-apiserver. */
  readonly apiserverUrl: string;
  /** PEM CA that signed the apiserver's serving certificate and the client certificates. */
  readonly caFile: string;
  /** Private key of that CA (PEM), for a node's client certificate. */
  readonly caKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** `--service-account-issuer` of the apiserver (the `iss` claim of service-account tokens). */
  readonly serviceAccountIssuer: string;
  /** Audiences the apiserver accepts in TokenRequests (includes api://AzureADTokenExchange). */
  readonly apiAudiences: readonly string[];
  /** `http://127.0.0.1:<port>` of etcd (clients need no credentials on loopback). */
  readonly etcdUrl: string;
  /** `https://127.0.0.1:<port>` of lowkey-vault; undefined when lowkey-vault could not be obtained. */
  readonly lowkeyVaultUrl?: string;
  /** PEM of lowkey-vault's serving certificate; undefined with lowkeyVaultUrl. */
  readonly lowkeyVaultCaFile?: string;
  /** Why lowkey-vault is not running (the reason build.sh or the fixture recorded), when it is not. */
  readonly lowkeyVaultUnavailable?: string;
  /** Temp dir of this run: logs (<name>.log), certificates, kubeconfig. */
  readonly stateDir: string;
}

/** Names of the environment variables global-setup sets (inherited by jest workers). */
export const RIG_ENV = {
  kubeconfig: 'RIG_KUBECONFIG',
  apiserverUrl: 'RIG_APISERVER_URL',
  caFile: 'RIG_CA_FILE',
  caKeyFile: 'RIG_CA_KEY_FILE',
  clientCertFile: 'RIG_CLIENT_CERT_FILE',
  clientKeyFile: 'RIG_CLIENT_KEY_FILE',
  serviceAccountIssuer: 'RIG_SERVICE_ACCOUNT_ISSUER',
  apiAudiences: 'RIG_API_AUDIENCES',
  etcdUrl: 'RIG_ETCD_URL',
  lowkeyVaultUrl: 'RIG_LOWKEY_VAULT_URL',
  lowkeyVaultCaFile: 'RIG_LOWKEY_VAULT_CA_FILE',
  lowkeyVaultUnavailable: 'RIG_LOWKEY_VAULT_UNAVAILABLE',
  stateDir: 'RIG_STATE_DIR',
} as const;

/** `${XDG_CACHE_HOME:-$HOME/.cache}/aks-secrets-store/rig`, where build.sh puts everything. */
export function rigCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'aks-secrets-store', 'rig');
}

function pinnedGoVersion(component: string, module: string): string {
  const goMod = fs.readFileSync(path.join(TOOLS_DIR, component, 'go.mod'), 'utf8');
  for (const line of goMod.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === module) return fields[1];
    if (fields[0] === 'require' && fields[1] === module) return fields[2];
  }
  throw new Error(`harness/rig/tools/${component}/go.mod does not require ${module}`);
}

export function rigVersions(): RigVersions {
  return {
    kubernetes: pinnedGoVersion('kubernetes', 'k8s.io/kubernetes'),
    etcd: pinnedGoVersion('etcd', 'go.etcd.io/etcd/server/v3'),
    csiSanity: pinnedGoVersion('csi-sanity', 'github.com/kubernetes-csi/csi-test/v5'),
    upstreamDriver: pinnedGoVersion('secrets-store-csi-driver', 'sigs.k8s.io/secrets-store-csi-driver'),
    upstreamProvider: pinnedGoVersion(
      'provider-azure',
      'github.com/Azure/secrets-store-csi-driver-provider-azure',
    ),
    lowkeyVault: LOWKEY_VAULT_VERSION,
  };
}

function builtFile(component: string, version: string, file: string): string {
  const filePath = path.join(rigCacheDir(), `${component}-${version}`, file);
  if (!fs.existsSync(filePath)) {
    throw new Error(
      `${file} (${component} ${version}) is not built: expected ${filePath}. Run \`bash harness/rig/build.sh\` first.`,
    );
  }
  return filePath;
}

/** Where each built binary lives: component dir, version, file name. */
function binaryLocations(): Record<keyof RigBinaries, [component: string, version: string, file: string]> {
  const v = rigVersions();
  return {
    kubeApiserver: ['kubernetes', v.kubernetes, 'kube-apiserver'],
    kubeControllerManager: ['kubernetes', v.kubernetes, 'kube-controller-manager'],
    etcd: ['etcd', v.etcd, 'etcd'],
    csiSanity: ['csi-sanity', v.csiSanity, 'csi-sanity'],
    upstreamDriver: ['secrets-store-csi-driver', v.upstreamDriver, 'secrets-store-csi-driver'],
    upstreamProvider: ['provider-azure', v.upstreamProvider, 'secrets-store-csi-driver-provider-azure'],
  };
}

/** Path of one built binary; throws naming it and `bash harness/rig/build.sh` when it is not built. */
export function rigBinary(name: keyof RigBinaries): string {
  return builtFile(...binaryLocations()[name]);
}

/** Paths of all the built Go components; throws naming the first missing one and `bash harness/rig/build.sh`. */
export function rigBinaries(): RigBinaries {
  const locations = binaryLocations();
  return Object.fromEntries(
    Object.entries(locations).map(([name, location]) => [name, builtFile(...location)]),
  ) as unknown as RigBinaries;
}

/** Java 25 for lowkey-vault: /usr/lib/jvm/temurin-25-*, else RIG_JAVA. */
export function java25(): string | undefined {
  if (process.env.RIG_JAVA) return process.env.RIG_JAVA;
  const jvmDir = '/usr/lib/jvm';
  if (!fs.existsSync(jvmDir)) return undefined;
  const jdk = fs
    .readdirSync(jvmDir)
    .filter((name) => name.startsWith('temurin-25-'))
    .sort()[0];
  const java = jdk && path.join(jvmDir, jdk, 'bin', 'java');
  return java && fs.existsSync(java) ? java : undefined;
}

/**
 * The lowkey-vault jar and Java 25, or the reason they are not there (build.sh writes UNAVAILABLE with the
 * registry's answer when Maven Central does not serve the pinned jar).
 */
export function lowkeyVaultRuntime(): LowkeyVaultRuntime | { readonly unavailable: string } {
  const dir = path.join(rigCacheDir(), `lowkey-vault-${LOWKEY_VAULT_VERSION}`);
  const jar = path.join(dir, 'lowkey-vault-app.jar');
  const java = java25();
  if (!java)
    return {
      unavailable: 'Java 25 not found in /usr/lib/jvm/temurin-25-* (set RIG_JAVA to a Java 25 binary)',
    };
  if (fs.existsSync(jar)) return { jar, java };
  const marker = path.join(dir, 'UNAVAILABLE');
  if (fs.existsSync(marker)) return { unavailable: fs.readFileSync(marker, 'utf8').trim() };
  return { unavailable: `${jar} is missing: run \`bash harness/rig/build.sh\`` };
}

// ---- the node (harness/rig/node) ------------------------------------------------------------------------

/** Keep in step with CSI_SIDECARS_VERSION in build.sh. */
export const CSI_SIDECARS_VERSION = 'v1';

/** The node's own binaries (not in rigBinaries(), so the apiserver-only tests never need them). */
export interface NodeBinaries {
  /** kubelet from the pinned k8s.io/kubernetes module. */
  readonly kubelet: string;
  /** kube-scheduler from the same module: DaemonSet pods are placed by the scheduler. */
  readonly kubeScheduler: string;
  /** Stand-ins for node-driver-registrar and livenessprobe (harness/rig/tools/csi-sidecars). */
  readonly csiSidecars: string;
}

/** Path of one node binary; throws naming it and `bash harness/rig/build.sh` when it is not built. */
export function nodeBinary(name: keyof NodeBinaries): string {
  const v = rigVersions();
  const locations: Record<keyof NodeBinaries, [string, string, string]> = {
    kubelet: ['kubernetes-node', v.kubernetes, 'kubelet'],
    kubeScheduler: ['kubernetes-node', v.kubernetes, 'kube-scheduler'],
    csiSidecars: ['csi-sidecars', CSI_SIDECARS_VERSION, 'csi-sidecars'],
  };
  return builtFile(...locations[name]);
}

function required(name: string, project: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: it is only set in the jest "${project}" project (files named *.rig.test.ts under ` +
        `${project === 'node' ? 'test/node' : 'test'}), whose globalSetup starts the components. Run: npx jest <file>.rig.test.ts`,
    );
  }
  return value;
}

function endpointsFromEnv(names: Record<keyof RigEndpoints, string>, project: string): RigEndpoints {
  return {
    kubeconfig: required(names.kubeconfig, project),
    apiserverUrl: required(names.apiserverUrl, project),
    caFile: required(names.caFile, project),
    caKeyFile: required(names.caKeyFile, project),
    clientCertFile: required(names.clientCertFile, project),
    clientKeyFile: required(names.clientKeyFile, project),
    serviceAccountIssuer: required(names.serviceAccountIssuer, project),
    apiAudiences: required(names.apiAudiences, project).split(','),
    etcdUrl: required(names.etcdUrl, project),
    lowkeyVaultUrl: process.env[names.lowkeyVaultUrl] || undefined,
    lowkeyVaultCaFile: process.env[names.lowkeyVaultCaFile] || undefined,
    lowkeyVaultUnavailable: process.env[names.lowkeyVaultUnavailable] || undefined,
    stateDir: required(names.stateDir, project),
  };
}

/** Endpoints of the running rig; throws a clear message outside the rig jest project. */
export function rig(): RigEndpoints {
  return endpointsFromEnv(RIG_ENV, 'rig');
}

/**
 * The node project's cluster (harness/rig/node/global-setup.ts starts one of its own, so DaemonSets other
 * rig tests apply never land on the node): the same fields under their own variable names, since both
 * projects' workers inherit one environment.
 */
export const NODE_CLUSTER_ENV = Object.fromEntries(
  Object.entries(RIG_ENV).map(([key, name]) => [key, name.replace(/^RIG_/, 'RIG_NODE_CLUSTER_')]),
) as Record<keyof RigEndpoints, string>;

/** Endpoints of the node project's cluster; throws a clear message outside the node jest project. */
export function nodeCluster(): RigEndpoints {
  return endpointsFromEnv(NODE_CLUSTER_ENV, 'node');
}

/** Writes the endpoints into process.env (global-setup; workers inherit them). */
export function exportRigEndpoints(
  endpoints: RigEndpoints,
  names: Record<keyof RigEndpoints, string> = RIG_ENV,
): void {
  for (const [key, envName] of Object.entries(names)) {
    const value = endpoints[key as keyof RigEndpoints];
    if (value === undefined) delete process.env[envName];
    else process.env[envName] = Array.isArray(value) ? value.join(',') : String(value);
  }
}

/**
 * For a rig test that cannot run here: fails in CI (nothing is skipped there), otherwise tells why and lets
 * the caller return early. Returns true when the caller should return.
 */
export function cannotRunHere(reason: string): boolean {
  if (process.env.CI === 'true') throw new Error(`cannot run in CI: ${reason}`);
  console.warn(`rig test not run here: ${reason}`);
  return true;
}
