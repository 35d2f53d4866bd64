// A cold vault host is sent requests without a token until one of them has taken the 401 bearer
// challenge and learnt its scope; requests sent in parallel before that each get their own challenge
// (10 objects of a cold Mount = 10 challenges and 10 extra round trips). The gate lets the first call
// of a host go alone and releases the rest, in parallel, once a call got through with a bearer token;
// if the leader fails before that, the next waiter leads.
import { KeyVaultRestError } from './key-vault-rest';

/** True when a failed call still proves the vault accepted the token it carried. */
export function failedAfterAuthentication(err: unknown): boolean {
  if (!(err instanceof KeyVaultRestError) || err.statusCode === undefined || err.statusCode === 401)
    return false;
  return err.authenticated;
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
