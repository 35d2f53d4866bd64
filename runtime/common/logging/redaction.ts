// Keeps secret values and service-account tokens out of everything we print (CVE-2023-2878 was
// tokens in driver logs). Three layers: values under sensitive keys are replaced, values registered
// as secret are replaced wherever they appear in a string, and anything shaped like a JWT is replaced.
// The process-wide redactor (every value seen) is for logs only. Text returned to a caller is
// scrubbed with a request scope (`scope()`) holding only what that request fetched or sent: the
// process-wide list holds other identities' secrets, and replacing one of them in an echo of the
// caller's own input would tell the caller that its guess was right.
export const REDACTED = '[REDACTED]';

// Lower-cased key suffixes whose values are always secret. `secretProviderClass` does not match
// (it does not end in one of these); `clientSecret`, `accessToken`, `csi.storage.k8s.io/serviceAccount.tokens` do.
const SENSITIVE_KEY_SUFFIXES = [
  'token',
  'tokens',
  'secret',
  'secrets',
  'clientsecret',
  'password',
  'assertion',
  'authorization',
  'contents',
  'credential',
  'credentials',
];

// Three base64url segments starting with a JSON header `{"`: a JWT (service-account or Entra token),
// in any letter case (an error that upper-cases its input, as go-autorest's cloud lookup does, must
// not print a token either).
const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/gi;

/** Options of a Redactor. */
export interface RedactorProps {
  /** Registered values shorter than this are not matched inside strings (would mangle every line). @default 4 */
  readonly minSecretLength?: number;
  /** Bound on remembered secret values; the oldest are forgotten first. @default 2000 */
  readonly maxSecrets?: number;
  /** Longer values are not remembered (bounds the memory of a long-lived redactor). @default no bound */
  readonly maxSecretLength?: number;
  /** Also receives every value registered here (a request scope passes its values on to the log redactor). @default none */
  readonly parent?: Redactor;
}

export class Redactor {
  private readonly secrets = new Set<string>();
  private readonly minSecretLength: number;
  private readonly maxSecrets: number;
  private readonly maxSecretLength: number;
  private readonly parent: Redactor | undefined;
  // Sorted longest first so a value containing another is replaced whole.
  private sortedCache: string[] | undefined;

  constructor(props: RedactorProps = {}) {
    this.minSecretLength = props.minSecretLength ?? 4;
    this.maxSecrets = props.maxSecrets ?? 2000;
    this.maxSecretLength = props.maxSecretLength ?? Infinity;
    this.parent = props.parent;
  }

  /**
   * A redactor for one request: it replaces what is registered on it (and JWT-shaped text), never
   * what other requests registered, and passes every value on to this one, so logs still replace it.
   */
  scope(): Redactor {
    return new Redactor({ minSecretLength: this.minSecretLength, maxSecrets: this.maxSecrets, parent: this });
  }

  /** True when a value stored under `key` must never be printed. */
  static isSensitiveKey(key: string): boolean {
    const lower = key.toLowerCase();
    return SENSITIVE_KEY_SUFFIXES.some(
      (suffix) => lower === suffix || lower.endsWith(suffix) || lower.endsWith(`_${suffix}`),
    );
  }

  /** Remembers a value (a secret, a token) so it is replaced wherever it later appears in output. */
  registerSecret(value: string | undefined): void {
    this.parent?.registerSecret(value);
    if (!value || value.length < this.minSecretLength || value.length > this.maxSecretLength) return;
    if (this.secrets.has(value)) return;
    if (this.secrets.size >= this.maxSecrets) {
      const oldest = this.secrets.values().next().value;
      if (oldest !== undefined) this.secrets.delete(oldest);
    }
    this.secrets.add(value);
    this.sortedCache = undefined;
  }

  /** Replaces registered secrets and JWT-shaped text inside a string. */
  redactString(text: string): string {
    let out = text.replace(JWT_PATTERN, REDACTED);
    if (this.secrets.size === 0) return out;
    this.sortedCache ??= [...this.secrets].sort((a, b) => b.length - a.length);
    for (const secret of this.sortedCache) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out;
  }

  /** Deep copy of `value` with every sensitive key's value and every secret substring replaced. */
  redact(value: unknown, depth = 0): unknown {
    if (depth > 8) return '[TOO DEEP]';
    if (typeof value === 'string') return this.redactString(value);
    if (value === null || typeof value !== 'object') return value;
    if (value instanceof Error) {
      const code = (value as { code?: unknown }).code;
      return {
        name: value.name,
        message: this.redactString(value.message),
        ...(code !== undefined ? { code: this.redact(code, depth + 1) } : {}),
      };
    }
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.length} bytes]`;
    if (Array.isArray(value)) return value.map((item) => this.redact(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      out[key] =
        Redactor.isSensitiveKey(key) && item !== undefined && item !== ''
          ? REDACTED
          : this.redact(item, depth + 1);
    }
    return out;
  }
}

/** The process-wide redactor of log lines; never for text a caller gets back (see `scope()`). */
export const defaultRedactor = new Redactor({ maxSecretLength: 4096 });
