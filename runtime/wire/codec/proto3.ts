// A small proto3 codec for the messages of our three gRPC contracts (CSI, provider v1alpha1, health),
// in place of @grpc/proto-loader + protobufjs, which cost each process about 14 MiB of RSS (anonymous
// and the Node binary's file-backed pages) to parse the .proto files and generate code at start.
//
// It reproduces what proto-loader gave grpc-js with { keepCase, longs: String, enums: String,
// defaults: true, oneofs: true } over protobufjs 7: the same bytes for the objects we serialize, and
// for any input bytes the same object or the same error (test/runtime/wire/proto3-codec.test.ts runs
// both side by side over random and hostile inputs). In particular, as protobufjs does:
//   - a field is read by its number as its declared type, whatever wire type the tag says;
//   - unknown fields (and groups) are skipped; wire types 4, 6 and 7 are errors; nesting is bounded;
//   - a string is cut at the end of its message, a byte field past it is an error;
//   - a message field that appears twice keeps the last one; map keys may be `__proto__`.
// One deliberate difference: a string holding a lone UTF-16 surrogate is written as U+FFFD (Node's
// encoder), where protobufjs writes strings under 40 bytes with its own encoder (the surrogate's
// CESU-8 bytes, which are not UTF-8). Decoding is the same.

/** The scalar types our contracts use. */
export type ScalarKind = 'string' | 'bytes' | 'bool' | 'int32' | 'int64';

/** An enum whose values are 0..names.length-1, in order. */
export interface EnumSpec {
  readonly names: readonly string[];
}

export interface FieldSpec {
  readonly name: string;
  readonly id: number;
  readonly kind: ScalarKind | 'enum' | 'message';
  /** `repeated` (strings and messages only: our contracts have no packed scalars). */
  readonly repeated?: boolean;
  /** `map<string, kind>`: kind is 'string' or 'message'. */
  readonly map?: boolean;
  readonly message?: MessageSpec;
  readonly enum?: EnumSpec;
  /** Name of the oneof this field belongs to. */
  readonly oneof?: string;
}

export interface MessageSpec {
  /** `.package.Message`, as protobufjs names a type in its errors. */
  readonly fullName: string;
  /** In field-number order. */
  readonly fields: readonly FieldSpec[];
}

/** protobufjs's Reader.recursionLimit / util.recursionLimit. */
const RECURSION_LIMIT = 100;

/** Checks a hand-written message table: ids ascending and unique, the shapes this codec supports. */
export function messageSpec(fullName: string, fields: readonly FieldSpec[]): MessageSpec {
  let last = 0;
  for (const f of fields) {
    if (!Number.isInteger(f.id) || f.id <= last)
      throw new Error(`${fullName}: field ids must ascend (${f.name})`);
    last = f.id;
    if (
      (f.kind === 'message') !== (f.message !== undefined) ||
      (f.kind === 'enum') !== (f.enum !== undefined)
    )
      throw new Error(`${fullName}.${f.name}: kind and type disagree`);
    if (f.repeated && !['string', 'message'].includes(f.kind))
      throw new Error(`${fullName}.${f.name}: repeated ${f.kind} is not supported`);
    if (f.map && !['string', 'message'].includes(f.kind))
      throw new Error(`${fullName}.${f.name}: map values of ${f.kind} are not supported`);
    if (f.oneof && (f.map || f.repeated)) throw new Error(`${fullName}.${f.name}: oneof of a list`);
  }
  return { fullName, fields };
}

// ---- decoding -------------------------------------------------------------------------------------

class Reader {
  pos = 0;
  len: number;
  constructor(readonly buf: Buffer) {
    this.len = buf.length;
  }

  outOfRange(length?: number): RangeError {
    return new RangeError(`index out of range: ${this.pos} + ${length ?? 1} > ${this.len}`);
  }

  uint32(): number {
    const buf = this.buf;
    if (this.len - this.pos < 5) {
      if (this.pos >= this.len) throw this.outOfRange();
      if (buf[this.pos] >= 128) return this.uint32NearEnd();
    }
    let value = buf[this.pos] & 127;
    if (buf[this.pos++] < 128) return value;
    value = (value | ((buf[this.pos] & 127) << 7)) >>> 0;
    if (buf[this.pos++] < 128) return value;
    value = (value | ((buf[this.pos] & 127) << 14)) >>> 0;
    if (buf[this.pos++] < 128) return value;
    value = (value | ((buf[this.pos] & 127) << 21)) >>> 0;
    if (buf[this.pos++] < 128) return value;
    value = (value | ((buf[this.pos] & 15) << 28)) >>> 0;
    if (buf[this.pos++] < 128) return value;
    // A longer varint (a negative int32): its last five bytes are skipped unread.
    if ((this.pos += 5) > this.len) {
      this.pos = this.len;
      throw this.outOfRange(10);
    }
    return value;
  }

