// A grpc-js service (server definition and client constructor) from hand-written message tables, shaped
// as grpc.loadPackageDefinition(protoLoader.loadSync(...)) made it: the same method paths, the
// lowerCamelCase aliases (`originalName`), and serializers with proto-loader's behaviour (./proto3.ts).
import * as grpc from '@grpc/grpc-js';
import { decodeMessage, encodeMessage, MessageSpec } from './proto3';

export interface MethodSpec {
  readonly request: MessageSpec;
  readonly response: MessageSpec;
  /** A server-streaming method (health's Watch). */
  readonly responseStream?: boolean;
}

function methodDefinition(
  path: string,
  name: string,
  method: MethodSpec,
): grpc.MethodDefinition<unknown, unknown> {
  return {
    path,
    requestStream: false,
    responseStream: method.responseStream ?? false,
    requestSerialize: (value: unknown) => encodeMessage(method.request, value),
    requestDeserialize: (bytes: Buffer) => decodeMessage(method.request, bytes),
    responseSerialize: (value: unknown) => encodeMessage(method.response, value),
    responseDeserialize: (bytes: Buffer) => decodeMessage(method.response, bytes),
    originalName: name.charAt(0).toLowerCase() + name.slice(1),
  };
}

/**
 * The client constructor of service `qualifiedName` (`package.Service`); its `.service` is the server
 * definition. Methods keep the .proto's order.
 */
export function grpcService(
  qualifiedName: string,
  methods: Readonly<Record<string, MethodSpec>>,
): grpc.ServiceClientConstructor {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(methods))
    definition[name] = methodDefinition(`/${qualifiedName}/${name}`, name, method);
  return grpc.makeGenericClientConstructor(definition, qualifiedName.split('.').pop()!);
}
