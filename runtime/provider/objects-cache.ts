// The `objects` parameter as parsed and checked, kept by its exact text. Every pod of a workload mounts
// the same SecretProviderClass, so a node's cold burst (and every rotation poll after it) sends one
// `objects` text many times; its YAML parse was a fifth of the provider's CPU in a 50-pod cold start
// under the install's 50m limit (bench/provider/cold-start.ts). Parsing is a pure function of the text,
// so a hit returns what a parse would; only texts that parsed and passed every check are kept (an
// invalid one is parsed again and fails with its own error each time). Bounded in entries and in the
// characters kept, least recently used out first, so texts a pod author varies cost memory no larger
// than the bounds.
import type { ParsedKeyVaultObject } from '../../lib/core/key-vault-objects';

/** Bounds of the cache. */
export interface ObjectsCacheProps {
  /** Texts kept. @default 256 */
  readonly maxEntries?: number;
  /** Characters of text kept, all entries together. @default 1 MiB worth (1,048,576) */
  readonly maxChars?: number;
}

export class ObjectsCache {
  private readonly entries = new Map<string, readonly ParsedKeyVaultObject[]>();
  private chars = 0;
  private readonly maxEntries: number;
  private readonly maxChars: number;

  constructor(props: ObjectsCacheProps = {}) {
    this.maxEntries = props.maxEntries ?? 256;
    this.maxChars = props.maxChars ?? 1024 * 1024;
  }

  get size(): number {
    return this.entries.size;
  }

  /** `parse(text)`'s result: kept from an earlier call with this very text, or parsed now (and kept). */
  parse(text: string, parse: (text: string) => ParsedKeyVaultObject[]): readonly ParsedKeyVaultObject[] {
    const known = this.entries.get(text);
    if (known) {
      this.entries.delete(text);
      this.entries.set(text, known);
      return known;
    }
    const parsed = Object.freeze(parse(text).map((obj) => Object.freeze({ ...obj })));
    if (text.length > this.maxChars) return parsed;
    this.entries.set(text, parsed);
    this.chars += text.length;
    while (this.entries.size > this.maxEntries || this.chars > this.maxChars) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.chars -= oldest.length;
    }
    return parsed;
  }
}
