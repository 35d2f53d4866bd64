// Decides whether a republish (kubelet's RequiresRepublish) may call the provider. At most one provider
// call per poll interval per volume, counted from the last *successful provider check*. Upstream counts
// from the target's mtime, which only moves when the content changes, so an unchanged secret is fetched
// on every republish once the interval has passed; here an unchanged answer restarts the interval too.
import * as fs from 'node:fs';

/** Options of the RotationGate. */
export interface RotationGateProps {
  /** `--rotation-poll-interval` in milliseconds. */
  readonly pollIntervalMs: number;
  /** Clock. @default Date.now */
  readonly now?: () => number;
}

export class RotationGate {
  private readonly lastCheck = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly props: RotationGateProps) {
    this.now = props.now ?? Date.now;
  }

  /**
   * True when the volume was checked less than one interval ago. With no record (a driver restart), the
   * target's mtime stands in, as upstream, so a restart does not fetch every volume at once.
   */
  isFresh(targetPath: string): boolean {
    let last = this.lastCheck.get(targetPath);
    if (last === undefined) {
      try {
        last = fs.statSync(targetPath).mtimeMs;
      } catch {
        return false;
      }
    }
    return this.now() < last + this.props.pollIntervalMs;
  }

  /** A provider call for this volume succeeded (changed content or not). */
  recordSuccess(targetPath: string): void {
    this.lastCheck.set(targetPath, this.now());
  }

  /** The volume is gone (NodeUnpublishVolume). */
  forget(targetPath: string): void {
    this.lastCheck.delete(targetPath);
  }
}
