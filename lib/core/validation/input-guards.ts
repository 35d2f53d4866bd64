import { ValidationError } from './validation-error';

// Guards for props that arrive from JavaScript or YAML-built objects, where TypeScript's types do
// not hold: a number for an octal string, "true" for a boolean, a missing required string.

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string "${value}"`;
  if (Array.isArray(value)) return 'an array';
  return `${typeof value} ${typeof value === 'object' ? '' : String(value)}`.trim();
}

/** Throws unless `value` is a string. */
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

/** Throws unless `value` is undefined or a boolean. */
export function optionalBoolean(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ValidationError(
      field,
      `must be true or false but is ${describe(value)}; use a boolean, not a string`,
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
