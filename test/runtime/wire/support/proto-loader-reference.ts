// What the runtime used before runtime/wire/codec: the .proto files of runtime/proto loaded with
// @grpc/proto-loader (protobufjs underneath) and the options grpc-js was given. The codec tests run it
// next to ours; the runtime no longer loads it.
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The loader options the runtime used: snake_case names, strings for int64 and enums, defaults. */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

const PROTO_DIR = path.resolve(__dirname, '..', '..', '..', '..', 'runtime', 'proto');

const definitions = new Map<string, protoLoader.PackageDefinition>();

/** proto-loader's package definition of `fileName` (services and message descriptors). */
export function referenceDefinition(fileName: string): protoLoader.PackageDefinition {
  let definition = definitions.get(fileName);
  if (!definition) {
    definition = protoLoader.loadSync(path.join(PROTO_DIR, fileName), LOADER_OPTIONS);
    definitions.set(fileName, definition);
  }
  return definition;
}

/** The reference service `qualifiedName` (e.g. `csi.v1.Node`) of `fileName`. */
export function referenceService(fileName: string, qualifiedName: string): grpc.ServiceDefinition {
  let node: unknown = grpc.loadPackageDefinition(referenceDefinition(fileName));
  for (const part of qualifiedName.split('.')) node = (node as Record<string, unknown>)[part];
  return (node as grpc.ServiceClientConstructor).service;
}
