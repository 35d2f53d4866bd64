import * as fs from 'fs';
import * as path from 'path';
import type { parse as ParseYaml } from 'yaml';

/** The YAML parser, loaded for a kubeconfig file only: in a pod the driver reads none (~2 MiB RSS saved). */
function parseYaml(text: string): ReturnType<typeof ParseYaml> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load; `import` would load it at start
  return (require('yaml') as { parse: typeof ParseYaml }).parse(text);
}

/** Default locations of the in-cluster service-account credentials. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * How to reach and authenticate to one API server. Credentials are held as file paths or bytes; a token
 * file is re-read (see `tokenFile`) so a rotated projected service-account token is picked up.
 */
export interface KubeConfig {
  /** Base URL of the API server, e.g. `https://10.0.0.1:443` (no trailing slash). */
  readonly server: string;
  /** PEM CA bundle that signs the server certificate. @default the Node default trust store */
  readonly ca?: Buffer;
  /** PEM client certificate (x509 client auth). @default no client certificate */
  readonly clientCert?: Buffer;
  /** PEM client key matching `clientCert`. @default no client key */
  readonly clientKey?: Buffer;
  /** A static bearer token. @default no static token */
  readonly token?: string;
  /** A file holding the bearer token, re-read when older than `tokenRefreshMs` or after a 401. @default none */
  readonly tokenFile?: string;
  /** Skip server certificate verification (kubeconfig `insecure-skip-tls-verify`). @default false */
  readonly insecureSkipTlsVerify?: boolean;
  /** Namespace of the current context (or of the service account in cluster). @default 'default' */
  readonly namespace: string;
  /**
   * The user's client-go credential plugin (`users[].user.exec`, e.g. kubelogin on AKS). This client never
   * runs it (the driver runs in cluster); a caller that supports plugins turns it into a token first.
   * @default none
   */
  readonly exec?: ExecCredentialPlugin;
}

/** `users[].user.exec` of a kubeconfig (client.authentication.k8s.io ExecConfig). */
export interface ExecCredentialPlugin {
  /** e.g. `client.authentication.k8s.io/v1beta1`. */
  readonly apiVersion: string;
  /** The command; a relative path with a separator is relative to the kubeconfig's directory. */
  readonly command: string;
  readonly args: readonly string[];
  readonly env: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  /** Shown when the command is missing. @default none */
  readonly installHint?: string;
  /** Directory of the kubeconfig file that defined the user. */
  readonly dir: string;
}

/** Options for {@link loadKubeConfig}. */
export interface LoadKubeConfigProps {
  /** Environment to read `KUBECONFIG`, `KUBERNETES_SERVICE_HOST`/`_PORT` from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Directory of the in-cluster token, CA and namespace files. @default SERVICE_ACCOUNT_DIR */
  readonly serviceAccountDir?: string;
}

/**
 * Out-of-cluster when `KUBECONFIG` is set (client certificate/key/CA or token from the current context),
 * in-cluster otherwise (service-account token file, CA and KUBERNETES_SERVICE_HOST/PORT). Errors name the
 * missing piece and the fix.
 */
export function loadKubeConfig(props: LoadKubeConfigProps = {}): KubeConfig {
  const env = props.env ?? process.env;
  if (env.KUBECONFIG) return loadKubeConfigFile(env.KUBECONFIG);
  return loadInClusterConfig(env, props.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
}

/** In-cluster config from the pod's service account, as client-go's `rest.InClusterConfig`. */
export function loadInClusterConfig(env: NodeJS.ProcessEnv, serviceAccountDir: string): KubeConfig {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new Error(
      'kubernetes config: neither KUBECONFIG nor KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT is set; ' +
        'run inside a pod or set KUBECONFIG to a kubeconfig file',
    );
  }
  const tokenFile = path.join(serviceAccountDir, 'token');
  if (!fs.existsSync(tokenFile)) {
    throw new Error(
      `kubernetes config: service-account token file ${tokenFile} is missing; mount the service account token (automountServiceAccountToken: true)`,
    );
  }
  const caFile = path.join(serviceAccountDir, 'ca.crt');
  const nsFile = path.join(serviceAccountDir, 'namespace');
  const hostPart = host.includes(':') ? `[${host}]` : host; // IPv6 literal
  return {
    server: `https://${hostPart}:${port}`,
    ca: fs.existsSync(caFile) ? fs.readFileSync(caFile) : undefined,
    tokenFile,
    namespace: fs.existsSync(nsFile) ? fs.readFileSync(nsFile, 'utf8').trim() || 'default' : 'default',
  };
}

interface NamedEntry<T> {
  name: string;
  [key: string]: unknown;
  value?: T;
}

/**
 * Reads a kubeconfig (several files separated by ':' are merged as kubectl does: the first file that
 * defines a name or the current-context wins) and resolves the current context.
 */
