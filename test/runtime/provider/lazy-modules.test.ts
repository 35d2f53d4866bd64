// What the provider does not load at start (issue 14): node-forge (only a PFX to convert or a certificate
// chain to order needs it) and prom-client's index (its Summary, Pushgateway, cluster aggregation and the
// nodejs_* default metrics), and @grpc/proto-loader with protobufjs (never: runtime/wire/codec encodes the
// provider and health messages). Each would cost RSS in every provider pod; /metrics keeps the process_* set.
/* eslint-disable @typescript-eslint/no-require-imports -- each case loads the modules afresh in its own registry */
import { buildChain, chainCertificates, toPfxBase64 } from '../../../harness/fakes/x509';

const chain = buildChain({ leafName: 'lazy.example' });
const pfx = toPfxBase64(chain.leaf, chainCertificates(chain, 'shuffled'));

function refuse(name: string): () => never {
  return () => {
    throw new Error(`${name} was loaded at start`);
  };
}

describe('provider modules loaded at start', () => {
  it('load without node-forge, the prom-client index, proto-loader or protobufjs, and /metrics still has the process metrics', async () => {
    let metrics: { ProviderMetrics: new () => { registry: { metrics(): Promise<string> } } } | undefined;
    jest.isolateModules(() => {
      for (const name of [
        'node-forge',
        'prom-client',
        '@grpc/proto-loader',
        'protobufjs',
        '@opentelemetry/api',
      ])
        jest.doMock(name, refuse(name));
      // main imports every module of the provider process.
      expect(() => require('../../../runtime/provider/main')).not.toThrow();
      metrics = require('../../../runtime/provider/metrics');
    });
    const registry = new metrics!.ProviderMetrics().registry;
    const text = await registry.metrics();
    for (const name of [
      'process_cpu_seconds_total',
      'process_cpu_user_seconds_total',
      'process_cpu_system_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'process_open_fds',
      'process_max_fds',
      'keyvault_request',
      'grpc_request',
    ])
      expect(text).toContain(`# TYPE ${name} `);
    expect(text).not.toContain('nodejs_');
    // The CPU counters (ours, not prom-client's module) count this process's CPU: total = user + system.
    const busyUntil = Date.now() + 50;
    while (Date.now() < busyUntil); // burn some CPU
    const again = await registry.metrics();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(again)?.[1]);
    const [user, system, total] = ['user_', 'system_', ''].map((k) => value(`process_cpu_${k}seconds_total`));
    expect(total).toBeGreaterThan(0);
    expect(Math.abs(total - (user + system))).toBeLessThan(1e-6);
    expect(total).toBeLessThanOrEqual(process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 + 1e-6);
  });

  it('load node-forge on the first PFX', () => {
    jest.isolateModules(() => {
      let loads = 0;
      jest.doMock('node-forge', () => {
        loads++;
        return jest.requireActual('node-forge');
      });
      const { pfxToPem } = require('../../../runtime/provider/content/pkcs12');
      expect(loads).toBe(0);
      expect(pfxToPem(pfx, { constructPemChain: true })).toContain('BEGIN PRIVATE KEY');
      expect(loads).toBe(1);
    });
  });
});