  private uint32NearEnd(): number {
    let value = 0;
    for (let i = 0; i < 4; ++i) {
      if (this.pos >= this.len) throw this.outOfRange();
      const b = this.buf[this.pos++];
      value = (value | ((b & 127) << (i * 7))) >>> 0;
      if (b < 128) return value;
    }
    throw this.outOfRange();
  }

  /** A 64-bit varint as its signed decimal text (longs: String). */
  int64(): string {
    const { lo, hi } = this.longBits();
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
  }

  private longBits(): { lo: number; hi: number } {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    let i = 0;
    if (this.len - this.pos > 4) {
      for (; i < 4; ++i) {
        lo = (lo | ((buf[this.pos] & 127) << (i * 7))) >>> 0;
        if (buf[this.pos++] < 128) return { lo, hi };
      }
      lo = (lo | ((buf[this.pos] & 127) << 28)) >>> 0;
      hi = (hi | ((buf[this.pos] & 127) >> 4)) >>> 0;
      if (buf[this.pos++] < 128) return { lo, hi };
      i = 0;
    } else {
      for (; i < 3; ++i) {
        if (this.pos >= this.len) throw this.outOfRange();
        lo = (lo | ((buf[this.pos] & 127) << (i * 7))) >>> 0;
        if (buf[this.pos++] < 128) return { lo, hi };
      }
      // protobufjs reads a fourth byte here unchecked and stops, continuation bit or not.
      lo = (lo | (((buf[this.pos++] ?? 0) & 127) << (i * 7))) >>> 0;
      return { lo, hi };
    }
    const fast = this.len - this.pos > 4;
    for (; i < 5; ++i) {
      if (!fast && this.pos >= this.len) throw this.outOfRange();
      hi = (hi | ((buf[this.pos] & 127) << (i * 7 + 3))) >>> 0;
      if (buf[this.pos++] < 128) return { lo, hi };
    }
    throw new Error('invalid varint encoding');
  }

  string(): string {
    const length = this.uint32();
    const start = this.pos;
    this.pos = Math.min(this.pos + length, this.len);
    return this.buf.toString('utf8', start, this.pos);
  }

  bytes(): Buffer {
    const length = this.uint32();
    const start = this.pos;
    const end = this.pos + length;
    if (end > this.len) throw this.outOfRange(length);
    this.pos += length;
    return start === end ? Buffer.alloc(0) : this.buf.subarray(start, end);
  }

  skip(length?: number): void {
    if (length !== undefined) {
      if (this.pos + length > this.len) throw this.outOfRange(length);
      this.pos += length;
      return;
    }
    do {
      if (this.pos >= this.len) throw this.outOfRange();
    } while (this.buf[this.pos++] & 128);
  }

