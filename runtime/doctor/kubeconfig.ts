// The cluster to examine, found as kubectl finds it: --kubeconfig, then KUBECONFIG, then ~/.kube/config,
// then the pod's service account (in cluster). A user with a credential plugin (kubelogin on AKS) has it
// run once, as client-go does, and its token or certificate used.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ExecCredentialPlugin,
  KubeConfig,
  loadInClusterConfig,
  loadKubeConfigFile,
  SERVICE_ACCOUNT_DIR,
} from '../driver/cluster/kube/kube-config';
import { CouldNotCheck } from './cluster-reader';

/** Options of {@link findKubeConfig}. */
export interface FindKubeConfigProps {
  /** `--kubeconfig`. @default none */
  readonly kubeconfig?: string;
  /** `--context`. @default the current context */
  readonly context?: string;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default os.homedir() */
  readonly home?: string;
  /** @default SERVICE_ACCOUNT_DIR */
  readonly serviceAccountDir?: string;
}

/** The configuration and where it came from (shown in the report). */
export interface FoundKubeConfig {
  readonly config: KubeConfig;
  readonly source: string;
}

/** Longest a credential plugin may take (a device-code login waits for the user). */
const EXEC_TIMEOUT_MS = 120_000;

export function findKubeConfig(props: FindKubeConfigProps = {}): FoundKubeConfig {
  const env = props.env ?? process.env;
  const home = props.home ?? os.homedir();
  const defaultFile = path.join(home, '.kube', 'config');
  let found: FoundKubeConfig;
  try {
    if (props.kubeconfig) {
      found = { config: loadKubeConfigFile(props.kubeconfig, props), source: props.kubeconfig };
    } else if (env.KUBECONFIG) {
      found = { config: loadKubeConfigFile(env.KUBECONFIG, props), source: `KUBECONFIG=${env.KUBECONFIG}` };
    } else if (fs.existsSync(defaultFile)) {
      found = { config: loadKubeConfigFile(defaultFile, props), source: defaultFile };
    } else if (env.KUBERNETES_SERVICE_HOST) {
      found = {
        config: loadInClusterConfig(env, props.serviceAccountDir ?? SERVICE_ACCOUNT_DIR),
        source: 'in-cluster service account',
      };
    } else {
      throw new CouldNotCheck(
        `no kubeconfig: --kubeconfig and KUBECONFIG are not set, ${defaultFile} does not exist, and this is not a pod`,
        'point the doctor at the cluster: `az aks get-credentials -n <cluster> -g <rg>`, or --kubeconfig <file>',
      );
    }
  } catch (err) {
    if (err instanceof CouldNotCheck) throw err;
    throw new CouldNotCheck((err as Error).message, 'fix the kubeconfig (`kubectl config view` shows it)');
  }
  if (!found.config.exec) return found;
  return { ...found, config: withExecCredential(found.config, found.config.exec, env) };
}

/** Runs the user's credential plugin and returns the config with the credential it printed. */
export function withExecCredential(
  config: KubeConfig,
  plugin: ExecCredentialPlugin,
  env: NodeJS.ProcessEnv,
): KubeConfig {
  const command =
    plugin.command.includes('/') && !path.isAbsolute(plugin.command)
      ? path.resolve(plugin.dir, plugin.command)
      : plugin.command;
  const execInfo = {
    apiVersion: plugin.apiVersion,
    kind: 'ExecCredential',
    spec: { interactive: process.stdin.isTTY === true },
  };
  let output: string;
  try {
    output = execFileSync(command, [...plugin.args], {
      env: {
        ...env,
        ...Object.fromEntries(plugin.env.map((e) => [e.name, e.value])),
        KUBERNETES_EXEC_INFO: JSON.stringify(execInfo),
      },
      encoding: 'utf8',
      timeout: EXEC_TIMEOUT_MS,
      // The plugin may talk to the user (device-code login) on stderr.
      stdio: ['inherit', 'pipe', 'inherit'],
      maxBuffer: 1024 * 1024,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { status?: number };
    if (e.code === 'ENOENT') {
      throw new CouldNotCheck(
        `the kubeconfig's user runs the credential plugin ${plugin.command}, which is not installed`,
        plugin.installHint?.trim() ||
          `install ${plugin.command} (for AKS: \`az aks install-cli\` installs kubelogin)`,
      );
    }
    throw new CouldNotCheck(
      `the credential plugin ${plugin.command} failed (exit ${e.status ?? e.code ?? 'unknown'})`,
      `run \`${[plugin.command, ...plugin.args].join(' ')}\` yourself to see why (expired login: \`az login\`)`,
    );
  }
  let status: { token?: unknown; clientCertificateData?: unknown; clientKeyData?: unknown } = {};
  try {
    status = ((JSON.parse(output) as { status?: typeof status }).status ?? {}) as typeof status;
  } catch {
    // reported below: no credential
  }
  if (typeof status.token === 'string' && status.token) return { ...config, token: status.token };
  if (typeof status.clientCertificateData === 'string' && typeof status.clientKeyData === 'string') {
    return {
      ...config,
      clientCert: Buffer.from(status.clientCertificateData),
      clientKey: Buffer.from(status.clientKeyData),
    };
  }
  throw new CouldNotCheck(
    `the credential plugin ${plugin.command} printed no ExecCredential with a token or client certificate`,
    `run \`${[plugin.command, ...plugin.args].join(' ')}\` yourself and check its output`,
  );
}
