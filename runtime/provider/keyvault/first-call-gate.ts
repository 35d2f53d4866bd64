// A cold Azure SDK Key Vault client sends each request unauthenticated until one of them has taken
// the 401 bearer challenge and its token; requests sent in parallel before that each get their own
// challenge (10 objects of a cold Mount = 10 challenges and 10 extra round trips). The gate lets the
// first call of a client go alone and releases the rest, in parallel, once a call got through with
// a bearer token; if the leader fails before that, the next waiter leads.
import { isRestError } from '@azure/core-rest-pipeline';

/** True when a failed call still proves the client holds a token the vault accepted. */
export function failedAfterAuthentication(err: unknown): boolean {
  if (!isRestError(err) || err.statusCode === undefined || err.statusCode === 401) return false;
  return err.request?.headers.has('authorization') ?? false;
}

export class FirstCallGate {
  private warm = false;
  private leader?: Promise<void>;

  /** Whether a call has already got through authentication. */
  get isWarm(): boolean {
    return this.warm;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    // Waiters re-check after each leader: the first to wake while still cold becomes the next leader
    // (the check and the claim happen in one synchronous step).
    while (!this.warm && this.leader) await this.leader;
    if (this.warm) return call();
    let release!: () => void;
    this.leader = new Promise<void>((resolve) => (release = resolve));
    try {
      const value = await call();
      this.warm = true;
      return value;
    } catch (err) {
      if (failedAfterAuthentication(err)) this.warm = true;
      throw err;
    } finally {
      this.leader = undefined;
      release();
    }
  }
}
