// What the driver does not load at start (issue 14): node-forge (only a PFX cut into a TLS Secret needs it),
// yaml (only a kubeconfig file) and prom-client's index (its Pushgateway, cluster and default-metrics
// modules; the driver serves counters and histograms only), and @grpc/proto-loader with protobufjs (never:
// runtime/wire/codec encodes the CSI and provider messages). Each would cost RSS in every driver pod.
/* eslint-disable @typescript-eslint/no-require-imports -- each case loads the modules afresh in its own registry */
const FORBIDDEN_AT_START = ['node-forge', 'yaml', 'prom-client', '@grpc/proto-loader', 'protobufjs'];

function refuse(name: string): () => never {
  return () => {
    throw new Error(`${name} was loaded at start`);
  };
}

describe('driver modules loaded at start', () => {
  it('load without node-forge, yaml, the prom-client index, proto-loader or protobufjs', () => {
    jest.isolateModules(() => {
      for (const name of FORBIDDEN_AT_START) jest.doMock(name, refuse(name));
      // main imports every module of the driver process, the three that used to load them among them.
      expect(() => require('../../../runtime/driver/main')).not.toThrow();
      const metrics = require('../../../runtime/driver/report/driver-metrics');
      expect(new metrics.DriverMetrics().registry.getSingleMetric('node_publish_total')).toBeDefined();
    });
  });

  it('load node-forge on the first PFX, never for a PEM bundle', () => {
    jest.isolateModules(() => {
      let loads = 0;
      jest.doMock('node-forge', () => {
        loads++;
        return jest.requireActual('node-forge');
      });
      const tls = require('../../../runtime/driver/secret-sync/tls-parts');
      const pem = '-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n';
      expect(tls.tlsCertificate(Buffer.from(pem), 'bundle').toString()).toContain('BEGIN CERTIFICATE');
      expect(loads).toBe(0);
      expect(() => tls.tlsCertificate(Buffer.from('bm90IGEgcGZ4'), 'not-a-pfx')).toThrow(
        'object not-a-pfx: content is neither PEM with a CERTIFICATE block nor a password-less PFX',
      );
      expect(loads).toBe(1);
    });
  });

  it("serve prom-client's own classes from its core modules", () => {
    const core = require('../../../runtime/common/metrics/prom-core');
    const index = jest.requireActual('prom-client');
    expect(core.Registry).toBe(index.Registry);
    expect(core.Counter).toBe(index.Counter);
    expect(core.Histogram).toBe(index.Histogram);
  });
});
