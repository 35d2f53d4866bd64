import { nearestName } from './nearest-name';
import { ValidationError } from './validation-error';

// Guards for props that arrive from JavaScript, YAML-built objects or untyped config, where
// TypeScript's types do not hold: a number for an octal string, "true" for a boolean, a missing
// required string, a misspelt key that would otherwise be ignored (the user believes rotation is
// every 5m while the default applies). Every rule in lib/core takes (value, field, ...), in that order.

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string "${value}"`;
  if (Array.isArray(value)) return 'an array';
  return `${typeof value} ${typeof value === 'object' ? '' : String(value)}`.trim();
}

/** Throws unless `value` is a string; `example` is shown as written, e.g. `"2m"`. */
export function requireString(value: unknown, field: string, example: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new ValidationError(
      field,
      `must be a string but is ${describe(value)}; write it in quotes, e.g. ${example}`,
    );
  }
}

/** Throws unless `value` is undefined or a string. */
export function optionalString(value: unknown, field: string, example: string): void {
  if (value !== undefined) requireString(value, field, example);
}

/** Throws unless `value` is undefined or a boolean (not the string "true"). */
export function optionalBoolean(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ValidationError(
      field,
      `must be true or false but is ${describe(value)}; write a boolean without quotes`,
    );
  }
}

/** Throws unless `value` is an array. */
export function requireArray(
  value: unknown,
  field: string,
  example: string,
): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) {
    throw new ValidationError(field, `must be a list but is ${describe(value)}; e.g. ${example}`);
  }
}

/** Throws unless `value` is undefined or an array. */
export function optionalArray(value: unknown, field: string, example: string): void {
  if (value !== undefined) requireArray(value, field, example);
}

/**
 * Throws unless `value` is undefined or an object whose keys are all in `known` (keys set to
 * undefined are ignored), suggesting the closest known key for a misspelt one. `field` '' is the top level.
 */
export function rejectUnknownKeys(value: unknown, field: string, known: readonly string[]): void {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError(
      field || 'options',
      `must be an object with the keys ${known.join(', ')} but is ${describe(value)}`,
    );
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key) || (value as Record<string, unknown>)[key] === undefined) continue;
    const suggestion = nearestName(key, known);
    throw new ValidationError(
      field ? `${field}.${key}` : key,
      `is not an option${suggestion ? `; did you mean "${suggestion}"?` : ''} Known options: ${known.join(', ')}`,
    );
  }
}