  skipType(wireType: number, depth: number): void {
    if (depth > RECURSION_LIMIT) throw new Error('maximum nesting depth exceeded');
    switch (wireType) {
      case 0:
        this.skip();
        break;
      case 1:
        this.skip(8);
        break;
      case 2:
        this.skip(this.uint32());
        break;
      case 3:
        while ((wireType = this.uint32() & 7) !== 4) this.skipType(wireType, depth + 1);
        break;
      case 5:
        this.skip(4);
        break;
      default:
        throw new Error(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }
}

/** A decoded message before defaults: only the fields the bytes held (protobufjs's message instance). */
type RawMessage = Record<string, unknown>;

function readScalar(r: Reader, kind: ScalarKind | 'enum'): unknown {
  switch (kind) {
    case 'string':
      return r.string();
    case 'bytes':
      return r.bytes();
    case 'bool':
      return r.uint32() !== 0;
    case 'int32':
    case 'enum':
      return r.uint32() | 0;
    case 'int64':
      return r.int64();
  }
}

/** Sets `key` on a map object as an own property, `__proto__` included. */
function setMapEntry(map: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(map, key, { value, enumerable: true, configurable: true, writable: true });
  else map[key] = value;
}

function decodeRaw(spec: MessageSpec, r: Reader, length: number | undefined, depth: number): RawMessage {
  if (depth > RECURSION_LIMIT) throw new Error('maximum nesting depth exceeded');
  let end: number;
  let outerLen = 0;
  if (length === undefined) end = r.len;
  else {
    end = r.pos + length;
    if (end > r.len) throw new RangeError('index out of range');
    outerLen = r.len;
    r.len = end;
  }
  const m: RawMessage = Object.create(null) as RawMessage;
  while (r.pos < end) {
    const tag = r.uint32();
    const field = spec.fields.find((f) => f.id === tag >>> 3);
    if (!field) {
      r.skipType(tag & 7, depth);
      continue;
    }
    if (field.map) {
      let map = m[field.name] as Record<string, unknown> | undefined;
      if (!map) m[field.name] = map = {};
      const entryEnd = r.uint32() + r.pos;
      if (entryEnd > r.len) throw new RangeError('index out of range');
      r.len = entryEnd;
      let key = '';
      let value: unknown = field.kind === 'message' ? null : '';
      while (r.pos < entryEnd) {
        const entryTag = r.uint32();
        switch (entryTag >>> 3) {
          case 1:
            key = r.string();
            break;
          case 2:
            value =
              field.kind === 'message'
                ? decodeRaw(field.message!, r, r.uint32(), depth + 1)
                : readScalar(r, field.kind as ScalarKind);
            break;
          default:
            r.skipType(entryTag & 7, depth);
        }
      }
      if (r.pos !== entryEnd) throw new RangeError('index out of range');
      r.len = end;
      setMapEntry(map, key, value);
    } else {
      const value =
        field.kind === 'message'
          ? decodeRaw(field.message!, r, r.uint32(), depth + 1)
          : readScalar(r, field.kind);
      if (field.repeated) {
        const list = m[field.name] as unknown[] | undefined;
        if (list && list.length) list.push(value);
        else m[field.name] = [value];
      } else m[field.name] = value;
    }
  }
  if (length !== undefined) {
    if (r.pos !== end) throw new RangeError('index out of range');
    r.len = outerLen;
  }
  return m;
}

function scalarDefault(field: FieldSpec): unknown {
  switch (field.kind) {
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'bool':
      return false;
    case 'int32':
      return 0;
    case 'int64':
      return '0';
    case 'enum':
      return field.enum!.names[0];
    case 'message':
      return null;
  }
}

function valueToObject(field: FieldSpec, value: unknown, depth: number): unknown {
  if (field.kind === 'enum') return field.enum!.names[value as number] ?? value;
  if (field.kind === 'message') return toObject(field.message!, value as RawMessage, depth + 1);
  return value;
}

/** protobufjs's toObject with defaults, oneofs, longs and enums as strings. */
function toObject(spec: MessageSpec, m: RawMessage, depth: number): Record<string, unknown> {
  if (depth > RECURSION_LIMIT) throw new Error('max depth exceeded');
  const d: Record<string, unknown> = {};
  for (const f of spec.fields) if (!f.oneof && f.repeated) d[f.name] = [];
  for (const f of spec.fields) if (!f.oneof && f.map) d[f.name] = {};
  for (const f of spec.fields) if (!f.oneof && !f.repeated && !f.map) d[f.name] = scalarDefault(f);
  for (const f of spec.fields) {
    // A null `m` (a map entry without its message value) throws here, as protobufjs does.
    const value = m[f.name];
    if (f.map) {
      const map = value as Record<string, unknown> | undefined;
      const keys = map ? Object.keys(map) : [];
      if (keys.length) {
        const out: Record<string, unknown> = {};
        for (const key of keys) setMapEntry(out, key, valueToObject(f, map![key], depth));
        d[f.name] = out;
      }
    } else if (f.repeated) {
      const list = value as unknown[] | undefined;
      if (list && list.length) d[f.name] = list.map((item) => valueToObject(f, item, depth));
    } else if (value != null && Object.prototype.hasOwnProperty.call(m, f.name)) {
      d[f.name] = valueToObject(f, value, depth);
      if (f.oneof) d[f.oneof] = f.name;
    }
  }
  return d;
}

/** Decodes `bytes` as `spec` into the object grpc-js handed our handlers under proto-loader. */
export function decodeMessage(spec: MessageSpec, bytes: Buffer): Record<string, unknown> {
  return toObject(spec, decodeRaw(spec, new Reader(bytes), undefined, 0), 0);
}

// ---- encoding -------------------------------------------------------------------------------------

class Writer {
  private readonly chunks: Buffer[] = [];
  private scratch: number[] = [];

  varint32(value: number): void {
    value >>>= 0;
    while (value > 127) {
      this.scratch.push((value & 127) | 128);
      value >>>= 7;
    }
    this.scratch.push(value);
  }

  varint64(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    while (v > 127n) {
      this.scratch.push(Number(v & 127n) | 128);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  int32(value: number): void {
    value |= 0;
    if (value < 0) this.varint64(BigInt(value));
    else this.varint32(value);
  }

  tag(id: number, wireType: number): void {
    this.varint32(((id << 3) | wireType) >>> 0);
  }

  raw(bytes: Buffer): void {
    this.flushScratch();
    if (bytes.length) this.chunks.push(bytes);
  }

  lengthDelimited(bytes: Buffer): void {
    this.varint32(bytes.length);
    this.raw(bytes);
  }

  finish(): Buffer {
    this.flushScratch();
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
  }

  private flushScratch(): void {
    if (this.scratch.length) {
      this.chunks.push(Buffer.from(this.scratch));
      this.scratch = [];
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return Boolean(value) && typeof value === 'object';
}

function fieldName(spec: MessageSpec, f: FieldSpec): string {
  return `${spec.fullName}.${f.name}`;
}

/** Long.fromValue for what our code passes: a number or a decimal integer string. */
function int64From(value: unknown, where: string): bigint {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 0n;
    const truncated = BigInt(Math.trunc(value));
    const min = -(2n ** 63n);
    const max = 2n ** 63n - 1n;
    return truncated < min ? min : truncated > max ? max : truncated;
  }
  if (typeof value === 'string' && /^-?[0-9]{1,19}$/.test(value)) return BigInt.asIntN(64, BigInt(value));
  throw new TypeError(`${where}: int64 expected as a number or a decimal string`);
}

function bytesFrom(value: unknown, where: string): Buffer | undefined {
  if (typeof value === 'string') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new TypeError(`${where}: base64 expected`);
    return Buffer.from(value, 'base64');
  }
  if (value instanceof Uint8Array)
    return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length);
  // protobufjs keeps anything with a length (an array of byte values); nothing of ours sends one.
  if (Array.isArray(value)) return Buffer.from(value as number[]);
  return undefined;
}

/** The number an enum field is written with, or undefined when protobufjs would leave it unset. */
function enumFrom(f: FieldSpec, value: unknown): number | undefined {
  if (typeof value === 'string') {
    const index = f.enum!.names.indexOf(value);
    return index >= 0 ? index : undefined;
  }
  return typeof value === 'number' ? value : undefined;
}

function writeScalar(w: Writer, f: FieldSpec, value: unknown, where: string): boolean {
  switch (f.kind) {
    case 'string':
      w.tag(f.id, 2);
      w.lengthDelimited(Buffer.from(String(value), 'utf8'));
      return true;
    case 'bool':
      w.tag(f.id, 0);
      w.varint32(value ? 1 : 0);
      return true;
    case 'int32':
      w.tag(f.id, 0);
      w.int32((value as number) | 0);
      return true;
    case 'int64':
      w.tag(f.id, 0);
      w.varint64(int64From(value, where));
      return true;
    case 'enum': {
      const n = enumFrom(f, value);
      if (n === undefined) return false;
      w.tag(f.id, 0);
      w.int32(n);
      return true;
    }
    case 'bytes': {
      const b = bytesFrom(value, where);
      if (b === undefined) return false;
      w.tag(f.id, 2);
      w.lengthDelimited(b);
      return true;
    }
    case 'message':
      throw new Error('unreachable');
  }
}

function writeMessageField(w: Writer, f: FieldSpec, value: unknown, where: string, depth: number): void {
  if (!isObject(value)) throw new TypeError(`${where}: object expected`);
  w.tag(f.id, 2);
  w.lengthDelimited(encodeWith(f.message!, value, depth + 1));
}

function encodeWith(spec: MessageSpec, d: unknown, depth: number): Buffer {
  if (!spec.fields.length) return Buffer.alloc(0);
  if (!isObject(d)) throw new TypeError(`${spec.fullName}: object expected`);
  if (depth > RECURSION_LIMIT) throw new Error('maximum nesting depth exceeded');
  const w = new Writer();
  for (const f of spec.fields) {
    const value = d[f.name];
    const where = fieldName(spec, f);
    if (f.map) {
      if (!value) continue;
      if (!isObject(value)) throw new TypeError(`${where}: object expected`);
      for (const key of Object.keys(value)) {
        const entry = new Writer();
        entry.tag(1, 2);
        entry.lengthDelimited(Buffer.from(key, 'utf8'));
        if (f.kind === 'message') writeMessageField(entry, { ...f, id: 2 }, value[key], where, depth);
        else writeScalar(entry, { ...f, id: 2 }, value[key], where);
        w.tag(f.id, 2);
        w.lengthDelimited(entry.finish());
      }
    } else if (f.repeated) {
      if (!value) continue;
      if (!Array.isArray(value)) throw new TypeError(`${where}: array expected`);
      for (const item of value) {
        if (f.kind === 'message') writeMessageField(w, f, item, where, depth);
        else writeScalar(w, f, item, where);
      }
    } else if (f.kind === 'enum' || value != null) {
      if (f.kind === 'message') writeMessageField(w, f, value, where, depth);
      else writeScalar(w, f, value, where);
    }
  }
  return w.finish();
}

/** Encodes `message` as `spec` (proto-loader's serializer: fromObject, then encode). */
export function encodeMessage(spec: MessageSpec, message: unknown): Buffer {
  if (Array.isArray(message))
    throw new Error(
      `Failed to serialize message: expected object with ${spec.fullName.split('.').pop()} structure, got array instead`,
    );
  return encodeWith(spec, message, 0);
}
