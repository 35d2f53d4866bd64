// PEM in Go's `encoding/pem` shape, because the files we write must equal the upstream provider's
// byte for byte: 64-character base64 lines, a trailing newline, headers (if any) before a blank line.

/** One PEM block. */
export interface PemBlock {
  readonly type: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly bytes: Buffer;
}

/** Go `pem.EncodeToMemory`. */
export function encodePem(
  type: string,
  bytes: Uint8Array,
  headers: ReadonlyMap<string, string> = new Map(),
): string {
  let out = `-----BEGIN ${type}-----\n`;
  if (headers.size > 0) {
    // Go writes Proc-Type first, then the other headers sorted by key.
    const keys = [...headers.keys()].filter((k) => k !== 'Proc-Type').sort();
    if (headers.has('Proc-Type')) keys.unshift('Proc-Type');
    for (const key of keys) out += `${key}: ${headers.get(key)}\n`;
    out += '\n';
  }
  const b64 = Buffer.from(bytes).toString('base64');
  for (let i = 0; i < b64.length; i += 64) out += `${b64.slice(i, i + 64)}\n`;
  return `${out}-----END ${type}-----\n`;
}

const BLOCK = /-----BEGIN ([^\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** All PEM blocks in `text`, in order (Go `pem.Decode` in a loop; text between blocks is skipped). */
export function decodePemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const headers = new Map<string, string>();
    let body = match[2];
    const blank = /\r?\n\r?\n/.exec(body);
    if (
      blank &&
      body
        .slice(0, blank.index)
        .split(/\r?\n/)
        .every((line) => line.includes(':'))
    ) {
      for (const line of body.slice(0, blank.index).split(/\r?\n/)) {
        const colon = line.indexOf(':');
        headers.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      body = body.slice(blank.index + blank[0].length);
    }
    const base64 = body.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) continue; // Go skips a block whose body is not base64
    blocks.push({ type: match[1], headers, bytes: Buffer.from(base64, 'base64') });
  }
  return blocks;
}
