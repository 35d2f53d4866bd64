// The driver gives every Mount a gRPC deadline. When it passes, the driver's client ends the call with
// a bare "Deadline exceeded" before the provider can say what it was waiting for. So the provider
// gives up a little before the deadline, and its answer names what did not answer in time: Key Vault
// (which vault, which object) or Entra ID (which tenant, which client). The code stays
// DEADLINE_EXCEEDED; the kubelet retries the mount as it does for any failed NodePublishVolume.

/** The margin before the driver's deadline: 20 % of the time the Mount had, at most 1 s. */
export function answerMarginMs(timeoutMs: number): number {
  return Math.min(1000, Math.max(0, timeoutMs) * 0.2);
}

/** The reason a Mount's signal aborts with when the provider answers ahead of the driver's deadline. */
export class MountDeadlineError extends Error {
  constructor(
    /** The time the driver gave the Mount, in ms. */
    readonly timeoutMs: number,
    /** How long before the deadline the provider answered, in ms. */
    readonly marginMs: number,
  ) {
    super(`the driver's deadline of ${seconds(timeoutMs)} passes in ${seconds(marginMs)}`);
    this.name = 'MountDeadlineError';
  }
}

/** What the Mount was waiting for when its deadline came. */
export type MountWait =
  | { readonly on: 'request' }
  | { readonly on: 'entra'; readonly authority: string; readonly clientId: string }
  | {
      readonly on: 'keyvault';
      readonly vault: string;
      readonly vaultUrl: string;
      /** The authority of a token request the vault call waited for. */
      readonly entra?: string;
      /** How much longer a 429's Retry-After holds the vault's calls, in ms. */
      readonly throttledForMs?: number;
    };

/** The text after upstream's `failed to get objectType:…:` prefix, or on its own for the request stage. */
export function deadlineText(deadline: MountDeadlineError, wait: MountWait): string {
  const within = `within the driver's deadline of ${seconds(deadline.timeoutMs)} (this provider answers ${seconds(deadline.marginMs)} before it)`;
  const retry = 'nothing was mounted; the kubelet retries the mount';
  switch (wait.on) {
    case 'entra':
      return `no answer from Entra ID (${wait.authority}) to the token request of client ${wait.clientId} ${within}; ${retry}`;
    case 'keyvault':
      if (wait.throttledForMs !== undefined && wait.throttledForMs > 0)
        return `Key Vault ${wait.vault} (${wait.vaultUrl}) throttled this provider (429) and its Retry-After holds the vault's calls ${seconds(wait.throttledForMs)} past the driver's deadline of ${seconds(deadline.timeoutMs)} (this provider answers ${seconds(deadline.marginMs)} before it); ${retry}`;
      return wait.entra
        ? `no answer from Entra ID (${wait.entra}) to the token request for Key Vault ${wait.vault} (${wait.vaultUrl}) ${within}; ${retry}`
        : `no answer from Key Vault ${wait.vault} (${wait.vaultUrl}) ${within}; ${retry}`;
    default:
      return `the Mount did not finish ${within}; ${retry}`;
  }
}

/**
 * Aborts `controller` with a {@link MountDeadlineError} {@link answerMarginMs} before `deadline` (a
 * Date, epoch ms, or Infinity for none). Returns the function that cancels the timer.
 */
export function abortBeforeDeadline(
  deadline: Date | number,
  controller: AbortController,
  now = Date.now(),
): () => void {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return () => undefined;
  const timeoutMs = at - now;
  const marginMs = answerMarginMs(timeoutMs);
  const timer = setTimeout(
    () => controller.abort(new MountDeadlineError(timeoutMs, marginMs)),
    Math.max(0, timeoutMs - marginMs),
  );
  return () => clearTimeout(timer);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
