// Our addition to the driver ⇄ provider contract: a Mount answered with last known content (Key Vault
// unavailable) says so in two gRPC response headers. Headers, not a MountResponse field: the upstream
// driver ignores headers it does not ask for, so the message stays exactly upstream's. Our driver reads
// them and records a Warning Event on the pod. Both values come from closed forms (an integer, a
// reason from a fixed list), so nothing a caller or Key Vault said can travel in them.
import * as grpc from '@grpc/grpc-js';

/** Age of the content in whole seconds. */
export const LAST_KNOWN_CONTENT_AGE_HEADER = 'x-aks-secrets-store-last-known-content-age-seconds';
/** Why Key Vault's answer could not be used: one of {@link OUTAGE_REASONS}. */
export const LAST_KNOWN_CONTENT_REASON_HEADER = 'x-aks-secrets-store-last-known-content-reason';

/** The Key Vault failures that count as an outage (MountFailureReason values). */
export const OUTAGE_REASONS = [
  'keyvault_server_error',
  'keyvault_timeout',
  'keyvault_throttled',
  'keyvault_network',
] as const;
export type OutageReason = (typeof OUTAGE_REASONS)[number];

/** What a Mount answered with last known content tells the driver. */
export interface LastKnownContentNotice {
  /** How old the content is, whole seconds. */
  readonly ageSeconds: number;
  readonly reason: OutageReason;
}

/** Longest age a driver believes (a week, the install's limit, plus slack). */
const MAX_AGE_SECONDS = 8 * 24 * 3600;

export function isOutageReason(reason: string): reason is OutageReason {
  return (OUTAGE_REASONS as readonly string[]).includes(reason);
}

/** The response headers of a Mount answered with last known content. */
export function lastKnownContentMetadata(notice: LastKnownContentNotice): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(LAST_KNOWN_CONTENT_AGE_HEADER, String(Math.max(0, Math.floor(notice.ageSeconds))));
  metadata.set(LAST_KNOWN_CONTENT_REASON_HEADER, notice.reason);
  return metadata;
}

/** The notice in a Mount's response headers; undefined when absent or not well formed. */
export function readLastKnownContentNotice(metadata: grpc.Metadata): LastKnownContentNotice | undefined {
  const [age] = metadata.get(LAST_KNOWN_CONTENT_AGE_HEADER);
  const [reason] = metadata.get(LAST_KNOWN_CONTENT_REASON_HEADER);
  if (typeof age !== 'string' || typeof reason !== 'string') return undefined;
  if (!/^[0-9]{1,9}$/.test(age) || !isOutageReason(reason)) return undefined;
  const ageSeconds = Number(age);
  if (ageSeconds > MAX_AGE_SECONDS) return undefined;
  return { ageSeconds, reason };
}
