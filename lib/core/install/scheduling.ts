import { isDns1123Label, isDns1123Subdomain, isLabelValue, isQualifiedKey } from '../validation/kube-names';
import { ValidationError } from '../validation/validation-error';
import { checkArray, checkKnownKeys, checkString } from './option-checks';

// Plain-data shapes for where and how big the install's pods are, plus their validation, shared by
// both DaemonSets. Interfaces without unions so a Pulumi component can take them unchanged.

/** Container resource requests/limits (Kubernetes quantities, e.g. "50m", "100Mi"). */
export interface ContainerResources {
  /** @default no requests */
  readonly requests?: ResourceQuantities;
  /** @default no limits */
  readonly limits?: ResourceQuantities;
}

export interface ResourceQuantities {
  /** CPU quantity, e.g. "50m" or "0.5". @default unset */
  readonly cpu?: string;
  /** Memory quantity, e.g. "100Mi". @default unset */
  readonly memory?: string;
}

/** A pod toleration, as in the Kubernetes API. */
export interface Toleration {
  /** Taint key; empty with operator Exists matches every taint. @default matches all keys */
  readonly key?: string;
  /** 'Exists' or 'Equal'. @default 'Equal' */
  readonly operator?: string;
  /** Taint value for operator Equal. @default '' */
  readonly value?: string;
  /** 'NoSchedule', 'PreferNoSchedule' or 'NoExecute'; empty matches all effects. @default all effects */
  readonly effect?: string;
  /** Seconds a NoExecute taint is tolerated. @default forever */
  readonly tolerationSeconds?: number;
}

// Kubernetes resource.Quantity: a signed decimal number with an optional SI, binary or exponent suffix.
const QUANTITY = /^[+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const TOLERATION_OPERATORS = ['Exists', 'Equal'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export function checkResources(field: string, resources: ContainerResources | undefined): void {
  checkKnownKeys(field, resources, ['requests', 'limits']);
  for (const kind of ['requests', 'limits'] as const) {
    const quantities = resources?.[kind];
    checkKnownKeys(`${field}.${kind}`, quantities, ['cpu', 'memory']);
    for (const resource of ['cpu', 'memory'] as const) {
      const value = quantities?.[resource];
      checkString(`${field}.${kind}.${resource}`, value, resource === 'cpu' ? '50m' : '100Mi');
      if (value !== undefined && !QUANTITY.test(value)) {
        throw new ValidationError(
          `${field}.${kind}.${resource}`,
          `"${value}" is not a Kubernetes quantity; write e.g. ${resource === 'cpu' ? '"50m" or "0.5"' : '"100Mi" or "1Gi"'}`,
        );
      }
    }
  }
}

export function checkTolerations(field: string, tolerations: readonly Toleration[]): void {
  checkArray(field, tolerations);
  tolerations.forEach((toleration, index) => {
    const at = `${field}[${index}]`;
    checkKnownKeys(at, toleration, ['key', 'operator', 'value', 'effect', 'tolerationSeconds']);
    const operator = toleration.operator ?? 'Equal';
    if (!TOLERATION_OPERATORS.includes(operator)) {
      throw new ValidationError(
        `${at}.operator`,
        `"${operator}" is not a toleration operator; use "Exists" or "Equal"`,
      );
    }
    if (operator === 'Exists' && toleration.value) {
      throw new ValidationError(
        `${at}.value`,
        `must be empty when operator is "Exists" (got "${toleration.value}")`,
      );
    }
    if (!toleration.key && operator !== 'Exists') {
      throw new ValidationError(
        `${at}.key`,
        'is required unless operator is "Exists" (which then tolerates every taint)',
      );
    }
    if (toleration.effect && !TAINT_EFFECTS.includes(toleration.effect)) {
      throw new ValidationError(
        `${at}.effect`,
        `"${toleration.effect}" is not a taint effect; use one of ${TAINT_EFFECTS.join(', ')} or leave it empty for all`,
      );
    }
  });
}

export function checkLabelMap(field: string, labels: Readonly<Record<string, string>>): void {
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    throw new ValidationError(field, `must be a map of label keys to values, e.g. { agentpool: "system" }`);
  }
  for (const [key, value] of Object.entries(labels)) {
    checkString(`${field}["${key}"]`, value, 'system');
    if (!isQualifiedKey(key)) {
      throw new ValidationError(
        `${field}["${key}"]`,
        'is not a valid label key; use [prefix/]name with a DNS-subdomain prefix and a name of up to 63 letters, digits, "-", "_" or "."',
      );
    }
    if (!isLabelValue(value)) {
      throw new ValidationError(
        `${field}["${key}"]`,
        `value "${value}" is not a valid label value; use up to 63 letters, digits, "-", "_" or ".", starting and ending alphanumeric`,
      );
    }
  }
}

export function checkDnsSubdomain(field: string, value: string): void {
  if (!isDns1123Subdomain(value)) {
    throw new ValidationError(
      field,
      `"${value}" is not a valid name; use lower-case letters, digits, "-" and ".", starting and ending alphanumeric`,
    );
  }
}

export function checkDnsLabel(field: string, value: string): void {
  if (!isDns1123Label(value)) {
    throw new ValidationError(
      field,
      `"${value}" is not a valid namespace name; use at most 63 lower-case letters, digits and "-", starting and ending alphanumeric`,
    );
  }
}

export function checkAbsolutePath(field: string, value: string): void {
  if (!value.startsWith('/') || value.split('/').includes('..') || /\s/.test(value)) {
    throw new ValidationError(
      field,
      `"${value}" must be an absolute host path without ".." or spaces, e.g. "/var/lib/kubelet"`,
    );
  }
}

/** Drops undefined fields so rendered objects contain only what was set. */
export function resourcesJson(resources: ContainerResources): Record<string, unknown> {
  const clean = (q?: ResourceQuantities) =>
    q && Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined));
  return Object.fromEntries(
    Object.entries({ requests: clean(resources.requests), limits: clean(resources.limits) }).filter(
      ([, v]) => v !== undefined && Object.keys(v).length > 0,
    ),
  );
}
