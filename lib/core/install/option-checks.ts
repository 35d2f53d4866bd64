import { ValidationError } from '../validation/validation-error';

// Checks for options written by hand in JavaScript, YAML-driven Pulumi programs or untyped config:
// a misspelt key would otherwise be ignored silently (the user believes rotation is every 5m while
// the default applies), and a "true" string would be truthy for the wrong reason.

/** Throws for a key that is not one of `known`, suggesting the closest known key. */
export function checkKnownKeys(field: string, value: object | undefined, known: readonly string[]): void {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError(field || 'options', `must be an object with the keys ${known.join(', ')}`);
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key) || (value as Record<string, unknown>)[key] === undefined) continue;
    const suggestion = closest(key, known);
    throw new ValidationError(
      field ? `${field}.${key}` : key,
      `is not an option${suggestion ? `; did you mean "${suggestion}"?` : ''} Known options: ${known.join(', ')}`,
    );
  }
}

/** Throws unless the value is undefined or a real boolean (not the string "true"). */
export function checkBoolean(field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ValidationError(field, `must be true or false (a boolean), got ${JSON.stringify(value)}`);
  }
}

/** Throws unless the value is undefined or a string; `example` shows the expected form. */
export function checkString(field: string, value: unknown, example: string): void {
  if (value !== undefined && typeof value !== 'string') {
    throw new ValidationError(
      field,
      `must be a string such as ${JSON.stringify(example)}, got ${JSON.stringify(value)}`,
    );
  }
}

/** Throws unless the value is undefined or an array. */
export function checkArray(field: string, value: unknown): void {
  if (value !== undefined && !Array.isArray(value)) {
    throw new ValidationError(field, `must be a list, got ${JSON.stringify(value)}`);
  }
}

/**
 * The known key nearest to `key`, case-insensitively: within edit distance 3, or one containing the
 * other, or `key` written with letters left out (rotationInterval → rotationPollInterval).
 */
function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: { name: string; score: number } | undefined;
  for (const name of known) {
    const candidate = name.toLowerCase();
    const related =
      candidate.includes(lower) || lower.includes(candidate) || isAbbreviation(lower, candidate);
    const distance = editDistance(lower, candidate);
    if (!related && distance > 3) continue;
    // A related name (prefix, abbreviation) beats a merely similar one of the same length.
    const score = distance - (related ? 100 : 0);
    if (!best || score < best.score) best = { name, score };
  }
  return best?.name;
}

/** True when every letter of `short` appears in `long` in order, starting with the same letter. */
function isAbbreviation(short: string, long: string): boolean {
  if (short.length < 3 || short[0] !== long[0] || short.length * 2 < long.length) return false;
  let at = 0;
  for (const char of long) if (char === short[at]) at++;
  return at === short.length;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
