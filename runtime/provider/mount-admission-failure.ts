// The answer of a Mount whose call ended while it still waited in the admission gate: it never
// started, so no vault or Entra ID is to blame. The text says how long it waited, what was ahead of it
// and the fix (the provider is short of CPU for the burst). Only numbers and flag names: nothing of
// the request, no secret, no token. Codes as for any Mount whose call ends: DEADLINE_EXCEEDED when the
// provider answers ahead of the driver's deadline (P26), UNKNOWN (upstream's) when the driver cancelled.
// Each text is written out whole in its constructor, so the doctor's catalogue test sees it.
import { status as grpcStatus } from '@grpc/grpc-js';
import type { AdmissionWaitEnded } from './mount-admission';
import { MountDeadlineError } from './mount-deadline';
import { MountFailure } from './mount-failure';

const FIX =
  "raise the provider's CPU limit (providerResources.limits.cpu of the install) or --mount-admission-slots so Mounts start sooner";

/** The failure the driver gets for a Mount that left the admission queue without a turn. */
export function admissionWaitFailure(ended: AdmissionWaitEnded): MountFailure {
  const waited = seconds(ended.waitedMs);
  const running = count(ended.running, 'Mount');
  const ahead = count(ended.ahead, 'Mount');
  const deadline = ended.cause;
  if (deadline instanceof MountDeadlineError)
    return new MountFailure(
      `failed to mount objects, error: the Mount waited ${waited} in this provider's admission queue (${running} running, --mount-admission-slots=${ended.slots}; ${ahead} waiting ahead of it) and the driver's deadline of ${seconds(deadline.timeoutMs)} passed before it started (this provider answers ${seconds(deadline.marginMs)} before it); nothing was mounted; the kubelet retries the mount; ${FIX}`,
      'cancelled',
      grpcStatus.DEADLINE_EXCEEDED,
    );
  return new MountFailure(
    `failed to mount objects, error: the driver cancelled the Mount call after it waited ${waited} in this provider's admission queue (${running} running, --mount-admission-slots=${ended.slots}; ${ahead} waiting ahead of it), before it started; nothing was mounted; ${FIX}`,
    'cancelled',
  );
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
