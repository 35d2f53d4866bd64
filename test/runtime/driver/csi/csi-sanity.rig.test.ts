// csi-sanity (kubernetes-csi/csi-test, pinned in harness/rig/tools/csi-sanity) against our driver process.
//
// Skipped by design (the upstream driver's own sanity run skips `Controller|should.work|NodeStageVolume`):
// - "Controller Service": a node-only driver for ephemeral inline volumes; every controller RPC answers
//   UNIMPLEMENTED (CONTROLLER_SERVICE is still advertised, as upstream does, so kubelet sees no change).
// - "should work", "should be idempotent", "NodeUnpublishVolume should remove target path" and
//   "NodeStageVolume should fail when no volume capability is provided": each first provisions a volume with
//   the controller's CreateVolume, which kubelet never calls for inline ephemeral volumes. The same node
//   paths run with real SPCs, providers and tmpfs in node-publish.rig.test.ts and interop.rig.test.ts, and
//   the Stage capability check in node-server.rig.test.ts.
// Everything else runs: Identity, NodeGetCapabilities, NodeGetInfo, and the argument checks of
// NodePublish, NodeUnpublish, NodeStage and NodeUnstage (14 specs with csi-test v5.6.0).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cannotRunHere, rig, rigBinary } from '../../../../harness/rig/rig-env';
import { canMount, notRunWithoutRoot } from '../support/driver-harness';
import { DriverProcess, ourDriverCommand } from '../support/driver-process';

export const SANITY_SKIPPED_BY_DESIGN = [
  'Controller Service',
  'should work',
  'should be idempotent',
  'should remove target path',
  'NodeStageVolume should fail when no volume capability is provided',
];

const maybe = canMount('csi-sanity.rig.test.ts') ? describe : notRunWithoutRoot;

interface SpecResult {
  name: string;
  outcome: 'passed' | 'failed' | 'skipped';
  message?: string;
}

function junitResults(xml: string): SpecResult[] {
  const results: SpecResult[] = [];
  const testcase = /<testcase name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m = testcase.exec(xml); m; m = testcase.exec(xml)) {
    const body = m[3] ?? '';
    const name = m[1]
      .replace(/&#34;/g, '"')
      .replace(/&amp;/g, '&')
      .replace(/&gt;/g, '>')
      .replace(/&lt;/g, '<');
    if (/<failure|<error/.test(body))
      results.push({ name, outcome: 'failed', message: /message="([^"]*)"/.exec(body)?.[1] });
    else if (/<skipped/.test(body))
      results.push({ name, outcome: 'skipped', message: /message="([^"]*)"/.exec(body)?.[1] });
    else results.push({ name, outcome: 'passed' });
  }
  return results;
}

maybe('csi-sanity against our driver', () => {
  it('passes every spec that does not need a controller', async () => {
    let csiSanity: string;
    try {
      csiSanity = rigBinary('csiSanity');
    } catch (err) {
      if (cannotRunHere((err as Error).message)) return;
      throw err;
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sanity-'));
    const providerDir = path.join(work, 'providers');
    fs.mkdirSync(providerDir);
    const driver = await DriverProcess.start({
      name: 'ours',
      ...ourDriverCommand(),
      providerDir,
      kubeconfig: rig().kubeconfig,
    });
    try {
      const junit = path.join(work, 'junit.xml');
      const skip = SANITY_SKIPPED_BY_DESIGN.map((s) => s.replace(/ /g, '.')).join('|');
      const run = spawnSync(
        csiSanity,
        [
          `--csi.endpoint=${driver.socketPath}`,
          `--csi.mountdir=${path.join(work, 'mount')}`,
          `--csi.stagingdir=${path.join(work, 'staging')}`,
          `--ginkgo.skip=${skip}`,
          `--ginkgo.junit-report=${junit}`,
          '--ginkgo.no-color',
          '--ginkgo.timeout=5m',
        ],
        { encoding: 'utf8', timeout: 6 * 60_000 },
      );
      const results = fs.existsSync(junit) ? junitResults(fs.readFileSync(junit, 'utf8')) : [];
      const ran = results.filter((r) => r.outcome !== 'skipped');
      const failed = results.filter((r) => r.outcome === 'failed');
      // The report names what ran and what was skipped (docs/compatibility.md quotes it).
      fs.writeFileSync(
        path.join(os.tmpdir(), 'csi-sanity-driver-results.json'),
        JSON.stringify(results, null, 2),
      );
      if (run.status !== 0)
        console.log(`csi-sanity output:\n${run.stdout.slice(-6000)}\n${run.stderr.slice(-2000)}`);
      expect({ failed, exit: run.status }).toEqual({ failed: [], exit: 0 });
      expect(ran.length).toBeGreaterThanOrEqual(13);
      expect(ran.map((r) => r.name).join('\n')).toMatch(/Identity Service/);
      expect(ran.map((r) => r.name).join('\n')).toMatch(
        /NodePublishVolume should fail when no volume id is provided/,
      );
    } finally {
      await driver.stop();
      fs.rmSync(work, { recursive: true, force: true });
    }
  }, 420_000);
});
