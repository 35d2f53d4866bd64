import { KeyVaultObject } from './types';

// Field order as in the upstream docs; also the order the parser reports.
const FIELD_ORDER = [
  'objectName',
  'objectType',
  'objectAlias',
  'objectVersion',
  'objectVersionHistory',
  'objectFormat',
  'objectEncoding',
  'filePermission',
] as const;

// Plain scalars are safe when yaml.v3 keeps their text as-is for a Go string field; null-like words
// would decode to "" and anything with YAML indicators needs quoting.
const PLAIN_SAFE = /^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$/;
const NULL_WORDS = new Set(['~', 'null', 'Null', 'NULL']);

function scalar(value: string | number): string {
  if (typeof value === 'number') return String(value);
  if (PLAIN_SAFE.test(value) && !NULL_WORDS.has(value)) return value;
  // JSON string syntax is valid YAML double-quoted syntax.
  return JSON.stringify(value);
}

/**
 * Renders the `objects` SecretProviderClass parameter exactly in the shape the Azure provider
 * parses: a map with `array:` whose items are YAML documents in `- |` block scalars.
 */
export function renderObjectsParameter(objects: readonly KeyVaultObject[]): string {
  if (objects.length === 0) return 'array: []\n';
  const items = objects.map((object) => {
    const lines = FIELD_ORDER.filter((field) => object[field] !== undefined).map(
      (field) => `    ${field}: ${scalar(object[field] as string | number)}`,
    );
    return `  - |\n${lines.join('\n')}\n`;
  });
  return `array:\n${items.join('')}`;
}
