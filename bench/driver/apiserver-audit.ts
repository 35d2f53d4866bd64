// What a driver asked the API server while the bench timed its first mounts, read from the rig
// apiserver's audit log (`--apiserver-audit`): requests per first mount by verb and resource, and how long
// the server took for each (received to completed, server side, so the client's own costs are not in it).
// Both drivers run against the same apiserver one after the other, so their windows never overlap; within
// a window only requests whose User-Agent is a driver's (`csi-secrets-store/...`) count, and watches
// (long-running) do not.
import * as fs from 'fs';

/** The requests of one verb on one resource. */
export interface RequestGroup {
  /** e.g. `create secretproviderclasspodstatuses`. */
  readonly request: string;
  readonly count: number;
  readonly perFirstMount: number;
  /** Server-side duration p50 (ms). */
  readonly serverP50Ms: number;
}

/** A driver's requests in one window. */
export interface ApiserverRequests {
  readonly perFirstMount: number;
  readonly groups: readonly RequestGroup[];
}

interface AuditEvent {
  readonly stage?: string;
  readonly verb?: string;
  readonly userAgent?: string;
  readonly objectRef?: { readonly resource?: string; readonly subresource?: string };
  readonly requestReceivedTimestamp?: string;
  readonly stageTimestamp?: string;
}

/** A driver's User-Agent (ours and upstream's both start so); the bench's own client and the control plane's do not. */
const DRIVER_USER_AGENT = /^csi-secrets-store\//;

/** Requests a driver sent in [startMs, endMs] (wall clock), per first mount of `mounts`. */
export function driverRequests(
  auditLog: string,
  window: { readonly startMs: number; readonly endMs: number },
  mounts: number,
): ApiserverRequests {
  const durations = new Map<string, number[]>();
  for (const line of fs.readFileSync(auditLog, 'utf8').split('\n')) {
    if (!line) continue;
    let event: AuditEvent;
    try {
      event = JSON.parse(line) as AuditEvent;
    } catch {
      continue; // a line the apiserver was still writing
    }
    if (event.stage !== 'ResponseComplete' || event.verb === 'watch') continue;
    if (!DRIVER_USER_AGENT.test(event.userAgent ?? '')) continue;
    const received = timestampMs(event.requestReceivedTimestamp);
    const completed = timestampMs(event.stageTimestamp);
    if (!(received >= window.startMs && received <= window.endMs)) continue;
    const ref = event.objectRef ?? {};
    const key = `${event.verb} ${ref.resource ?? '?'}${ref.subresource ? `/${ref.subresource}` : ''}`;
    const list = durations.get(key) ?? [];
    list.push(Math.round((completed - received) * 100) / 100);
    durations.set(key, list);
  }
  const per = (n: number) => Math.round((n / Math.max(mounts, 1)) * 100) / 100;
  const groups = [...durations.entries()]
    .map(([request, list]) => {
      const sorted = [...list].sort((a, b) => a - b);
      return {
        request,
        count: list.length,
        perFirstMount: per(list.length),
        serverP50Ms: sorted[Math.floor(sorted.length / 2)],
      };
    })
    .sort((a, b) => b.count - a.count || a.request.localeCompare(b.request));
  return { perFirstMount: per(groups.reduce((n, g) => n + g.count, 0)), groups };
}

/** An audit timestamp (RFC 3339 with microseconds) in ms since the epoch, keeping the microseconds. */
function timestampMs(text: string | undefined): number {
  const m = /^(.{19})(\.\d+)?Z$/.exec(text ?? '');
  return m ? Date.parse(`${m[1]}Z`) + Number(m[2] ?? 0) * 1000 : NaN;
}

/** `2.2: 1 get pods (3 ms), 1 create secretproviderclasspodstatuses (6 ms)` */
export function describeRequests(requests: ApiserverRequests): string {
  const parts = requests.groups.map((g) => `${g.perFirstMount} ${g.request} (${g.serverP50Ms} ms)`);
  return `${requests.perFirstMount}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}
