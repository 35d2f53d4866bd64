// What the provider keeps per Key Vault host: one HTTP connection pool (an https.Agent shared by every
// identity; each request carries its own bearer token), the host's token bucket, the scope its 401
// challenge named and the gate that lets a cold host's first call take that challenge alone. Nothing
// is kept per identity × vault: memory stays flat across identities and vaults. Hosts are bounded, and
// a host that sits idle (or is evicted) has its pool closed, so no socket or TLS buffer outlives its
// use. A host with calls in flight is never closed.
import { Agent, AgentOptions } from 'node:https';
import { createSecureContext, SecureContext } from 'node:tls';
import { FirstCallGate } from './first-call-gate';
import { TokenBucket } from './token-bucket';

/** Options of the host table. */
export interface VaultHostsProps {
  /** Token bucket rate per vault host, requests/s. */
  readonly ratePerSecond: number;
  /** Token bucket burst per vault host. */
  readonly burst: number;
  /** Most vault hosts kept. @default 256 */
  readonly maxHosts?: number;
  /** A host unused this long has its pool closed (sweep). @default 600000 (10 min) */
  readonly idleMs?: number;
  /** Most connections per host (the Mount concurrency is 32). @default 32 */
  readonly maxSocketsPerHost?: number;
  /** Trust and name resolution of the pools (tests: the test CA and fake host names). @default the system's */
  readonly tlsAgentOptions?: Pick<AgentOptions, 'ca' | 'lookup'>;
  /** Clock. @default Date.now */
  readonly now?: () => number;
}

/** One vault host and what hangs off it. */
export interface VaultHost {
  readonly host: string;
  /** The host's connection pool. */
  readonly agent: Agent;
  readonly bucket: TokenBucket;
  /** The first call of a cold host goes alone: it takes the 401 challenge for all. */
  readonly gate: FirstCallGate;
  /** The token scope the host's challenge named (undefined until a call took it). */
  scope?: string;
  /** Calls in flight (the host is not closed while > 0). */
  active: number;
  lastUsed: number;
}

export class VaultHosts {
  private readonly hosts = new Map<string, VaultHost>();
  private readonly now: () => number;
  /**
   * One TLS context for every pool: without it Node builds a context per connection (an OpenSSL SSL_CTX,
   * ~0.4 ms CPU and ~250 KiB of short-lived malloc each; heaptrack in bench/provider: 21 MiB over 1,000
   * Mounts). Same trust as before: the system's roots (with NODE_EXTRA_CA_CERTS), or `tlsAgentOptions.ca`.
   */
  private readonly secureContext: SecureContext;

  constructor(private readonly props: VaultHostsProps) {
    this.now = props.now ?? Date.now;
    const ca = props.tlsAgentOptions?.ca;
    this.secureContext = createSecureContext(ca === undefined ? {} : { ca });
  }

  get hostCount(): number {
    return this.hosts.size;
  }

  /** The entry of `host`, created on first use. */
  host(host: string): VaultHost {
    let entry = this.hosts.get(host);
    if (entry) {
      this.hosts.delete(host);
    } else {
      entry = {
        host,
        agent: new Agent({
          keepAlive: true,
          maxSockets: this.props.maxSocketsPerHost ?? 32,
          maxFreeSockets: 8,
          // Idle kept-alive sockets are closed after a minute; LIFO keeps the fewest warm.
          timeout: 60_000,
          scheduling: 'lifo',
          ...this.props.tlsAgentOptions,
          secureContext: this.secureContext,
        }),
        bucket: new TokenBucket({ ratePerSecond: this.props.ratePerSecond, burst: this.props.burst }),
        gate: new FirstCallGate(),
        active: 0,
        lastUsed: this.now(),
      };
    }
    entry.lastUsed = this.now();
    this.hosts.set(host, entry);
    this.evictHosts(entry);
    return entry;
  }

  /** The challenge scope of `host` (kept with the host: evicted with it). */
  scopeOf(host: string): string | undefined {
    return this.hosts.get(host)?.scope;
  }

  /** Records the scope `host`'s challenge named. */
  setScope(host: string, scope: string): void {
    const entry = this.hosts.get(host);
    if (entry) entry.scope = scope;
  }

  /** Closes the pools of hosts unused for `idleMs` (called periodically). */
  sweep(): void {
    const idleBefore = this.now() - (this.props.idleMs ?? 600_000);
    for (const entry of [...this.hosts.values()]) if (entry.lastUsed < idleBefore) this.closeIfIdle(entry);
  }

  /** Closes every pool (provider shutdown). */
  close(): void {
    for (const entry of [...this.hosts.values()]) this.remove(entry);
  }

  private evictHosts(keep: VaultHost): void {
    const max = this.props.maxHosts ?? 256;
    for (const entry of [...this.hosts.values()]) {
      if (this.hosts.size <= max) break;
      if (entry !== keep) this.closeIfIdle(entry);
    }
  }

  private closeIfIdle(entry: VaultHost): void {
    if (entry.active > 0 || entry.bucket.pending > 0 || this.hosts.get(entry.host) !== entry) return;
    this.remove(entry);
  }

  private remove(entry: VaultHost): void {
    this.hosts.delete(entry.host);
    entry.agent.destroy();
  }
}
