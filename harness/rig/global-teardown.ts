// Stops what global-setup started (every child's process group) and removes the run's temp dir
// (RIG_KEEP_STATE=1 keeps it, with the logs).
import { stopGlobalRig } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  await stopGlobalRig();
}
