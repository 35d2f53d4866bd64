// Runs a provider process (the upstream Go provider or ours) on its own unix socket, optionally in a
// private mount namespace whose /etc/hosts maps the fake Azure host names, and talks to it with the
// real @grpc/grpc-js client exactly as the driver does (attributes/secrets JSON, permission "420").
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createUnixGrpcClient, unaryCall } from '../../runtime/common/net/grpc-unix';
import {
  EPHEMERAL_KEY,
  POD_NAME_KEY,
  POD_NAMESPACE_KEY,
  POD_UID_KEY,
  SECRET_PROVIDER_CLASS_KEY,
  SERVICE_ACCOUNT_NAME_KEY,
} from '../../runtime/wire/csi';
import {
  API_VERSION,
  DEFAULT_PERMISSION,
  MountRequest,
  MountResponse,
  ObjectVersion,
  ProviderFile,
  providerService,
  VersionRequest,
  VersionResponse,
} from '../../runtime/wire/provider-v1alpha1';
import { canUsePrivilegedLoopback, withPrivateHosts } from '../fakes/loopback-hosts';
import { rigBinary } from '../rig/rig-env';

/** Ports and socket handed to the provider's command line. */
export interface ProviderPorts {
  readonly socketPath: string;
  readonly healthzPort: number;
  readonly metricsPort: number;
}

/** Properties of {@link ProviderProcess.start}. */
export interface ProviderProcessProps {
  /** Label in errors and logs, e.g. 'upstream' or 'ours'. */
  readonly name: string;
  /** Executable. */
  readonly command: string;
  /** Arguments, given the socket path and free ports. */
  readonly args: (ports: ProviderPorts) => string[];
  /**
   * Hosts file bind-mounted over /etc/hosts in a private mount namespace (needs root).
   * @default none (the machine's resolver)
   */
  readonly hostsFile?: string;
  /**
   * A file the provider finds at /var/run/secrets/kubernetes.io/serviceaccount/ca.crt (the cluster CA a
   * pod sees; identity binding trusts the token proxy through it). Needs `hostsFile` (same namespace).
   * @default none (the file is absent, as on the machine)
   */
  readonly serviceAccountCaFile?: string;
  /**
   * Extra environment (e.g. SSL_CERT_FILE / NODE_EXTRA_CA_CERTS for the test CA).
   * @default {}
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Directory for the socket (`azure.sock`), kept on stop: a restarted provider listens where the driver
   * already looks, as a restarted DaemonSet pod does on its hostPath.
   * @default a fresh temporary directory, removed on stop
   */
  readonly socketDir?: string;
  /**
   * How long to wait for the socket to answer Version, in ms.
   * @default 30000
   */
  readonly startTimeoutMs?: number;
}

/** One Mount as the driver would send it. */
export interface MountInput {
  /** SecretProviderClass `spec.parameters`. */
  readonly parameters: Readonly<Record<string, string>>;
  /**
   * nodePublishSecretRef data; null is what the driver sends without one (Go's nil map → "null").
   * @default null
   */
  readonly secrets?: Readonly<Record<string, string>> | null;
  /**
   * The driver's default file permission, JSON of a Go os.FileMode.
   * @default '420' (0644)
   */
  readonly permission?: string;
  /**
   * The volume's target path (the provider tells a first mount from a rotation check by it).
   * @default one fixed pod's path
   */
  readonly targetPath?: string;
  /**
   * Pod name put in the attributes (undefined leaves it out, to test the error).
   * @default 'web-0'
   */
  readonly podName?: string | null;
  /**
   * Pod namespace put in the attributes.
   * @default 'default'
   */
  readonly podNamespace?: string | null;
}

/** What a Mount produced: files and versions, or the gRPC error. */
export type MountOutcome =
  | {
      readonly ok: true;
      readonly files: readonly ProviderFile[];
      readonly objectVersions: ObjectVersion[];
      readonly errorCode: string;
    }
  | { readonly ok: false; readonly grpcCode: number; readonly message: string };

const MAX_LOG_BYTES = 256 * 1024;

