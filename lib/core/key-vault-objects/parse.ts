import {
  Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  Node,
  parseAllDocuments,
  Scalar,
  YAMLMap,
  YAMLSeq,
} from 'yaml';
import { ParsedKeyVaultObject } from './types';

// The Azure provider's two-step decoding of the `objects` parameter (azure-provider §1.2), with
// Go yaml.v3 semantics: string fields keep the raw text of plain scalars ("0755" stays "0755").
// Errors are plain Errors carrying the upstream text, because the runtime provider returns them.

/** The string fields of a Key Vault object (every field but objectVersionHistory). */
export const OBJECT_STRING_FIELDS = [
  'objectName',
  'objectType',
  'objectAlias',
  'objectVersion',
  'objectFormat',
  'objectEncoding',
  'filePermission',
] as const;

const NULL_WORDS = new Set(['', '~', 'null', 'Null', 'NULL']);

/** Thrown inside this module to carry a yaml.v3-style message ("yaml: ..."). */
class YamlDecodeError extends Error {}

interface Decoding {
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

/**
 * Bounds on what the parser reads. The yaml library recurses once per nesting level, so a few
 * hundred KiB of `[[[[` or of ever deeper `- - -` costs seconds and hundreds of MiB before it fails;
 * a SecretProviderClass is read by a node service for every pod that mounts it. Real objects YAML
 * nests 3 levels and lists tens of objects.
 */
export const OBJECTS_YAML_LIMITS = {
  /** Most `[`/`{` open at once. */
  flowNesting: 64,
  /** Widest indentation (spaces, tabs and `- `/`? `/`: ` indicators before a line's content). */
  indentColumns: 128,
  /** Most items in `array`. */
  objects: 1000,
} as const;

// One pass over the text, before the yaml library sees it. Counts every bracket (quoted ones too):
// an over-estimate no real objects YAML comes near.
function checkNesting(text: string): void {
  let flow = 0;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i <= text.length; i++) {
    const ch = text.charCodeAt(i);
    if (i === text.length || ch === 10 /* \n */) {
      const lead = /^[ \t]*(?:[-?:](?:[ \t]+|$)[ \t]*)*/.exec(
        text.slice(lineStart, Math.min(i, lineStart + 1024)),
      );
      if (lead && lead[0].length > OBJECTS_YAML_LIMITS.indentColumns)
        throw new YamlDecodeError(
          `yaml: line ${line}: indented ${lead[0].length} columns, more than the ${OBJECTS_YAML_LIMITS.indentColumns} this parser reads`,
        );
      line++;
      lineStart = i + 1;
    } else if (ch === 91 /* [ */ || ch === 123 /* { */) {
      if (++flow > OBJECTS_YAML_LIMITS.flowNesting)
        throw new YamlDecodeError(
          `yaml: line ${line}: flow collections nested deeper than ${OBJECTS_YAML_LIMITS.flowNesting} levels, the most this parser reads`,
        );
    } else if ((ch === 93 || ch === 125) && flow > 0) {
      // ] or }
      flow--;
    }
  }
}

function parseFirstDocument(text: string): Decoding | undefined {
  checkNesting(text);
  const lines = new LineCounter();
  // failsafe: every scalar is a string, so the source text survives for Go string semantics.
  // Duplicate keys are reported by duplicateKeys() in yaml.v3's words, so the library must not reject them.
  const docs = parseAllDocuments(text, { schema: 'failsafe', lineCounter: lines, uniqueKeys: false });
  if (!Array.isArray(docs)) return undefined; // empty input: yaml.v3 decodes nothing, no error
  const doc = docs[0];
  if (!doc) return undefined;
  const problem = doc.errors[0];
  if (problem) {
    const line = problem.linePos?.[0].line;
    const first = problem.message.split('\n')[0].replace(/ at line \d+, column \d+:$/, '');
    throw new YamlDecodeError(`yaml: ${line ? `line ${line}: ` : ''}${first}`);
  }
  return { doc, lines };
}

function resolve(node: unknown, doc: Document.Parsed): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function lineOf(node: unknown, d: Decoding): number {
  const range = (node as Node | undefined)?.range;
  return range ? d.lines.linePos(range[0]).line : 1;
}

function isNull(node: unknown): boolean {
  if (node === null || node === undefined) return true;
  return isScalar(node) && node.type === Scalar.PLAIN && NULL_WORDS.has(String(node.value));
}

// The `!!tag` yaml.v3 would report for a node in "cannot unmarshal" messages.
function goTag(node: unknown): string {
  if (isMap(node)) return '!!map';
  if (isSeq(node)) return '!!seq';
  if (!isScalar(node) || node.type !== Scalar.PLAIN) return '!!str';
  const text = String(node.value);
  if (NULL_WORDS.has(text)) return '!!null';
  if (/^(true|True|TRUE|false|False|FALSE)$/.test(text)) return '!!bool';
  if (goInt(text) !== undefined) return '!!int';
  if (goFloat(text) !== undefined) return '!!float';
  return '!!str';
}