export function loadKubeConfigFile(kubeconfigList: string, options: { context?: string } = {}): KubeConfig {
  const files = kubeconfigList.split(path.delimiter).filter((f) => f.length > 0);
  const clusters = new Map<string, { cfg: Record<string, unknown>; dir: string }>();
  const users = new Map<string, { cfg: Record<string, unknown>; dir: string }>();
  const contexts = new Map<string, Record<string, unknown>>();
  let currentContext: string | undefined;
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    const doc = (parseYaml(fs.readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
    const dir = path.dirname(path.resolve(file));
    for (const entry of (doc.clusters ?? []) as NamedEntry<unknown>[]) {
      if (!clusters.has(entry.name))
        clusters.set(entry.name, { cfg: (entry.cluster ?? {}) as Record<string, unknown>, dir });
    }
    for (const entry of (doc.users ?? []) as NamedEntry<unknown>[]) {
      if (!users.has(entry.name))
        users.set(entry.name, { cfg: (entry.user ?? {}) as Record<string, unknown>, dir });
    }
    for (const entry of (doc.contexts ?? []) as NamedEntry<unknown>[]) {
      if (!contexts.has(entry.name))
        contexts.set(entry.name, (entry.context ?? {}) as Record<string, unknown>);
    }
    if (!currentContext && typeof doc['current-context'] === 'string' && doc['current-context']) {
      currentContext = doc['current-context'];
    }
  }
  if (clusters.size === 0 && contexts.size === 0) {
    throw new Error(
      `kubernetes config: KUBECONFIG=${kubeconfigList} names no readable kubeconfig file with clusters; check the path`,
    );
  }
  const contextName =
    options.context ?? currentContext ?? (contexts.size === 1 ? [...contexts.keys()][0] : undefined);
  if (!contextName || !contexts.has(contextName)) {
    throw new Error(
      `kubernetes config: current-context ${JSON.stringify(contextName ?? '')} not found in ${kubeconfigList}; set current-context`,
    );
  }
  const context = contexts.get(contextName)!;
  const cluster = clusters.get(String(context.cluster));
  if (!cluster)
    throw new Error(
      `kubernetes config: context ${contextName} names cluster ${String(context.cluster)}, which is not defined`,
    );
  const user = context.user !== undefined ? users.get(String(context.user)) : undefined;
  if (context.user !== undefined && !user) {
    throw new Error(
      `kubernetes config: context ${contextName} names user ${String(context.user)}, which is not defined`,
    );
  }
  const server = String(cluster.cfg.server ?? '').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(server)) {
    throw new Error(
      `kubernetes config: cluster ${String(context.cluster)} has server ${JSON.stringify(server)}; expected an https:// URL`,
    );
  }
  const u = user?.cfg ?? {};
  const exec = execPluginFrom(u.exec, user?.dir ?? '');
  return {
    server,
    ca: bytesFrom(cluster.cfg, 'certificate-authority', cluster.dir),
    clientCert: bytesFrom(u, 'client-certificate', user?.dir ?? ''),
    clientKey: bytesFrom(u, 'client-key', user?.dir ?? ''),
    token: typeof u.token === 'string' ? u.token : undefined,
    tokenFile: typeof u.tokenFile === 'string' ? path.resolve(user!.dir, u.tokenFile) : undefined,
    insecureSkipTlsVerify: cluster.cfg['insecure-skip-tls-verify'] === true,
    namespace: typeof context.namespace === 'string' && context.namespace ? context.namespace : 'default',
    ...(exec ? { exec } : {}),
  };
}

function execPluginFrom(raw: unknown, dir: string): ExecCredentialPlugin | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const cfg = raw as Record<string, unknown>;
  if (typeof cfg.command !== 'string' || !cfg.command) return undefined;
  const strings = (value: unknown): string[] =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const env = Array.isArray(cfg.env)
    ? (cfg.env as unknown[]).flatMap((e) => {
        const entry = (e ?? {}) as Record<string, unknown>;
        return typeof entry.name === 'string' ? [{ name: entry.name, value: String(entry.value ?? '') }] : [];
      })
    : [];
  return {
    apiVersion: typeof cfg.apiVersion === 'string' ? cfg.apiVersion : 'client.authentication.k8s.io/v1beta1',
    command: cfg.command,
    args: strings(cfg.args),
    env,
    installHint: typeof cfg.installHint === 'string' ? cfg.installHint : undefined,
    dir,
  };
}

/** `<field>-data` (base64) wins over `<field>` (a path, relative to the kubeconfig's directory). */
function bytesFrom(cfg: Record<string, unknown>, field: string, dir: string): Buffer | undefined {
  const data = cfg[`${field}-data`];
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  const file = cfg[field];
  if (typeof file === 'string' && file) return fs.readFileSync(path.resolve(dir, file));
  return undefined;
}
