// `objectEncoding` decoding of secret content with Go's semantics and error texts
// (base64.StdEncoding and hex.DecodeString), applied to every file of a `secret` object.

/** Go base64.StdEncoding.DecodeString: padded standard alphabet; \r and \n are ignored. */
export function decodeGoBase64(text: string): Buffer {
  const cleaned: string[] = [];
  const positions: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\r' || ch === '\n') continue;
    cleaned.push(ch);
    positions.push(i);
  }
  const data = cleaned.join('');
  const fail = (index: number): never => {
    throw new Error(
      `illegal base64 data at input byte ${index < positions.length ? positions[index] : text.length}`,
    );
  };
  let padStart = data.indexOf('=');
  if (padStart < 0) padStart = data.length;
  for (let i = 0; i < padStart; i++) {
    if (!/[A-Za-z0-9+/]/.test(data[i])) fail(i);
  }
  const padding = data.length - padStart;
  if (padding > 0) {
    // Padding may only complete the last 4-character quantum.
    if (padding > 2 || data.slice(padStart) !== '='.repeat(padding) || data.length % 4 !== 0) fail(padStart);
    if (padStart % 4 < 2) fail(padStart);
  } else if (data.length % 4 !== 0) {
    fail(data.length - (data.length % 4));
  }
  return Buffer.from(data, 'base64');
}

function goRune(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')} '${ch}'`;
}

/** Go hex.DecodeString. */
export function decodeGoHex(text: string): Buffer {
  const isHex = (ch: string) => /[0-9a-fA-F]/.test(ch);
  const chars = [...text];
  for (let i = 0; i + 1 < chars.length; i += 2) {
    if (!isHex(chars[i])) throw new Error(`encoding/hex: invalid byte: ${goRune(chars[i])}`);
    if (!isHex(chars[i + 1])) throw new Error(`encoding/hex: invalid byte: ${goRune(chars[i + 1])}`);
  }
  if (chars.length % 2 === 1) {
    const last = chars[chars.length - 1];
    if (!isHex(last)) throw new Error(`encoding/hex: invalid byte: ${goRune(last)}`);
    throw new Error('encoding/hex: odd length hex string');
  }
  return Buffer.from(text, 'hex');
}

/** Bytes of one file: the content string decoded per `objectEncoding` (only for `secret` objects). */
export function contentBytes(content: string, objectType: string, objectEncoding: string): Buffer {
  const encoding = objectEncoding.toLowerCase();
  if (objectType.toLowerCase() !== 'secret' || encoding === '' || encoding === 'utf-8')
    return Buffer.from(content, 'utf8');
  if (encoding === 'base64') return decodeGoBase64(content);
  if (encoding === 'hex') return decodeGoHex(content);
  throw new Error('invalid objectEncoding. Should be utf-8, base64, or hex');
}
