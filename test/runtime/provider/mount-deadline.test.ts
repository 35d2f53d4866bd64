// The provider answers a Mount a little before the driver's gRPC deadline, saying what did not answer.
import {
  abortBeforeDeadline,
  answerMarginMs,
  deadlineText,
  MountDeadlineError,
} from '../../../runtime/provider/mount-deadline';

describe('answerMarginMs', () => {
  it('is 20 % of the time the Mount had, at most 1 s, never negative', () => {
    expect(answerMarginMs(2_000)).toBe(400);
    expect(answerMarginMs(5_000)).toBe(1_000);
    expect(answerMarginMs(120_000)).toBe(1_000);
    expect(answerMarginMs(0)).toBe(0);
    expect(answerMarginMs(-50)).toBe(0);
  });
});

describe('abortBeforeDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('aborts with a MountDeadlineError the margin before the deadline', () => {
    const controller = new AbortController();
    abortBeforeDeadline(new Date(10_000 + 5_000), controller, 10_000);
    jest.advanceTimersByTime(3_999);
    expect(controller.signal.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect(controller.signal.reason).toBeInstanceOf(MountDeadlineError);
    expect((controller.signal.reason as MountDeadlineError).timeoutMs).toBe(5_000);
    expect((controller.signal.reason as MountDeadlineError).marginMs).toBe(1_000);
  });

  it('does nothing without a deadline (Infinity) and once cancelled', () => {
    const none = new AbortController();
    abortBeforeDeadline(Infinity, none);
    const cancelled = new AbortController();
    abortBeforeDeadline(Date.now() + 1_000, cancelled)();
    jest.advanceTimersByTime(60_000);
    expect(none.signal.aborted).toBe(false);
    expect(cancelled.signal.aborted).toBe(false);
  });

  it('aborts at once when the deadline has already passed', () => {
    const controller = new AbortController();
    abortBeforeDeadline(5_000, controller, 10_000);
    jest.advanceTimersByTime(0);
    expect(controller.signal.reason).toBeInstanceOf(MountDeadlineError);
  });
});

describe('deadlineText', () => {
  const deadline = new MountDeadlineError(5_000, 1_000);
  const tail =
    "within the driver's deadline of 5.0 s (this provider answers 1.0 s before it); nothing was mounted; the kubelet retries the mount";

  it('names the vault, or Entra ID when the vault call waited for its token', () => {
    expect(
      deadlineText(deadline, { on: 'keyvault', vault: 'kv1', vaultUrl: 'https://kv1.vault.azure.net/' }),
    ).toBe(`no answer from Key Vault kv1 (https://kv1.vault.azure.net/) ${tail}`);
    expect(
      deadlineText(deadline, {
        on: 'keyvault',
        vault: 'kv1',
        vaultUrl: 'https://kv1.vault.azure.net/',
        entra: 'https://login.microsoftonline.com/t1',
      }),
    ).toBe(
      `no answer from Entra ID (https://login.microsoftonline.com/t1) to the token request for Key Vault kv1 (https://kv1.vault.azure.net/) ${tail}`,
    );
  });

  it('says when a 429 Retry-After holds the vault past the deadline', () => {
    expect(
      deadlineText(deadline, {
        on: 'keyvault',
        vault: 'kv1',
        vaultUrl: 'https://kv1.vault.azure.net/',
        throttledForMs: 26_000,
      }),
    ).toBe(
      "Key Vault kv1 (https://kv1.vault.azure.net/) throttled this provider (429) and its Retry-After holds the vault's calls 26.0 s past the driver's deadline of 5.0 s (this provider answers 1.0 s before it); nothing was mounted; the kubelet retries the mount",
    );
  });

  it('names Entra ID and the client for a workload identity exchange, and says when the request never got that far', () => {
    expect(
      deadlineText(deadline, {
        on: 'entra',
        authority: 'https://login.microsoftonline.com/t1',
        clientId: 'c1',
      }),
    ).toBe(
      `no answer from Entra ID (https://login.microsoftonline.com/t1) to the token request of client c1 ${tail}`,
    );
    expect(deadlineText(deadline, { on: 'request' })).toBe(`the Mount did not finish ${tail}`);
  });
});
