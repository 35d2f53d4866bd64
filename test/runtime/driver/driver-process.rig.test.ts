// Our driver as a process (`aks-secrets-store driver`, the image's entrypoint) with KUBECONFIG pointing at
// the real kube-apiserver: health, metrics, flag errors and a clean SIGTERM.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rig } from '../../../harness/rig/rig-env';
import { DriverProcess, freePort, ourDriverCommand } from './support/driver-process';
import { canMount, notRunWithoutRoot } from './support/driver-harness';

const maybe = canMount('driver-process.rig.test.ts') ? describe : notRunWithoutRoot;

maybe('the driver process', () => {
  const providerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'providers-'));

  it('serves CSI, /healthz and /metrics, answers NodeUnpublish and exits cleanly on SIGTERM', async () => {
    const healthzPort = await freePort();
    const driver = await DriverProcess.start({
      name: 'ours',
      ...ourDriverCommand(),
      providerDir,
      kubeconfig: rig().kubeconfig,
      extraArgs: [`--healthz-port=${healthzPort}`, '--enable-secret-rotation=true'],
    });
    try {
      const info = await driver.call(driver.identity, 'GetPluginInfo', {});
      expect(info.name).toBe('secrets-store.csi.k8s.io');
      expect((await driver.httpGet('/healthz')).status).toBe(200);
      expect(await driver.httpGet('/healthz', healthzPort)).toEqual({ status: 200, body: 'ok' });
      // Memory budget: upstream's request is 100 MiB with 110 volumes; idle must leave most of it.
      const rss = driver.rssBytes();
      console.log(`driver RSS after start: ${(rss / 1048576).toFixed(1)} MiB`);
      expect(rss).toBeLessThan(100 * 1048576);
      await driver.unpublish({ volume_id: 'v', target_path: path.join(providerDir, 'never-mounted') });
      const metrics = await driver.httpGet('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.body).toMatch(/^node_unpublish_total\{os_type="linux"\} 1$/m);
      expect(fs.statSync(driver.socketPath).mode & 0o777).toBe(0o600);
    } finally {
      expect(await driver.stop()).toBe(0);
    }
    expect(fs.existsSync(driver.socketPath)).toBe(false);
    expect(driver.logs).toContain('"msg":"shutting down"');
    // Memory release ran at start and gave the binary's start-up pages back (runtime/common/memory).
    const release = /"msg":"memory release on".*"releasedKiB":(\d+).*"refused":(\d+)/.exec(driver.logs);
    expect(release).not.toBeNull();
    expect(Number(release![1])).toBeGreaterThan(4096);
    expect(Number(release![2])).toBe(0);
  }, 90_000);

  it('refuses an unknown flag, naming it', () => {
    const { command, prefix } = ourDriverCommand();
    const result = spawnSync(command, [...prefix, '--nodeid=n', '--enable-secret-rotaton=true'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('flag provided but not defined: --enable-secret-rotaton');
  });
});
