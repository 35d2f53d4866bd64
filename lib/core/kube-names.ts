import { ValidationError } from './validation-error';

// Kubernetes name rules (k8s.io/apimachinery validation), checked at synth time so a bad name fails
// here instead of at `kubectl apply`.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Object names such as SecretProviderClass, Secret, ServiceAccount (RFC 1123 subdomain). */
export function validateDns1123Subdomain(value: string, field: string): void {
  if (value.length > 253 || !DNS1123_SUBDOMAIN.test(value)) {
    throw new ValidationError(
      field,
      `"${value}" is not a valid Kubernetes name; use at most 253 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. "app-secrets")`,
    );
  }
}

/** Namespaces, volume names and other RFC 1123 labels; `what` names the kind of name in the message. */
export function validateDns1123Label(value: string, field: string, what = 'Kubernetes namespace'): void {
  if (value.length > 63 || !DNS1123_LABEL.test(value)) {
    throw new ValidationError(
      field,
      `"${value}" is not a valid ${what}; use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. "team-a")`,
    );
  }
}

/** A key in a Secret's `data`. */
export function validateSecretKey(value: string, field: string): void {
  if (value.length > 253 || !SECRET_KEY.test(value)) {
    throw new ValidationError(
      field,
      `"${value}" is not a valid Secret data key; use at most 253 letters, digits, '-', '_' and '.' (e.g. "username", "tls.crt")`,
    );
  }
}

function validateQualifiedKey(key: string, field: string, what: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS1123_SUBDOMAIN.test(prefix));
  if (!prefixOk || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    throw new ValidationError(
      field,
      `${what} key "${key}" is invalid; use an optional DNS-subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and '.' starting and ending with a letter or digit (e.g. "example.com/team")`,
    );
  }
}

/** Label keys and values. */
export function validateLabels(labels: Readonly<Record<string, string>> | undefined, field: string): void {
  for (const [key, value] of Object.entries(labels ?? {})) {
    validateQualifiedKey(key, `${field}["${key}"]`, 'label');
    if (value.length > 63 || !LABEL_VALUE.test(value)) {
      throw new ValidationError(
        `${field}["${key}"]`,
        `label value "${value}" is invalid; use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, or ""`,
      );
    }
  }
}

/** Annotation keys (values are free text). */
export function validateAnnotations(
  annotations: Readonly<Record<string, string>> | undefined,
  field: string,
): void {
  for (const key of Object.keys(annotations ?? {}))
    validateQualifiedKey(key, `${field}["${key}"]`, 'annotation');
}
