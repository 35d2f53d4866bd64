// runtime/wire/codec against what it replaced (@grpc/proto-loader over protobufjs, loaded from the same
// .proto files with the runtime's old options), side by side: the message tables say what the .proto
// says, every service has the same methods, and for every message of every method
//   - random objects of that message serialize to the same bytes and decode to the same object;
//   - hostile bytes (random, truncated, bit-flipped, unknown fields of every wire type, groups, wrong
//     wire types for known fields, lengths past the end, over-long varints, deep nesting, bad UTF-8,
//     `__proto__` map keys) decode to the same object or fail with the same error;
//   - hostile objects fail to serialize with the same error.
// Every loop is bounded and the random inputs come from a fixed seed, so a failure replays.
import * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';
import * as path from 'node:path';
import { FieldSpec, MessageSpec } from '../../../runtime/wire/codec/proto3';
import { csiService, CsiServiceName } from '../../../runtime/wire/csi';
import { healthService } from '../../../runtime/wire/grpc-health';
import { providerService } from '../../../runtime/wire/provider-v1alpha1';
import { CSI_METHODS } from '../../../runtime/wire/csi-messages';
import { PROVIDER_MESSAGES } from '../../../runtime/wire/provider-v1alpha1';
import { HEALTH_MESSAGES } from '../../../runtime/wire/grpc-health';
import { referenceService } from './support/proto-loader-reference';

interface Contract {
  readonly file: string;
  readonly service: string;
  readonly ours: () => grpc.ServiceClientConstructor;
  readonly specs: Readonly<Record<string, { request: MessageSpec; response: MessageSpec }>>;
}

const CONTRACTS: Contract[] = [
  {
    file: 'provider.proto',
    service: 'v1alpha1.CSIDriverProvider',
    ours: providerService,
    specs: {
      Version: { request: PROVIDER_MESSAGES.VersionRequest, response: PROVIDER_MESSAGES.VersionResponse },
      Mount: { request: PROVIDER_MESSAGES.MountRequest, response: PROVIDER_MESSAGES.MountResponse },
    },
  },
  {
    file: 'health.proto',
    service: 'grpc.health.v1.Health',
    ours: healthService,
    specs: {
      Check: { request: HEALTH_MESSAGES.HealthCheckRequest, response: HEALTH_MESSAGES.HealthCheckResponse },
      List: { request: HEALTH_MESSAGES.HealthListRequest, response: HEALTH_MESSAGES.HealthListResponse },
      Watch: { request: HEALTH_MESSAGES.HealthCheckRequest, response: HEALTH_MESSAGES.HealthCheckResponse },
    },
  },
  ...(['Identity', 'Controller', 'Node'] as CsiServiceName[]).map((name) => ({
    file: 'csi.proto',
    service: `csi.v1.${name}`,
    ours: () => csiService(name),
    specs: CSI_METHODS[name] as Contract['specs'],
  })),
];

// ---- a seeded PRNG (mulberry32) ----
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(1414);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)];

const STRINGS = [
  '',
  'a',
  'secret/db-password',
  '/var/lib/kubelet/pods/x/volumes/y',
  'ünïcødé ✓ 🔑',
  '0',
  '__proto__',
];
function randomString(): string {
  if (rand() < 0.5) return pick(STRINGS);
  const alphabet = 'abcXYZ019 -_/.:é€𝄞\n\t"\\';
  const chars = [...alphabet];
  return Array.from({ length: int(rand() < 0.2 ? 200 : 45) }, () => pick(chars)).join('');
}

function randomValue(f: FieldSpec, depth: number): unknown {
  switch (f.kind) {
    case 'string':
      return randomString();
    case 'bool':
      return rand() < 0.5;
    case 'int32':
      return pick([0, 1, 420, 511, -1, 2147483647, -2147483648, int(1 << 20)]);
    case 'int64':
      return pick<unknown>([
        0,
        1,
        -1,
        4096,
        2 ** 40,
        '0',
        '123',
        '-9223372036854775808',
        '9223372036854775807',
      ]);
    case 'bytes':
      return Buffer.from(Array.from({ length: pick([0, 1, 5, 300]) }, () => int(256)));
    case 'enum':
      return rand() < 0.8 ? pick(f.enum!.names) : pick<unknown>([0, 1, 99, -3, 'NOT_A_VALUE']);
    case 'message':
      return randomMessage(f.message!, depth + 1);
  }
}

