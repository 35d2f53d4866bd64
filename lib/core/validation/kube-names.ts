import { requireString } from './input-guards';
import { ValidationError } from './validation-error';

// Kubernetes name rules (k8s.io/apimachinery validation), checked at synth time so a bad name fails
// here instead of at `kubectl apply`.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

// The predicates are the rules; the validators below word the one message each rule has.

/** Whether `value` is an RFC 1123 subdomain (object names: at most 253 characters). */
export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

/** Whether `value` is an RFC 1123 label (namespaces, volume names: at most 63 characters). */
export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

/** Whether `key` is a label or annotation key: an optional DNS-subdomain prefix and '/', then a qualified name. */
export function isQualifiedKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  return (
    (prefix === undefined || isDns1123Subdomain(prefix)) && name.length <= 63 && QUALIFIED_NAME.test(name)
  );
}

/** Whether `value` is a label value (empty, or at most 63 characters starting and ending alphanumeric). */
export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/**
 * Object names such as SecretProviderClass, Secret, ServiceAccount, PriorityClass (RFC 1123
 * subdomain); `what` names the kind of name in the message.
 */
export function validateDns1123Subdomain(value: string, field: string, what = 'Kubernetes name'): void {
  if (!isDns1123Subdomain(value)) {
    throw new ValidationError(
      field,
      `"${value}" is not a valid ${what}; use at most 253 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. "app-secrets")`,
    );
  }
}

/** Namespaces, volume names and other RFC 1123 labels; `what` names the kind of name in the message. */
export function validateDns1123Label(value: string, field: string, what = 'Kubernetes namespace'): void {
  if (!isDns1123Label(value)) {
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
  if (!isQualifiedKey(key)) {
    throw new ValidationError(
      field,
      `${what} key "${key}" is invalid; use an optional DNS-subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and '.' starting and ending with a letter or digit (e.g. "example.com/team")`,
    );
  }
}

/** Label keys and values (also a node selector's); undefined is no labels. */
export function validateLabels(labels: Readonly<Record<string, string>> | undefined, field: string): void {
  if (labels === undefined) return;
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    throw new ValidationError(field, 'must be a map of label keys to values, e.g. { team: "orders" }');
  }
  for (const [key, value] of Object.entries(labels)) {
    requireString(value, `${field}["${key}"]`, '"orders"');
    validateQualifiedKey(key, `${field}["${key}"]`, 'label');
    if (!isLabelValue(value)) {
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
