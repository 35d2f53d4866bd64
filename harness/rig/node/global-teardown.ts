// Stops what the node project's globalSetup started: the node (processes, containers, mounts, cgroups, the
// service link) and then its cluster.
import { stopGlobalNode } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  await stopGlobalNode();
}
