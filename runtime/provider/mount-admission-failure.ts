// The answer of a Mount whose call ended while it still waited in the admission gate: it never
// started, so no vault or Entra ID is to blame. The text says how long it waited, what was ahead of it
// and the fix (the provider is short of CPU for the burst). Only numbers and flag names: nothing of
// the request, no secret, no token. Codes as for any Mount whose call ends: DEADLINE_EXCEEDED when the
// provider answers ahead of the driver's deadline (P26), UNKNOWN (upstream's) when the driver cancelled.
import { status as grpcStatus } from '@grpc/grpc-js';
import type { AdmissionWaitEnded } from './mount-admission';
import { MountDeadlineError } from './mount-deadline';
import { MountFailure } from './mount-failure';

const FIX =
  "raise the provider's CPU limit (providerResources.limits.cpu of the install) or --mount-admission-slots so Mounts start sooner";

/** The driver's text for a Mount that left the admission queue without a turn. */
export function admissionWaitText(ended: AdmissionWaitEnded): string {
  const queue =
    `in this provider's admission queue (${count(ended.running, 'Mount')} running, ` +
    `--mount-admission-slots=${ended.slots}; ${count(ended.ahead, 'Mount')} waiting ahead of it)`;
  const waited = seconds(ended.waitedMs);
  if (ended.cause instanceof MountDeadlineError)
    return (
      `the Mount waited ${waited} ${queue} and the driver's deadline of ${seconds(ended.cause.timeoutMs)} ` +
      `passed before it started (this provider answers ${seconds(ended.cause.marginMs)} before it); ` +
      `nothing was mounted; the kubelet retries the mount; ${FIX}`
    );
  return `the driver cancelled the Mount call after it waited ${waited} ${queue}, before it started; nothing was mounted; ${FIX}`;
}

/** The failure the driver gets, wrapped as upstream wraps every Mount error. */
export function admissionWaitFailure(ended: AdmissionWaitEnded): MountFailure {
  return new MountFailure(
    `failed to mount objects, error: ${admissionWaitText(ended)}`,
    'cancelled',
    ended.cause instanceof MountDeadlineError ? grpcStatus.DEADLINE_EXCEEDED : undefined,
  );
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
