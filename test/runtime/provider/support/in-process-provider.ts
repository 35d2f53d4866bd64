// Our provider started in the test's own process (startProvider, as the CLI does) on a socket in
// `dir`, with its HTTP endpoints on free loopback ports, and the real gRPC client of that socket.
import { RunningProvider, startProvider } from '../../../../runtime/provider/main';
import { ProviderClient } from './provider-client';

export interface InProcessProvider {
  readonly provider: RunningProvider;
  readonly client: ProviderClient;
  /** Every log line so far. */
  readonly logs: string[];
  stop(): Promise<void>;
}

export async function startInProcessProvider(
  dir: string,
  extraArgs: readonly string[] = [],
): Promise<InProcessProvider> {
  const logs: string[] = [];
  const provider = await startProvider(
    [
      `--endpoint=unix://${dir}/azure.sock`,
      '--healthz-port=0',
      '--metrics-port=0',
      '--http-listen-address=127.0.0.1',
      ...extraArgs,
    ],
    { logSink: (line) => logs.push(line) },
  );
  const client = new ProviderClient(provider.socketPath);
  return {
    provider,
    client,
    logs,
    async stop() {
      client.close();
      await provider.stop();
    },
  };
}