function unmarshalError(node: unknown, into: string, d: Decoding): YamlDecodeError {
  const tag = goTag(node);
  // yaml.v3 shortens values longer than 10 characters to their first 7 and "...".
  const text = isScalar(node) ? String(node.value) : '';
  const shown = isScalar(node) ? ` \`${text.length > 10 ? `${text.slice(0, 7)}...` : text}\`` : '';
  return new YamlDecodeError(
    `yaml: unmarshal errors:\n  line ${lineOf(node, d)}: cannot unmarshal ${tag}${shown} into ${into}`,
  );
}

// yaml.v3 resolves plain ints with strconv.ParseInt(text without '_', 0, 64): decimal, 0x, 0o, 0b,
// and legacy leading-zero octal ("0755" == 493).
function goInt(text: string): number | undefined {
  const plain = text.replace(/_/g, '');
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(plain);
  if (!m) return undefined;
  const digits = m[2];
  let value: number;
  if (/^0[xXoObB]/.test(digits)) value = Number(digits.toLowerCase());
  else if (digits.length > 1 && digits.startsWith('0')) value = parseInt(digits.slice(1), 8);
  else value = parseInt(digits, 10);
  return m[1] === '-' ? -value : value;
}

function goFloat(text: string): number | undefined {
  const plain = text.replace(/_/g, '');
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(plain)) return Number(plain);
  return undefined;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function decodeInt32(node: unknown, d: Decoding): number {
  if (isNull(node)) return 0;
  if (isScalar(node) && node.type === Scalar.PLAIN) {
    const text = String(node.value);
    const int = goInt(text);
    // yaml.v3 also accepts a float into an int field, truncating it, when it fits.
    const value = int ?? (goFloat(text) !== undefined ? Math.trunc(goFloat(text)!) : undefined);
    if (value !== undefined && value >= INT32_MIN && value <= INT32_MAX) return value;
  }
  throw unmarshalError(node, 'int32', d);
}

function decodeString(node: unknown, d: Decoding): string {
  if (isNull(node)) return '';
  if (isScalar(node)) return String(node.value);
  throw unmarshalError(node, 'string', d);
}

// yaml.v3 refuses a mapping it decodes when a key repeats: one message per repeated pair, in the
// order of the first key. Keys are grouped first (a map of thousands of keys must not cost millions
// of comparisons) and at most MAX_DUPLICATE_LINES lines are reported.
const MAX_DUPLICATE_LINES = 20;
function duplicateKeys(map: YAMLMap, d: Decoding): YamlDecodeError | undefined {
  const keys = map.items.map((pair) => (isScalar(pair.key) ? String(pair.key.value) : undefined));
  const positions = new Map<string, number[]>();
  keys.forEach((key, i) => {
    if (key === undefined) return;
    const seen = positions.get(key);
    if (!seen) positions.set(key, [i]);
    else if (seen.length <= MAX_DUPLICATE_LINES) seen.push(i);
  });
  const problems: string[] = [];
  keys.forEach((key, i) => {
    if (key === undefined) return;
    for (const j of positions.get(key)!.filter((j) => j > i)) {
      if (problems.length >= MAX_DUPLICATE_LINES) return;
      problems.push(
        `  line ${lineOf(map.items[j].key, d)}: mapping key ${JSON.stringify(key)} already defined at line ${lineOf(map.items[i].key, d)}`,
      );
    }
  });
  return problems.length > 0
    ? new YamlDecodeError(`yaml: unmarshal errors:\n${problems.join('\n')}`)
    : undefined;
}

function decodeObject(text: string): ParsedKeyVaultObject {
  const parsed: ParsedKeyVaultObject = {
    objectName: '',
    objectType: '',
    objectAlias: '',
    objectVersion: '',
    objectVersionHistory: 0,
    objectFormat: '',
    objectEncoding: '',
    filePermission: '',
  };
  const d = parseFirstDocument(text);
  if (!d) return parsed;
  const root = resolve(d.doc.contents, d.doc);
  if (isNull(root)) return parsed;
  if (!isMap(root)) throw unmarshalError(root, 'types.KeyVaultObject', d);
  const duplicate = duplicateKeys(root, d);
  if (duplicate) throw duplicate;
  const problems: string[] = [];
  for (const pair of root.items) {
    const key = resolve(pair.key, d.doc);
    if (!isScalar(key)) continue; // yaml.v3 ignores keys that match no field
    const name = String(key.value);
    const value = resolve(pair.value, d.doc);
    try {
      if (name === 'objectVersionHistory') parsed.objectVersionHistory = decodeInt32(value, d);
      else if ((OBJECT_STRING_FIELDS as readonly string[]).includes(name)) {
        parsed[name as (typeof OBJECT_STRING_FIELDS)[number]] = decodeString(value, d);
      }
    } catch (e) {
      // yaml.v3 collects every field error into one "unmarshal errors" list.
      problems.push((e as Error).message.replace(/^yaml: unmarshal errors:\n/, ''));
    }
  }
  if (problems.length > 0) throw new YamlDecodeError(`yaml: unmarshal errors:\n${problems.join('\n')}`);
  // formatKeyVaultObject: TrimSpace on every string field.
  for (const field of OBJECT_STRING_FIELDS) parsed[field] = parsed[field].trim();
  return parsed;
}

