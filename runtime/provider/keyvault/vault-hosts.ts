// What the provider keeps per Key Vault host: one HTTP connection pool (an https.Agent shared by
// every identity's SDK clients for that host; each request carries its own bearer token), the
// host's token bucket, and the SDK client sets of the identities that use it. Memory stays flat
// across identities and vaults: client sets are bounded in number across all hosts, hosts are
// bounded too, and a host whose last client set goes (or that sits idle) has its pool closed, so
// no socket or TLS buffer outlives its use. A host with calls in flight is never closed.
import { Agent, AgentOptions } from 'node:https';
import { TokenBucket } from './token-bucket';

/** Options of the host table. */
export interface VaultHostsProps {
  /** Token bucket rate per vault host, requests/s. */
  readonly ratePerSecond: number;
  /** Token bucket burst per vault host. */
  readonly burst: number;
  /** Most client sets (identity × vault) kept, over all hosts. @default 1000 */
  readonly maxClientSets?: number;
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
export interface VaultHost<C> {
  readonly host: string;
  /** The host's connection pool. */
  readonly agent: Agent;
  readonly bucket: TokenBucket;
  readonly clientSets: Map<string, C>;
  /** Calls in flight (the host is not closed while > 0). */
  active: number;
  lastUsed: number;
}

export class VaultHosts<C> {
  private readonly hosts = new Map<string, VaultHost<C>>();
  /** Every client set, least recently used first, with the host it belongs to. */
  private readonly clientOrder = new Map<string, VaultHost<C>>();
  private readonly now: () => number;

  constructor(private readonly props: VaultHostsProps) {
    this.now = props.now ?? Date.now;
  }

  get hostCount(): number {
    return this.hosts.size;
  }

  get clientSetCount(): number {
    return this.clientOrder.size;
  }

  /** The entry of `host`, created on first use. */
  host(host: string): VaultHost<C> {
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
        }),
        bucket: new TokenBucket({ ratePerSecond: this.props.ratePerSecond, burst: this.props.burst }),
        clientSets: new Map(),
        active: 0,
        lastUsed: this.now(),
      };
    }
    entry.lastUsed = this.now();
    this.hosts.set(host, entry);
    this.evictHosts(entry);
    return entry;
  }

  /** The client set `key` of `host`, made by `create` on first use. */
  clientSet(host: VaultHost<C>, key: string, create: () => C): C {
    let clients = host.clientSets.get(key);
    if (!clients) {
      clients = create();
      host.clientSets.set(key, clients);
    }
    this.clientOrder.delete(key);
    this.clientOrder.set(key, host);
    const max = this.props.maxClientSets ?? 1000;
    for (const [oldest, owner] of this.clientOrder) {
      if (this.clientOrder.size <= max) break;
      this.clientOrder.delete(oldest);
      owner.clientSets.delete(oldest);
      if (owner.clientSets.size === 0) this.closeIfIdle(owner);
    }
    return clients;
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

  private evictHosts(keep: VaultHost<C>): void {
    const max = this.props.maxHosts ?? 256;
    for (const entry of [...this.hosts.values()]) {
      if (this.hosts.size <= max) break;
      if (entry !== keep) this.closeIfIdle(entry);
    }
  }

  private closeIfIdle(entry: VaultHost<C>): void {
    if (entry.active > 0 || entry.bucket.pending > 0 || this.hosts.get(entry.host) !== entry) return;
    this.remove(entry);
  }

  private remove(entry: VaultHost<C>): void {
    this.hosts.delete(entry.host);
    for (const key of entry.clientSets.keys()) this.clientOrder.delete(key);
    entry.clientSets.clear();
    entry.agent.destroy();
  }
}
