// The production Kubernetes client, recording every request it sends (watch streams excluded), so a rig
// test can assert how many API calls a driver path made against the real API server, and how many of its
// writes the server accepted.
import { KubeClient } from '../../../../runtime/driver/cluster/kube/kube-client';

export class CountingKubeClient extends KubeClient {
  /** `<VERB> <path>` of every request sent, in order. */
  readonly requests: string[] = [];
  /** `<VERB> <path>` of every write (POST/PUT/PATCH/DELETE) the server accepted, in order. */
  readonly acceptedWrites: string[] = [];

  override async request<T>(spec: Parameters<KubeClient['request']>[0]): Promise<T> {
    const line = `${spec.verb} ${spec.path}`;
    this.requests.push(line);
    const answer = await super.request<T>(spec);
    if (spec.verb !== 'GET') this.acceptedWrites.push(line);
    return answer;
  }

  /** Accepted writes to `plural` since `from` (an earlier `acceptedWrites.length`). */
  writesTo(plural: string, from = 0): string[] {
    return this.acceptedWrites.slice(from).filter((r) => r.includes(`/${plural}`));
  }
}
