// One driver install on the node at a time: ours and upstream's both register `secrets-store.csi.k8s.io`
// with the kubelet, so node test files (and anything else that installs a driver there) take this lock
// around their install. A lock whose owner process is gone is taken over.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlive } from '../processes';

/** Waits (bounded) for the node's install lock; returns the release function. */
export async function lockNodeInstall(nodeDir: string, timeoutMs = 30 * 60_000): Promise<() => void> {
  const lock = path.join(nodeDir, 'install.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(fs.readFileSync(lock, 'utf8') || '0');
    if (owner && !isAlive(owner)) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`the node's install lock ${lock} is still held by pid ${owner} after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
