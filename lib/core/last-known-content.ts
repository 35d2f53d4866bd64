import { parseDuration } from './duration';
import { ValidationError } from './validation/validation-error';

// Mounting through a Key Vault outage: a SecretProviderClass opts in with one parameter (ours; the
// upstream provider ignores parameters it does not know), the install sets how old the last known
// content may be (the provider flag --outage-max-staleness, off by default). Both are needed.

/**
 * SPC parameter (`"true"`): when Key Vault is unavailable (5xx, timeout, throttled past the deadline,
 * unreachable), a new pod of the same identity on the same node may be given the last content this
 * node's provider fetched for the same vault and objects. Never on 401/403/404 or identity failures.
 */
export const SERVE_LAST_KNOWN_CONTENT_PARAMETER = 'serveLastKnownContentOnOutage';

/** The provider flag that sets the maximum age of last known content (0s: off). */
export const OUTAGE_MAX_STALENESS_FLAG = 'outage-max-staleness';

/** Longest `outageMaxStaleness` accepted: a week covers a long outage; beyond that, content that old is a risk of its own. */
export const OUTAGE_MAX_STALENESS_LIMIT_MS = 7 * 24 * 3_600_000;

/**
 * Checks an install's `outageMaxStaleness` (a Go duration) and returns it in ms. Zero is refused:
 * leave the option out to keep the feature off.
 */
export function validateOutageMaxStaleness(value: string, field: string): number {
  const ms = parseDuration(value, field);
  if (ms <= 0) {
    throw new ValidationError(
      field,
      `"${value}" must be longer than zero; leave ${field} out to keep serving last known content off, or use e.g. "1h"`,
    );
  }
  if (ms > OUTAGE_MAX_STALENESS_LIMIT_MS) {
    throw new ValidationError(
      field,
      `"${value}" is longer than the 168h limit; content that old may hold revoked credentials. Use e.g. "1h" or "24h"`,
    );
  }
  if (ms < 1000) {
    throw new ValidationError(
      field,
      `"${value}" is shorter than one second, so no content would ever qualify; use e.g. "1h"`,
    );
  }
  return ms;
}