/** The repository root (for build/runtime/cli.js). */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/** Which build of ours runs, and on which Node (benchmarks pick the image's Node and a probe). */
export interface OurProviderBuild {
  /** build/runtime/cli.js to run. @default the repository's build/runtime/cli.js */
  readonly cli?: string;
  /** Node executable. @default this process's */
  readonly node?: string;
  /** Node flags before the script (e.g. `--require` of a memory probe). @default none */
  readonly nodeArgs?: readonly string[];
}

/** The command line of our provider, from the compiled build. */
export function ourProviderCommand(
  extraArgs: readonly string[] = [],
  build: OurProviderBuild = {},
): Pick<ProviderProcessProps, 'command' | 'args'> {
  const cli = build.cli ?? join(REPO_ROOT, 'build', 'runtime', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  return {
    command: build.node ?? process.execPath,
    args: (p) => [
      ...(build.nodeArgs ?? []),
      cli,
      'provider',
      `--endpoint=unix://${p.socketPath}`,
      `--healthz-port=${p.healthzPort}`,
      `--metrics-port=${p.metricsPort}`,
      ...extraArgs,
    ],
  };
}

/**
 * The upstream provider binary: `UPSTREAM_AZURE_PROVIDER` when set (a binary built elsewhere from the
 * same pinned module), else the one harness/rig/build.sh built (throws naming the build command).
 */
export function upstreamProviderBinary(): string {
  const override = process.env.UPSTREAM_AZURE_PROVIDER;
  if (override) {
    if (!existsSync(override)) throw new Error(`UPSTREAM_AZURE_PROVIDER=${override} does not exist`);
    return override;
  }
  return rigBinary('upstreamProvider');
}

/**
 * Why ours and the upstream provider cannot both be run here against the fakes under the public-cloud
 * names, or undefined: that needs root (port 443 on loopback, unshare --mount for a private /etc/hosts)
 * and both builds.
 */
export function whyProvidersCannotRun(): string | undefined {
  if (!canUsePrivilegedLoopback())
    return 'needs root (port 443 on loopback, unshare --mount for a private /etc/hosts)';
  try {
    upstreamProviderBinary();
    ourProviderCommand();
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/** The command line of the upstream Go provider built by harness/rig/build.sh. */
export function upstreamProviderCommand(
  binary: string,
  extraArgs: readonly string[] = [],
): Pick<ProviderProcessProps, 'command' | 'args'> {
  return {
    command: binary,
    args: (p) => [
      `--endpoint=unix://${p.socketPath}`,
      `--healthz-port=${p.healthzPort}`,
      `--prometheus-port=${p.metricsPort}`,
      '-v=2',
      ...extraArgs,
    ],
  };
}

/** Attributes JSON as the driver builds it: SPC parameters, then the volume context (pod info). */
export function mountAttributes(input: MountInput): string {
  const attributes: Record<string, string> = {
    ...input.parameters,
    [SECRET_PROVIDER_CLASS_KEY]: 'parity-spc',
  };
  const podName = input.podName === undefined ? 'web-0' : input.podName;
  const podNamespace = input.podNamespace === undefined ? 'default' : input.podNamespace;
  if (podName !== null) attributes[POD_NAME_KEY] = podName;
  if (podNamespace !== null) attributes[POD_NAMESPACE_KEY] = podNamespace;
  attributes[POD_UID_KEY] = '0b9e1f4a-4a63-4bb5-9d1c-9a2b1f0c1d11';
  attributes[SERVICE_ACCOUNT_NAME_KEY] = 'default';
  attributes[EPHEMERAL_KEY] = 'false';
  return JSON.stringify(attributes);
}

/** A running provider process. */
export class ProviderProcess {
  /** Spawns the provider and waits until Version answers on its socket. */
  public static async start(props: ProviderProcessProps): Promise<ProviderProcess> {
    const dir = props.socketDir ?? mkdtempSync(join(tmpdir(), `aks-ss-${props.name}-`));
    const ports: ProviderPorts = {
      socketPath: join(dir, 'azure.sock'),
      healthzPort: await freePort(),
      metricsPort: await freePort(),
    };
    const args = props.args(ports);
    if (props.serviceAccountCaFile !== undefined && props.hostsFile === undefined)
      throw new Error(`${props.name}: serviceAccountCaFile needs hostsFile (a private mount namespace)`);
    const [command, argv] = props.hostsFile
      ? withPrivateHosts(props.hostsFile, props.command, args, props.serviceAccountCaFile)
      : [props.command, args];
    const child = spawn(command, argv, {
      env: { ...process.env, ...props.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const provider = new ProviderProcess(props.name, child, ports, props.socketDir ? undefined : dir);
    const deadline = Date.now() + (props.startTimeoutMs ?? 30_000);
    for (;;) {
      if (provider.exited)
        throw new Error(
          `${props.name} provider exited during start (code ${child.exitCode}); logs:\n${provider.logs()}`,
        );
      if (existsSync(ports.socketPath)) {
        try {
          await provider.version(2000);
          return provider;
        } catch {
          // Not serving yet.
        }
      }
      if (Date.now() > deadline) {
        await provider.stop();
        throw new Error(
          `${props.name} provider did not answer Version on ${ports.socketPath} within the start timeout; logs:\n${provider.logs()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private readonly client: grpc.Client;
  private log = '';
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(
    public readonly name: string,
    private readonly child: ChildProcess,
    public readonly ports: ProviderPorts,
    /** Removed on stop when the provider made it. */
    private readonly ownDir: string | undefined,
  ) {
    const append = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString('utf8')).slice(-MAX_LOG_BYTES);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.exit = new Promise((resolveExit) =>
      child.on('exit', () => {
        this.exited = true;
        resolveExit();
      }),
    );
    this.client = createUnixGrpcClient(providerService(), ports.socketPath);
  }

  /** False once the process has exited. */
  public get running(): boolean {
    return !this.exited;
  }

  /** The provider's pid (unshare and sh exec into it, so it is the provider itself). */
  public get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The last 256 KiB of the provider's stdout and stderr. */
  public logs(): string {
    return this.log;
  }

  /** Resident set size in KiB, from /proc. */
  public rssKiB(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (!match) throw new Error(`no VmRSS in /proc/${this.pid}/status`);
    return Number(match[1]);
  }

  /** Calls Version. */
  public version(deadlineMs = 5000): Promise<VersionResponse> {
    return unaryCall<VersionRequest, VersionResponse>(
      this.client,
      'Version',
      { version: API_VERSION },
      deadlineMs,
    );
  }

  /** Sends one Mount and returns its files and versions or its error. */
  public async mount(input: MountInput, deadlineMs = 60_000): Promise<MountOutcome> {
    const request: MountRequest = {
      attributes: mountAttributes(input),
      secrets: JSON.stringify(input.secrets ?? null),
      target_path:
        input.targetPath ??
        `/var/lib/kubelet/pods/0b9e1f4a-4a63-4bb5-9d1c-9a2b1f0c1d11/volumes/kubernetes.io~csi/secrets-store/mount`,
      permission: input.permission ?? DEFAULT_PERMISSION,
      current_object_version: [],
    };
    try {
      const response = await unaryCall<MountRequest, MountResponse>(
        this.client,
        'Mount',
        request,
        deadlineMs,
      );
      return {
        ok: true,
        files: response.files.map((f) => ({ path: f.path, mode: f.mode, contents: Buffer.from(f.contents) })),
        objectVersions: response.object_version.map((v) => ({ id: v.id, version: v.version })),
        errorCode: response.error?.code ?? '',
      };
    } catch (error) {
      const e = error as grpc.ServiceError;
      return { ok: false, grpcCode: e.code, message: e.details ?? e.message };
    }
  }

  /** SIGTERM, then SIGKILL after 5 s; removes the socket directory (only the socket for `socketDir`). */
  public async stop(): Promise<void> {
    this.client.close();
    if (!this.exited) {
      this.child.kill('SIGTERM');
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exit;
      clearTimeout(killer);
    }
    this.removeSocket();
  }

  /**
   * SIGKILL, as the OOM killer or a node problem ends it: no shutdown, its socket file stays behind, as a
   * crashed DaemonSet pod leaves it on the hostPath.
   */
  public async crash(): Promise<void> {
    this.client.close();
    if (!this.exited) {
      this.child.kill('SIGKILL');
      await this.exit;
    }
  }

  private removeSocket(): void {
    if (this.ownDir) rmSync(this.ownDir, { recursive: true, force: true });
    else rmSync(this.ports.socketPath, { force: true });
  }
}

/** A free TCP port on loopback (bound then released). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}
