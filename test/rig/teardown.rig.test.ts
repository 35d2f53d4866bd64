// The fixture leaves nothing behind: after stopRig no child (nor anything in its process group) is alive,
// and a later run kills what a killed run (whose jest process is gone) left behind.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startRig, stopRig } from '../../harness/rig/cluster';
import {
  groupExists,
  isAlive,
  reapLeftovers,
  rigRunDir,
  spawnLogged,
  stopProcess,
} from '../../harness/rig/processes';

jest.setTimeout(240000);

test('stopRig stops every process it started', async () => {
  // A second, smaller rig (etcd + kube-apiserver): the shared one belongs to global teardown.
  const running = await startRig({ controllerManager: false, lowkeyVault: false });
  const pids = running.processes.map((proc) => proc.pid);
  expect(running.processes.map((proc) => proc.name)).toEqual(['etcd', 'kube-apiserver']);
  expect(pids.every(isAlive)).toBe(true);

  await stopRig(running);

  expect(pids.filter(isAlive)).toEqual([]);
  expect(pids.filter(groupExists)).toEqual([]);
  expect(fs.existsSync(running.endpoints.stateDir)).toBe(false);
});

test('a later run kills the children of a run whose jest process died', async () => {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-teardown-test-'));
  const orphan = spawnLogged({
    name: 'orphan',
    binary: process.execPath,
    args: ['-e', 'setTimeout(() => {}, 120000)'],
    logDir,
  });
  try {
    expect(isAlive(orphan.pid)).toBe(true);
    // Pretend the run that started it was killed: move its record under an owner pid that does not exist.
    // Only the orphan's entry moves (jest may run this file in its own process, next to the shared rig).
    const ownFile = path.join(rigRunDir(), `${process.pid}.json`);
    const record = JSON.parse(fs.readFileSync(ownFile, 'utf8')) as { children: { pid: number }[] };
    const deadOwner = 2 ** 22 + 1; // above the kernel's largest pid_max (2^22): no such process
    fs.writeFileSync(
      path.join(rigRunDir(), `${deadOwner}.json`),
      JSON.stringify({
        ownerPid: deadOwner,
        ownerStartTime: '0',
        children: record.children.filter((child) => child.pid === orphan.pid),
      }),
    );
    fs.writeFileSync(
      ownFile,
      JSON.stringify({ ...record, children: record.children.filter((child) => child.pid !== orphan.pid) }),
    );

    const killed = reapLeftovers();

    expect(killed).toContain(orphan.pid);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isAlive(orphan.pid)).toBe(false);
    expect(fs.existsSync(path.join(rigRunDir(), `${deadOwner}.json`))).toBe(false);
  } finally {
    await stopProcess(orphan, 1000);
    fs.rmSync(logDir, { recursive: true, force: true });
  }
});
