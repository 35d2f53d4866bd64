// The .proto files of runtime/proto loaded into grpc-js: the one place that turns the written wire
// contract into service definitions. Field names stay as in the .proto (snake_case), so the message
// types of ./csi.ts and ./provider-v1alpha1.ts describe exactly what grpc-js decodes and encodes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** Loader options shared by every contract: snake_case names, and defaults so absent fields decode as ''/[]/null. */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * Absolute path of a .proto shipped in runtime/proto. Works from the TypeScript sources
 * (runtime/wire → runtime/proto) and from the compiled build (build/runtime/wire → runtime/proto
 * at the package root, which the image copies next to build/).
 */
function protoFilePath(fileName: string): string {
  const candidates = [
    path.resolve(__dirname, '..', 'proto', fileName),
    path.resolve(__dirname, '..', '..', '..', 'runtime', 'proto', fileName),
  ];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found)
    throw new Error(
      `proto file ${fileName} not found; looked in ${candidates.join(', ')} (ship runtime/proto next to build/)`,
    );
  return found;
}

/**
 * The service constructor `qualifiedName` (e.g. `v1alpha1.CSIDriverProvider`) out of `fileName`, loaded
 * once per file and only when first asked for, so a process pays only for the contracts it speaks.
 */
export function protoService(fileName: string, qualifiedName: string): grpc.ServiceClientConstructor {
  let node: unknown = loadedPackage(fileName);
  for (const part of qualifiedName.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  if (typeof node !== 'function' || !('service' in node))
    throw new Error(`service ${qualifiedName} not found in ${fileName}`);
  return node as grpc.ServiceClientConstructor;
}

const packages = new Map<string, grpc.GrpcObject>();

function loadedPackage(fileName: string): grpc.GrpcObject {
  let pkg = packages.get(fileName);
  if (!pkg) {
    pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoFilePath(fileName), LOADER_OPTIONS));
    packages.set(fileName, pkg);
  }
  return pkg;
}