// Two tab placements libyaml (Go) rejects while the yaml package accepts them, both common when an
// editor inserts a tab: after a block sequence's "-", and as the first indentation of a block scalar
// item ("- |" followed by a line that starts with spaces and a tab).
function libyamlTabError(seq: YAMLSeq, text: string, d: Decoding): YamlDecodeError | undefined {
  for (const item of seq.items) {
    const start = (item as Node | undefined)?.range?.[0];
    if (start === undefined || isNull(item)) continue;
    const { line, col } = d.lines.linePos(start);
    const lineStart = start - col + 1;
    if (/-[ \t]*\t[ \t]*$/.test(text.slice(lineStart, start))) {
      return new YamlDecodeError(`yaml: line ${line}: found character that cannot start any token`);
    }
    if (isScalar(item) && (item.type === Scalar.BLOCK_LITERAL || item.type === Scalar.BLOCK_FOLDED)) {
      const header = text.slice(start, text.indexOf('\n', start) + 1 || text.length);
      if (/^[|>][-+]?[0-9]/.test(header) || /^[|>][0-9]/.test(header)) continue; // explicit indentation
      let at = start + header.length;
      while (at < text.length) {
        const end = text.indexOf('\n', at) === -1 ? text.length : text.indexOf('\n', at);
        const body = text.slice(at, end).replace(/^ */, '');
        if (body.startsWith('\t')) {
          return new YamlDecodeError(
            `yaml: line ${line}: found a tab character where an indentation space is expected`,
          );
        }
        if (body !== '') break; // the first content line fixes the indentation
        at = end + 1;
      }
    }
  }
  return undefined;
}

function decodeArray(text: string): string[] {
  const d = parseFirstDocument(text);
  if (!d) return [];
  const root = resolve(d.doc.contents, d.doc);
  if (isNull(root)) return [];
  if (!isMap(root)) throw unmarshalError(root, 'types.StringArray', d);
  // Scanner errors come before any decoding error in yaml.v3.
  for (const pair of root.items) {
    const value = resolve(pair.value, d.doc);
    if (isSeq(value) && value.items.length > OBJECTS_YAML_LIMITS.objects)
      throw new YamlDecodeError(
        `the array lists ${value.items.length} objects, more than the ${OBJECTS_YAML_LIMITS.objects} one SecretProviderClass may mount; split them over several SecretProviderClasses`,
      );
    const tabError = isSeq(value) ? libyamlTabError(value, text, d) : undefined;
    if (tabError) throw tabError;
  }
  const duplicate = duplicateKeys(root, d);
  if (duplicate) throw duplicate;
  const items: string[] = [];
  for (const pair of root.items) {
    const key = resolve(pair.key, d.doc);
    if (!isScalar(key) || String(key.value) !== 'array') continue;
    const array = resolve(pair.value, d.doc);
    items.length = 0;
    if (isNull(array)) continue;
    if (!isSeq(array)) throw unmarshalError(array, '[]string', d);
    const problems: string[] = [];
    for (const raw of array.items) {
      const item = resolve(raw, d.doc);
      // yaml.v3 cannot set a null into a string element and drops the item.
      if (isNull(item)) continue;
      else if (isScalar(item)) items.push(String(item.value));
      else problems.push(unmarshalError(item, 'string', d).message.replace(/^yaml: unmarshal errors:\n/, ''));
    }
    if (problems.length > 0) throw new YamlDecodeError(`yaml: unmarshal errors:\n${problems.join('\n')}`);
  }
  return items;
}

/**
 * Parses the `objects` parameter as the Azure provider does: `{array: []string}`, then each item as
 * one object. Throws `failed to yaml unmarshal objects, error: ...` or
 * `unmarshal failed for keyVaultObjects at index <i>, error: ...`. An empty array gives [].
 * `onObject`, when given, runs right after each item is decoded (before the next one), which is the
 * upstream order of errors when it validates; see parseAndCheckObjectsParameter.
 */
export function parseObjectsParameter(
  text: string,
  onObject?: (object: ParsedKeyVaultObject, index: number) => void,
): ParsedKeyVaultObject[] {
  let items: string[];
  try {
    items = decodeArray(text);
  } catch (e) {
    throw new Error(`failed to yaml unmarshal objects, error: ${(e as Error).message}`);
  }
  return items.map((item, index) => {
    let object: ParsedKeyVaultObject;
    try {
      object = decodeObject(item);
    } catch (e) {
      throw new Error(
        `unmarshal failed for keyVaultObjects at index ${index}, error: ${(e as Error).message}`,
      );
    }
    onObject?.(object, index);
    return object;
  });
}
