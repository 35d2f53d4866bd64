// The built provider bin (`node build/runtime/cli.js provider ...`) as a child process, the way the
// image runs it; optionally inside a private mount namespace whose /etc/hosts names the fake Azure
// hosts (harness/fakes/loopback-hosts). Captures every log line for the no-secrets checks.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { withPrivateHosts } from '../../../../harness/fakes/loopback-hosts';
import { ProviderClient } from './provider-client';

export const CLI = path.resolve(__dirname, '../../../../build/runtime/cli.js');

/** Options of a spawned provider. */
export interface SpawnProviderProps {
  /** Extra flags (endpoint and ports are set here). */
  readonly args?: readonly string[];
  /** Extra environment (e.g. NODE_EXTRA_CA_CERTS, AZURE_POD_IDENTITY_AUTHORITY_HOST). */
  readonly env?: Record<string, string>;
  /** Run under a private /etc/hosts (needs root). */
  readonly hostsFile?: string;
  /** Socket to serve on (a restart reuses its predecessor's). @default a new temp dir's azure.sock */
  readonly socketPath?: string;
}

export interface SpawnedProvider {
  readonly socketPath: string;
  readonly healthzPort: number;
  readonly metricsPort: number;
  readonly client: ProviderClient;
  readonly child: ChildProcess;
  /** Every stderr/stdout line so far. */
  readonly logs: string[];
  metrics(): Promise<string>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Fails with the fix when the bin was not built. */
export function requireBuiltCli(): void {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
}

export async function spawnProvider(props: SpawnProviderProps = {}): Promise<SpawnedProvider> {
  requireBuiltCli();
  const dir = props.socketPath ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'provider-'));
  const socketPath = props.socketPath ?? path.join(dir!, 'azure.sock');
  const args = [
    CLI,
    'provider',
    `--endpoint=unix://${socketPath}`,
    '--healthz-port=0',
    '--metrics-port=0',
    '--http-listen-address=127.0.0.1',
    ...(props.args ?? []),
  ];
  const [command, commandArgs] = props.hostsFile
    ? withPrivateHosts(props.hostsFile, process.execPath, args)
    : [process.execPath, args];
  const child = spawn(command, commandArgs, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...props.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let started: Record<string, unknown> | undefined;
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      logs.push(line);
      if (line.includes('"provider started"')) started = JSON.parse(line) as Record<string, unknown>;
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!started) {
    if (child.exitCode !== null)
      throw new Error(`the provider exited with ${child.exitCode}:\n${logs.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the provider did not start within 60s:\n${logs.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const client = new ProviderClient(socketPath);
  const healthzPort = Number(started.healthzPort);
  const metricsPort = Number(started.metricsPort);
  return {
    socketPath,
    healthzPort,
    metricsPort,
    client,
    child,
    logs,
    metrics: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
    async stop() {
      client.close();
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Sum of a Prometheus counter's samples whose labels include `labels`. */
export function counterValue(metricsText: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