function randomMessage(spec: MessageSpec, depth = 0): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  for (const f of spec.fields) {
    if (rand() < 0.25) continue;
    if (f.kind === 'message' && depth > 4) continue;
    if (f.map) {
      const map: Record<string, unknown> = {};
      for (let i = int(4); i > 0; i--)
        map[pick(['k', 'csi.storage.k8s.io/pod.name', '10', '2', '', '__proto__'])] = randomValue(f, depth);
      m[f.name] = map;
    } else if (f.repeated) m[f.name] = Array.from({ length: int(4) }, () => randomValue(f, depth));
    else m[f.name] = f.kind === 'message' && rand() < 0.1 ? null : randomValue(f, depth);
  }
  return m;
}

function outcome(run: () => unknown): unknown {
  try {
    return { ok: run() };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** Each (service, method, request|response) with both serializers. */
function* codecPairs() {
  for (const contract of CONTRACTS) {
    const reference = referenceService(contract.file, contract.service);
    const ours = contract.ours().service;
    for (const method of Object.keys(contract.specs)) {
      for (const side of ['request', 'response'] as const) {
        const key = side === 'request' ? 'request' : 'response';
        yield {
          label: `${contract.service}/${method} ${side}`,
          spec: contract.specs[method][key],
          refSerialize: reference[method][`${key}Serialize`] as (v: unknown) => Buffer,
          refDeserialize: reference[method][`${key}Deserialize`] as (b: Buffer) => unknown,
          ourSerialize: ours[method][`${key}Serialize`] as (v: unknown) => Buffer,
          ourDeserialize: ours[method][`${key}Deserialize`] as (b: Buffer) => unknown,
        };
      }
    }
  }
}

// ---- hostile bytes ----
function varint(n: number): number[] {
  const out: number[] = [];
  n >>>= 0;
  while (n > 127) {
    out.push((n & 127) | 128);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
const tag = (id: number, wireType: number) => varint(((id << 3) | wireType) >>> 0);

function hostileInputs(valid: Buffer, spec: MessageSpec): Buffer[] {
  const inputs: Buffer[] = [];
  const bytes = [...valid];
  for (let cut = 0; cut < bytes.length && cut < 64; cut++) inputs.push(Buffer.from(bytes.slice(0, cut)));
  for (let i = 0; i < 12 && bytes.length; i++) {
    const flipped = [...bytes];
    flipped[int(flipped.length)] ^= 1 << int(8);
    inputs.push(Buffer.from(flipped));
  }
  const unknown = [
    [...tag(99, 0), 0x96, 0x01],
    [...tag(99, 1), 1, 2, 3, 4, 5, 6, 7, 8],
    [...tag(99, 2), 3, 1, 2, 3],
    [...tag(99, 3), ...tag(1, 0), 5, ...tag(99, 4)],
    [...tag(99, 5), 1, 2, 3, 4],
    [...tag(99, 4)],
    [...tag(99, 6), 1],
    [...tag(99, 7), 1],
    [...tag(0, 0), 1],
    [...tag(99, 2), 100, 1],
    [...tag(99, 1), 1, 2],
    [...tag(99, 0), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  ];
  for (const u of unknown) {
    inputs.push(Buffer.from([...u, ...bytes]), Buffer.from([...bytes, ...u]));
  }
  // Groups nested past the recursion limit.
  const deep = [
    ...Array.from({ length: 110 }, () => tag(7, 3)).flat(),
    ...Array.from({ length: 110 }, () => tag(7, 4)).flat(),
  ];
  inputs.push(Buffer.from(deep));
  for (const f of spec.fields) {
    // Each known field with every wire type and odd payloads.
    for (const wireType of [0, 1, 2, 5]) {
      inputs.push(Buffer.from([...tag(f.id, wireType), 5, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68]));
      inputs.push(
        Buffer.from([...tag(f.id, wireType), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
      );
    }
    inputs.push(Buffer.from([...tag(f.id, 2), 0x7f, 1, 2]));
    inputs.push(Buffer.from([...tag(f.id, 2), 3, 0xff, 0xfe, 0xc3]));
    inputs.push(Buffer.from([...tag(f.id, 0), 0xff, 0xff, 0xff, 0xff, 0x0f]));
    inputs.push(Buffer.from([...tag(f.id, 0), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
    inputs.push(Buffer.from([...tag(f.id, 0), 0xff, 0xff, 0xff]));
    inputs.push(Buffer.from([...tag(f.id, 0), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    if (f.map) {
      const entry = (body: number[]) => [...tag(f.id, 2), ...varint(body.length), ...body];
      inputs.push(Buffer.from(entry([...tag(1, 2), 9, ...Buffer.from('__proto__'), ...tag(2, 2), 0])));
      inputs.push(Buffer.from(entry([...tag(2, 2), 0])));
      inputs.push(Buffer.from(entry([...tag(1, 2), 1, 0x61])));
      inputs.push(
        Buffer.from([
          ...entry([...tag(1, 2), 1, 0x62]),
          ...entry([...tag(1, 2), 1, 0x31]),
          ...entry([...tag(1, 2), 1, 0x61]),
        ]),
      );
      inputs.push(Buffer.from(entry([...tag(1, 2), 5, 0x61])));
      inputs.push(Buffer.from(entry([...tag(3, 5), 1, 2, 3, 4, ...tag(1, 2), 1, 0x61])));
    }
    if (f.kind === 'message') {
      const inner = f.message!.fields.length ? [...tag(f.message!.fields[0].id, 0), 1] : [];
      inputs.push(Buffer.from([...tag(f.id, 2), inner.length, ...inner, ...tag(f.id, 2), 0]));
      inputs.push(Buffer.from([...tag(f.id, 2), inner.length + 3, ...inner]));
      inputs.push(Buffer.from([...tag(f.id, 2), 1, ...tag(1, 2), 4, 0x61]));
    }
  }
  for (let i = 0; i < 30; i++) inputs.push(Buffer.from(Array.from({ length: int(48) }, () => int(256))));
  return inputs;
}

/** Lone surrogates aside (see the codec's header): random strings never hold one. */
describe('runtime/wire/codec against proto-loader + protobufjs', () => {
  it('has tables that match the .proto files field for field', () => {
    const root = new protobuf.Root();
    for (const file of ['csi.proto', 'provider.proto', 'health.proto'])
      root.loadSync(path.resolve(__dirname, '../../../runtime/proto', file), { keepCase: true });
    root.resolveAll();
    const checked = new Set<string>();
    const check = (spec: MessageSpec) => {
      if (checked.has(spec.fullName)) return;
      checked.add(spec.fullName);
      const type = root.lookupType(spec.fullName);
      const expected = type.fieldsArray
        .slice()
        .sort((a, b) => a.id - b.id)
        .map((f) => {
          const resolved = f.resolvedType;
          const kind =
            resolved instanceof protobuf.Enum
              ? 'enum'
              : resolved instanceof protobuf.Type
                ? 'message'
                : f.type;
          return {
            name: f.name,
            id: f.id,
            kind,
            repeated: f.repeated,
            map: f.map,
            keyType: f.map ? (f as unknown as protobuf.MapField).keyType : undefined,
            oneof: f.partOf?.name,
            type: resolved?.fullName,
            enum: resolved instanceof protobuf.Enum ? Object.entries(resolved.values) : undefined,
          };
        });
      const actual = spec.fields.map((f) => ({
        name: f.name,
        id: f.id,
        kind: f.kind,
        repeated: f.repeated ?? false,
        map: f.map ?? false,
        keyType: f.map ? 'string' : undefined,
        oneof: f.oneof,
        type: f.message?.fullName ?? (f.enum ? type.fields[f.name].resolvedType?.fullName : undefined),
        enum: f.enum ? f.enum.names.map((name, i) => [name, i]) : undefined,
      }));
      expect({ message: spec.fullName, fields: actual }).toEqual({
        message: spec.fullName,
        fields: expected,
      });
      for (const f of spec.fields) if (f.message) check(f.message);
    };
    for (const pair of codecPairs()) check(pair.spec);
    expect(checked.size).toBeGreaterThan(40);
  });

  it('has the same services: method names in order, paths, streaming and camelCase aliases', () => {
    for (const contract of CONTRACTS) {
      const reference = referenceService(contract.file, contract.service);
      const ours = contract.ours().service;
      expect(Object.keys(ours)).toEqual(Object.keys(reference));
      for (const [name, method] of Object.entries(reference)) {
        const { path: p, requestStream, responseStream, originalName } = method;
        expect({ name, ...pickDefinition(ours[name]) }).toEqual({
          name,
          path: p,
          requestStream,
          responseStream,
          originalName,
        });
      }
    }
  });

  it('serializes random messages to the same bytes and decodes them to the same objects', () => {
    let compared = 0;
    for (const pair of codecPairs()) {
      for (let i = 0; i < 80; i++) {
        const message = randomMessage(pair.spec);
        const ref = outcome(() => pair.refSerialize(message));
        const ours = outcome(() => pair.ourSerialize(message));
        expect({ label: pair.label, message, bytes: ours }).toEqual({
          label: pair.label,
          message,
          bytes: ref,
        });
        const bytes = (ref as { ok?: Buffer }).ok;
        if (!bytes) continue;
        expect({ label: pair.label, decoded: outcome(() => pair.ourDeserialize(bytes)) }).toStrictEqual({
          label: pair.label,
          decoded: outcome(() => pair.refDeserialize(bytes)),
        });
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(2000);
  });

  it('decodes hostile bytes to the same object or fails with the same error', () => {
    let compared = 0;
    let failures = 0;
    for (const pair of codecPairs()) {
      const samples = Array.from({ length: 4 }, () => pair.refSerialize(randomMessage(pair.spec)));
      for (const valid of samples) {
        for (const input of hostileInputs(valid, pair.spec)) {
          const ref = outcome(() => pair.refDeserialize(input));
          const ours = outcome(() => pair.ourDeserialize(input));
          expect({ label: pair.label, input: input.toString('hex'), decoded: ours }).toStrictEqual({
            label: pair.label,
            input: input.toString('hex'),
            decoded: ref,
          });
          compared++;
          if ('error' in (ref as object)) failures++;
        }
      }
    }
    // Both sides must have been exercised: accepted and refused inputs.
    expect(compared).toBeGreaterThan(10000);
    expect(failures).toBeGreaterThan(1000);
    expect(compared - failures).toBeGreaterThan(1000);
  });

  it('refuses hostile objects with the same error', () => {
    const objects: unknown[] = [
      undefined,
      null,
      'text',
      7,
      [],
      [{}],
      { attributes: {} },
      { files: 'x' },
      { files: ['x'] },
    ];
    objects.push(
      { error: 'code' },
      { object_version: {} },
      { volume_capability: 'x' },
      { volume_context: 'x' },
    );
    objects.push(
      { volume_context: { k: { nested: true } } },
      { capabilities: [null] },
      { statuses: { a: 'SERVING' } },
    );
    objects.push({ volume_capability: { mount: [] } }, { volume_capability: { block: 1 } });
    for (const pair of codecPairs())
      for (const object of objects)
        expect({ label: pair.label, object, bytes: outcome(() => pair.ourSerialize(object)) }).toEqual({
          label: pair.label,
          object,
          bytes: outcome(() => pair.refSerialize(object)),
        });
  });

  it('writes a lone surrogate as U+FFFD where protobufjs writes its CESU-8 bytes in short strings', () => {
    const service = providerService().service.Version;
    const ours = (service.requestSerialize as (v: unknown) => Buffer)({ version: 'a\ud800' });
    expect(ours.toString('hex')).toBe('0a0461efbfbd');
    const reference = referenceService('provider.proto', 'v1alpha1.CSIDriverProvider').Version;
    const theirs = (reference.requestSerialize as (v: unknown) => Buffer)({ version: 'a\ud800' });
    expect(theirs.toString('hex')).toBe('0a0461eda080');
    // Both decode to the same text: invalid UTF-8 becomes U+FFFD either way.
    const decode = service.requestDeserialize as (b: Buffer) => { version: string };
    expect(decode(theirs).version).toBe(decode(ours).version.replace('\ufffd', '\ufffd\ufffd\ufffd'));
  });
});

function pickDefinition(method: grpc.MethodDefinition<unknown, unknown>) {
  const { path: p, requestStream, responseStream, originalName } = method;
  return { path: p, requestStream, responseStream, originalName };
}
