// Pods that start through a Key Vault outage. For SecretProviderClasses that opt in
// (`serveLastKnownContentOnOutage: "true"`) and a provider started with --outage-max-staleness, every
// successful Mount leaves its answer here, in this process's memory only (a restart forgets it), keyed
// by everything that decides what a Mount may read: the identity key (client id, tenant, authority and
// service account; a service principal's secret digest), the pod's namespace, the vault URL, the cloud
// and the exact object list with file modes. A later FIRST mount with the same key is given that answer
// only when Key Vault itself failed as in an outage (5xx, timeout, 429, unreachable) on every call that
// failed, or stalled until the driver's deadline was near, never when any call got 401/403/404 or the
// identity was refused; and only once the identity has proved itself again: a workload-identity token
// Entra ID accepted for this identity (checked before any fetch), or a token from the identity's
// credential. Rotation Mounts are never given it: the driver keeps the pod's content and reports the
// failed rotation. Every Mount tries Key Vault first, so the first answer after the outage is fresh.
import { createHash } from 'node:crypto';
import { Counter, Gauge, Registry } from '../common/metrics/prom-core';
import type { Logger } from '../common/logging/logger';
import { isOutageReason, OutageReason } from '../wire/last-known-content';
import type { MountResponse } from '../wire/provider-v1alpha1';
import { MountFailureReason, MountRequestError } from './mount-failure';
import type { MountObject } from './parameters';

/** What a piece of last known content is for; every field takes part in the key. */
export interface LastKnownContentScope {
  readonly identityKey: string;
  readonly podNamespace: string;
  readonly vaultUrl: string;
  readonly tenantId: string;
  readonly authorityHost: string;
  readonly objects: readonly MountObject[];
}

/** A Mount answered with last known content. */
export interface ServedLastKnownContent {
  readonly ageMs: number;
  readonly reason: OutageReason;
}

/** Why an opted-in first mount that failed was not given last known content (metric label). */
export type LastKnownContentRefusal =
  /** A call failed with something other than an outage (401/403/404, identity, content). */
  | 'not_an_outage'
  /** Nothing was fetched on this node for this key since the provider started. */
  | 'no_content'
  /** The content is older than --outage-max-staleness. */
  | 'too_old'
  /** The identity could not get a token now. */
  | 'identity_unproven';

/** Options of the store. */
export interface LastKnownContentProps {
  /** --outage-max-staleness, ms (> 0). */
  readonly maxStalenessMs: number;
  /** Most keys kept (least recently used dropped first). @default 1000 */
  readonly maxEntries?: number;
  /** Most file bytes kept over all keys. @default 64 MiB */
  readonly maxBytes?: number;
  /** Where the metrics are registered. @default a registry of its own */
  readonly registry?: Registry;
  readonly logger?: Logger;
  /** Clock (tests). @default Date.now */
  readonly now?: () => number;
}

/** One Mount run through the store. */
export interface LastKnownContentRun {
  readonly scope: LastKnownContentScope;
  /** A first mount of its target path (not a rotation): only these may be given last known content. */
  readonly firstMount: boolean;
  /** The Key Vault fetch; pushes the reason of every failed Key Vault call onto `failures`. */
  readonly fetch: (signal: AbortSignal | undefined, failures: MountFailureReason[]) => Promise<MountResponse>;
  /** Resolves when the identity still gets a token; rejects otherwise. */
  readonly proveIdentity: (signal: AbortSignal | undefined) => Promise<void>;
  readonly signal?: AbortSignal;
  /** The driver's deadline (epoch ms): a fetch still stalled near it counts as a timeout. */
  readonly deadline?: number;
}

/** What the Mount answers. */
export interface LastKnownContentOutcome {
  readonly response: MountResponse;
  /** Set when the answer is last known content. */
  readonly servedLastKnown?: ServedLastKnownContent;
}

interface Entry {
  readonly response: MountResponse;
  readonly fetchedAt: number;
  readonly bytes: number;
}

/** How long before the driver's deadline a stalled fetch gives way: 5 s, or half the time given. */
const DEADLINE_MARGIN_MS = 5000;

/** The key of a scope: a digest, so the map holds no identity or object names in the clear. */
export function lastKnownContentKey(scope: LastKnownContentScope): string {
  const objects = scope.objects.map((o) => [
    o.objectName,
    o.objectType,
    o.objectVersion,
    o.objectAlias,
    o.objectFormat,
    o.objectEncoding,
    o.objectVersionHistory,
    o.fileMode,
  ]);
  return createHash('sha256')
    .update(
      JSON.stringify([
        scope.identityKey,
        scope.podNamespace,
        scope.vaultUrl,
        scope.tenantId,
        scope.authorityHost,
        objects,
      ]),
    )
    .digest('hex');
}

function responseBytes(response: MountResponse): number {
  return (
    response.files.reduce((sum, f) => sum + f.contents.length + f.path.length, 0) +
    response.object_version.reduce((sum, v) => sum + v.id.length + v.version.length, 0)
  );
}

/** Resolves after `ms`; `clear` cancels. */
function timer(ms: number): { done: Promise<'deadline'>; clear: () => void } {
  let handle: NodeJS.Timeout | undefined;
  const done = new Promise<'deadline'>((resolve) => {
    handle = setTimeout(() => resolve('deadline'), Math.max(0, ms));
  });
  return { done, clear: () => clearTimeout(handle) };
}

export class LastKnownContent {
  private readonly entries = new Map<string, Entry>();
  private totalBytes = 0;
  private readonly now: () => number;
  private readonly served: Counter<'reason'>;
  private readonly refused: Counter<'cause'>;

