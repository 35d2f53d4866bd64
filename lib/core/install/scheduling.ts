import { optionalString, rejectUnknownKeys, requireArray } from '../validation/input-guards';
import { ValidationError } from '../validation/validation-error';

// Plain-data shapes for where and how big the install's pods are, plus their rules, shared by both
// DaemonSets. Interfaces without unions so a Pulumi component can take them unchanged.

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

/** Validates requests/limits: known keys, and Kubernetes quantities as strings. */
export function validateResources(resources: ContainerResources | undefined, field: string): void {
  rejectUnknownKeys(resources, field, ['requests', 'limits']);
  for (const kind of ['requests', 'limits'] as const) {
    const quantities = resources?.[kind];
    rejectUnknownKeys(quantities, `${field}.${kind}`, ['cpu', 'memory']);
    for (const resource of ['cpu', 'memory'] as const) {
      const value = quantities?.[resource];
      const at = `${field}.${kind}.${resource}`;
      optionalString(value, at, resource === 'cpu' ? '"50m"' : '"100Mi"');
      if (value !== undefined && !QUANTITY.test(value)) {
        throw new ValidationError(
          at,
          `"${value}" is not a Kubernetes quantity; write e.g. ${resource === 'cpu' ? '"50m" or "0.5"' : '"100Mi" or "1Gi"'}`,
        );
      }
    }
  }
}

/** Validates tolerations as the apiserver would, before they reach it. */
export function validateTolerations(tolerations: readonly Toleration[], field: string): void {
  requireArray(tolerations, field, "[{ operator: 'Exists' }]");
  tolerations.forEach((toleration, index) => {
    const at = `${field}[${index}]`;
    rejectUnknownKeys(toleration, at, ['key', 'operator', 'value', 'effect', 'tolerationSeconds']);
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
