// The provider as the image runs it (the built bin): owner-only socket, Version, grpc.health.v1,
// /healthz doing a real gRPC call, /metrics, and a clean SIGTERM that removes the socket.
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { counterValue, spawnProvider, SpawnedProvider } from './support/spawned-provider';

jest.setTimeout(120_000);

let provider: SpawnedProvider;

beforeAll(async () => {
  provider = await spawnProvider();
});

afterAll(async () => {
  await provider?.stop();
});

it('creates the socket owner-only', () => {
  const stat = fs.statSync(provider.socketPath);
  expect(stat.isSocket()).toBe(true);
  expect(stat.mode & 0o077).toBe(0);
});

it('answers Version with our runtime name and the package version', async () => {
  const pkg = JSON.parse(fs.readFileSync(`${__dirname}/../../../package.json`, 'utf8')) as {
    version: string;
  };
  expect(await provider.client.version()).toEqual({
    version: 'v1alpha1',
    runtime_name: 'aks-secrets-store-provider',
    runtime_version: pkg.version,
  });
});

it('serves grpc.health.v1 like upstream (Check SERVING, List unimplemented)', async () => {
  expect(await provider.client.healthCheck()).toEqual({ status: 'SERVING' });
  await expect(provider.client.healthList()).rejects.toMatchObject({
    code: grpc.status.UNIMPLEMENTED,
    details: 'List is not supported',
  });
});

it('answers /healthz through a gRPC call over the socket, and /metrics with the upstream histograms', async () => {
  const health = await fetch(`http://127.0.0.1:${provider.healthzPort}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.text()).toBe('ok');
  const metrics = await provider.metrics();
  // The /healthz call is a real Version call: it shows up in grpc_request.
  expect(
    counterValue(metrics, 'grpc_request_count', {
      grpc_method: '/v1alpha1.CSIDriverProvider/Version',
      grpc_code: 'OK',
    }),
  ).toBeGreaterThanOrEqual(2);
  expect(metrics).toContain('# TYPE keyvault_request histogram');
  expect(metrics).toContain('grpc_request_bucket{le="0.1",os_type="linux",provider="azure"');
});

it('rejects a bad flag naming it, with exit code 2', async () => {
  const bad = spawnProvider({ args: ['--construct-pem-chain=maybe'] });
  await expect(bad).rejects.toThrow(/exited with 2[\s\S]*--construct-pem-chain/);
});

it('stops on SIGTERM with exit code 0 and removes its socket', async () => {
  const second = await spawnProvider();
  expect(fs.existsSync(second.socketPath)).toBe(true);
  const socketPath = second.socketPath;
  expect(await second.stop()).toBe(0);
  expect(fs.existsSync(socketPath)).toBe(false);
});

it('gives its binary clean pages back once started (memory release) and keeps answering', async () => {
  const line = provider.logs.find((l) => l.includes('"memory release on"'));
  expect(line).toBeDefined();
  const fields = JSON.parse(line!) as { releasedKiB: number; refused: number; intervalMs: number };
  expect(fields.releasedKiB).toBeGreaterThan(4096);
  expect(fields.refused).toBe(0);
  expect(fields.intervalMs).toBe(10_000);
  expect(await provider.client.healthCheck()).toEqual({ status: 'SERVING' });
});

it('rejects a --memory-release-interval below 1s, naming it, with exit code 2', async () => {
  const bad = spawnProvider({ args: ['--memory-release-interval=100ms'] });
  await expect(bad).rejects.toThrow(
    /exited with 2[\s\S]*--memory-release-interval: must be 0s \(off\) or from 1s/,
  );
});
