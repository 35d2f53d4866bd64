// A CSI driver process (ours from build/runtime/cli.js, or the upstream Go binary from the rig build)
// started with the same upstream flag set, reached through the real @grpc/grpc-js client on its socket.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createUnixGrpcClient } from '../../../../runtime/common/net/grpc-unix';
import { csiService } from '../../../../runtime/wire/csi';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/** Our driver's command (the compiled build, as the image runs it). */
export function ourDriverCommand(): { command: string; prefix: string[] } {
  const cli = path.join(REPO_ROOT, 'build', 'runtime', 'cli.js');
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  return { command: process.execPath, prefix: [cli, 'driver'] };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface DriverProcessProps {
  readonly name: string;
  readonly command: string;
  /** Arguments before the flags (e.g. cli.js driver). @default [] */
  readonly prefix?: string[];
  readonly providerDir: string;
  readonly kubeconfig: string;
  readonly nodeId?: string;
  /** Extra flags. @default [] */
  readonly extraArgs?: string[];
  /**
   * The plugin directory of the CSI socket, kept across a stop (a restarted driver finds what it left
   * there, e.g. the SPCPS journal). @default a fresh directory, removed at stop
   */
  readonly pluginDir?: string;
}

export class DriverProcess {
  static async start(props: DriverProcessProps): Promise<DriverProcess> {
    const dir = props.pluginDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `drv-${props.name}-`));
    fs.mkdirSync(dir, { recursive: true });
    const socketPath = path.join(dir, 'csi.sock');
    const metricsPort = await freePort();
    const args = [
      ...(props.prefix ?? []),
      `--endpoint=unix://${socketPath}`,
      `--nodeid=${props.nodeId ?? 'node-under-test'}`,
      `--provider-volume=${props.providerDir}`,
      '--additional-provider-volume-paths=',
      `--metrics-addr=127.0.0.1:${metricsPort}`,
      ...(props.extraArgs ?? []),
    ];
    const child = spawn(props.command, args, {
      env: { ...process.env, KUBECONFIG: props.kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const driver = new DriverProcess(props.name, child, socketPath, metricsPort, dir, !props.pluginDir);
    const deadline = Date.now() + 60_000;
    for (let i = 0; i < 1200; i++) {
      if (driver.exitCode !== undefined)
        throw new Error(
          `${props.name} driver exited during start (${driver.exitCode}); logs:\n${driver.logs}`,
        );
      if (fs.existsSync(socketPath)) {
        try {
          await driver.call(driver.identity, 'Probe', {}, 2000);
          return driver;
        } catch {
          // not serving yet
        }
      }
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await driver.stop();
    throw new Error(`${props.name} driver did not answer Probe on ${socketPath}; logs:\n${driver.logs}`);
  }

  logs = '';
  exitCode?: number | string;
  readonly node: grpc.Client;
  readonly identity: grpc.Client;
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly socketPath: string,
    readonly metricsPort: number,
    readonly dir: string,
    private readonly removeDirAtStop = true,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.logs += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.logs += d.toString()));
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.exitCode = code ?? signal ?? -1;
        resolve();
      }),
    );
    this.node = createUnixGrpcClient(csiService('Node'), socketPath);
    this.identity = createUnixGrpcClient(csiService('Identity'), socketPath);
  }

  call<T = Record<string, unknown>>(
    client: grpc.Client,
    method: string,
    request: unknown,
    timeoutMs = 60_000,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method];
      fn.call(
        client,
        request,
        new grpc.Metadata(),
        { deadline: new Date(Date.now() + timeoutMs) },
        (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)),
      );
    });
  }

  publish(request: unknown): Promise<unknown> {
    return this.call(this.node, 'NodePublishVolume', request);
  }

  unpublish(request: unknown): Promise<unknown> {
    return this.call(this.node, 'NodeUnpublishVolume', request);
  }

  /** Resident set size of the process (VmRSS), in bytes. */
  rssBytes(): number {
    const status = fs.readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (!kb) throw new Error(`no VmRSS in /proc/${this.child.pid}/status`);
    return Number(kb[1]) * 1024;
  }

  async httpGet(pathName: string, port = this.metricsPort): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${port}${pathName}`);
    return { status: res.status, body: await res.text() };
  }

  /** SIGTERM, then wait (SIGKILL after 15 s); resolves with the exit code or signal. */
  async stop(): Promise<number | string | undefined> {
    this.node.close();
    this.identity.close();
    if (this.exitCode === undefined) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      await this.exited;
      clearTimeout(timer);
    }
    if (this.removeDirAtStop) fs.rmSync(this.dir, { recursive: true, force: true });
    return this.exitCode;
  }
}