  constructor(private readonly props: LastKnownContentProps) {
    this.now = props.now ?? Date.now;
    const registers = [props.registry ?? new Registry()];
    this.served = new Counter({
      name: 'last_known_content_served_total',
      help: 'First mounts answered with last known content because Key Vault was unavailable, by reason (keyvault_server_error, keyvault_timeout, keyvault_throttled, keyvault_network)',
      labelNames: ['reason'],
      registers,
    });
    this.refused = new Counter({
      name: 'last_known_content_refused_total',
      help: 'Failed first mounts of opted-in SecretProviderClasses not given last known content, by cause (not_an_outage, no_content, too_old, identity_unproven)',
      labelNames: ['cause'],
      registers,
    });
    const size = () => this.size;
    const bytes = () => this.bytes;
    new Gauge({
      name: 'last_known_content_entries',
      help: 'Last known Mount answers held in memory for Key Vault outages',
      registers,
      collect() {
        this.set(size());
      },
    });
    new Gauge({
      name: 'last_known_content_bytes',
      help: 'File bytes of the last known Mount answers held in memory',
      registers,
      collect() {
        this.set(bytes());
      },
    });
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Keeps `response` as the last known content of `key`, fetched at `fetchedAt`. */
  remember(key: string, response: MountResponse, fetchedAt: number): void {
    this.forget(key);
    const bytes = responseBytes(response);
    const maxBytes = this.props.maxBytes ?? 64 * 1024 * 1024;
    if (bytes > maxBytes) return;
    this.entries.set(key, { response, fetchedAt, bytes });
    this.totalBytes += bytes;
    const maxEntries = this.props.maxEntries ?? 1000;
    while (this.entries.size > maxEntries || this.totalBytes > maxBytes)
      this.forget(this.entries.keys().next().value as string);
  }

  /** The content of `key` if not older than the maximum; expired content is dropped. */
  recall(key: string): { response: MountResponse; ageMs: number } | 'no_content' | 'too_old' {
    const entry = this.entries.get(key);
    if (!entry) return 'no_content';
    const ageMs = this.now() - entry.fetchedAt;
    if (ageMs > this.props.maxStalenessMs) {
      this.forget(key);
      return 'too_old';
    }
    return { response: entry.response, ageMs };
  }

  /** Drops content older than the maximum (called by the provider's sweep timer). */
  sweep(): void {
    const oldest = this.now() - this.props.maxStalenessMs;
    for (const [key, entry] of this.entries) if (entry.fetchedAt < oldest) this.forget(key);
  }

  /**
   * Runs a Mount of an opted-in SecretProviderClass: Key Vault first; on success its answer becomes
   * the last known content; on an outage (or a stall near the deadline) of a first mount, the last known
   * content if there is one young enough and the identity proves itself. Otherwise Key Vault's error.
   */
  async run(run: LastKnownContentRun): Promise<LastKnownContentOutcome> {
    const key = lastKnownContentKey(run.scope);
    const startedAt = this.now();
    const controller = new AbortController();
    const onAbort = () => controller.abort(run.signal?.reason);
    if (run.signal?.aborted) onAbort();
    run.signal?.addEventListener('abort', onAbort, { once: true });
    const failures: MountFailureReason[] = [];
    const live = run.fetch(controller.signal, failures).then(
      (response) => ({ ok: true as const, response }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    try {
      const remaining = run.deadline !== undefined ? run.deadline - Date.now() : undefined;
      const stall =
        run.firstMount && remaining !== undefined
          ? timer(remaining - Math.min(DEADLINE_MARGIN_MS, remaining / 2))
          : undefined;
      let first = await (stall ? Promise.race([live, stall.done]) : live);
      stall?.clear();
      // One decision per Mount: a stall near the deadline, or else the fetch's failure.
      let decided = false;
      if (first === 'deadline') {
        decided = true;
        // Key Vault has not answered every call and the driver will give up soon.
        if (failures.every(isOutageReason)) {
          const served = await this.serve(key, run, 'keyvault_timeout');
          if (served) {
            controller.abort(new Error('answered with last known content'));
            return served;
          }
        } else {
          this.refused.inc({ cause: 'not_an_outage' });
        }
        first = await live;
      }
      if (first.ok) {
        this.remember(key, first.response, startedAt);
        return { response: first.response };
      }
      const reason: MountFailureReason =
        first.error instanceof MountRequestError ? first.error.reason : 'internal';
      if (run.firstMount && !decided && !run.signal?.aborted) {
        if (isOutageReason(reason) && failures.every(isOutageReason)) {
          const served = await this.serve(key, run, reason);
          if (served) return served;
        } else if (reason !== 'cancelled') {
          this.refused.inc({ cause: 'not_an_outage' });
        }
      }
      throw first.error;
    } finally {
      run.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async serve(
    key: string,
    run: LastKnownContentRun,
    reason: OutageReason,
  ): Promise<LastKnownContentOutcome | undefined> {
    const recalled = this.recall(key);
    if (recalled === 'no_content' || recalled === 'too_old') {
      this.refused.inc({ cause: recalled });
      return undefined;
    }
    try {
      await run.proveIdentity(run.signal);
    } catch {
      this.refused.inc({ cause: 'identity_unproven' });
      return undefined;
    }
    this.served.inc({ reason });
    this.props.logger?.warn('Key Vault unavailable: mounted the last known content', {
      reason,
      ageSeconds: Math.floor(recalled.ageMs / 1000),
    });
    return { response: recalled.response, servedLastKnown: { ageMs: recalled.ageMs, reason } };
  }

  private forget(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
  }
}
