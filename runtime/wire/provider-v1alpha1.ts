// The driver ⇄ provider contract, package `v1alpha1`, service `CSIDriverProvider` (runtime/proto/
// provider.proto; reference upstream-driver §1). The driver's provider client and the provider's server
// both import these types, the service constructor and the size limits, as upstream's driver and
// providers both import the generated `v1alpha1` package: a contract typed once cannot drift.
import type * as grpc from '@grpc/grpc-js';
import { grpcService } from './codec/grpc-service';
import { messageSpec } from './codec/proto3';

/** The API version a driver sends in VersionRequest and a provider answers with. */
export const API_VERSION = 'v1alpha1';

/** Full service name, the prefix of every method path (`/v1alpha1.CSIDriverProvider/Mount`). */
export const PROVIDER_SERVICE = 'v1alpha1.CSIDriverProvider';

/** Method paths, as they appear in the provider's `grpc_method` metric label. */
export const MOUNT_METHOD = `/${PROVIDER_SERVICE}/Mount`;
export const VERSION_METHOD = `/${PROVIDER_SERVICE}/Version`;

/** MountRequest.permission as upstream sends it: JSON of Go's os.FileMode(0644). */
export const DEFAULT_PERMISSION = '420';

/**
 * gRPC's default message limit, which upstream keeps: the driver's `--max-call-recv-msg-size` default
 * and the most a provider answers by default (reference §1.3).
 */
export { DEFAULT_MAX_MESSAGE_BYTES } from '../common/net/grpc-unix';

/** Above this many bytes of file content upstream warns that syncing to a Kubernetes Secret may fail. */
export const SYNC_WARNING_BYTES = 1024 * 1024;

/** `ObjectVersion`: one mounted object and its version, stored in the SecretProviderClassPodStatus. */
export interface ObjectVersion {
  readonly id: string;
  readonly version: string;
}

/** `File`: one file of the volume, a clean relative path, permission bits 0–511 and the bytes. */
export interface ProviderFile {
  readonly path: string;
  readonly mode: number;
  readonly contents: Buffer;
}

/** `Error`: a non-empty code fails the mount and becomes the driver's `error_type` label. */
export interface ProviderErrorMessage {
  readonly code: string;
}

/** `MountRequest` as grpc-js carries it (snake_case; the JSON fields are strings). */
export interface MountRequest {
  /** JSON map: SPC parameters, then the volume context over them, then the service-account tokens. */
  readonly attributes: string;
  /** JSON map of the nodePublishSecretRef data, or `null` when there is none. */
  readonly secrets: string;
  readonly target_path: string;
  /** JSON of the default file mode, {@link DEFAULT_PERMISSION}. */
  readonly permission: string;
  /** Versions currently mounted; upstream v1.6 always sends an empty list. */
  readonly current_object_version: readonly ObjectVersion[];
}

/** `MountResponse` (decoded with defaults: absent repeated fields are `[]`, an absent error is `null`). */
export interface MountResponse {
  /** Must not be empty: the driver fails a mount without versions. */
  readonly object_version: readonly ObjectVersion[];
  readonly error: ProviderErrorMessage | null;
  readonly files: readonly ProviderFile[];
}

export interface VersionRequest {
  readonly version: string;
}

export interface VersionResponse {
  readonly version: string;
  readonly runtime_name: string;
  readonly runtime_version: string;
}

// The messages of runtime/proto/provider.proto, field for field (test/runtime/wire/proto3-codec.test.ts
// checks them against the .proto through protobufjs).
const objectVersionSpec = messageSpec('.v1alpha1.ObjectVersion', [
  { name: 'id', id: 1, kind: 'string' },
  { name: 'version', id: 2, kind: 'string' },
]);

/** The wire tables of the contract's messages, by message name. */
export const PROVIDER_MESSAGES = {
  VersionRequest: messageSpec('.v1alpha1.VersionRequest', [{ name: 'version', id: 1, kind: 'string' }]),
  VersionResponse: messageSpec('.v1alpha1.VersionResponse', [
    { name: 'version', id: 1, kind: 'string' },
    { name: 'runtime_name', id: 2, kind: 'string' },
    { name: 'runtime_version', id: 3, kind: 'string' },
  ]),
  MountRequest: messageSpec('.v1alpha1.MountRequest', [
    { name: 'attributes', id: 1, kind: 'string' },
    { name: 'secrets', id: 2, kind: 'string' },
    { name: 'target_path', id: 3, kind: 'string' },
    { name: 'permission', id: 4, kind: 'string' },
    { name: 'current_object_version', id: 5, kind: 'message', repeated: true, message: objectVersionSpec },
  ]),
  MountResponse: messageSpec('.v1alpha1.MountResponse', [
    { name: 'object_version', id: 1, kind: 'message', repeated: true, message: objectVersionSpec },
    {
      name: 'error',
      id: 2,
      kind: 'message',
      message: messageSpec('.v1alpha1.Error', [{ name: 'code', id: 1, kind: 'string' }]),
    },
    {
      name: 'files',
      id: 3,
      kind: 'message',
      repeated: true,
      message: messageSpec('.v1alpha1.File', [
        { name: 'path', id: 1, kind: 'string' },
        { name: 'mode', id: 2, kind: 'int32' },
        { name: 'contents', id: 3, kind: 'bytes' },
      ]),
    },
  ]),
  ObjectVersion: objectVersionSpec,
} as const;

let service: grpc.ServiceClientConstructor | undefined;
/**
 * Responses encoded to measure them (encodedMountResponseSize), taken by the server's serializer of
 * that very object instead of encoding it a second time: one encode per Mount. A response is not
 * changed once measured (the provider measures the response it then returns).
 */
const measuredResponses = new WeakMap<object, Buffer>();

/** The `CSIDriverProvider` service constructor (client) and its `.service` definition (server). */
export function providerService(): grpc.ServiceClientConstructor {
  if (service) return service;
  service = grpcService(PROVIDER_SERVICE, {
    Version: { request: PROVIDER_MESSAGES.VersionRequest, response: PROVIDER_MESSAGES.VersionResponse },
    Mount: { request: PROVIDER_MESSAGES.MountRequest, response: PROVIDER_MESSAGES.MountResponse },
  });
  const mount = service.service.Mount;
  const encode = mount.responseSerialize as (value: unknown) => Buffer;
  (mount as { responseSerialize: (value: unknown) => Buffer }).responseSerialize = (value) => {
    const measured = typeof value === 'object' && value !== null ? measuredResponses.get(value) : undefined;
    if (!measured) return encode(value);
    measuredResponses.delete(value as object);
    return measured;
  };
  return service;
}

/** The exact encoded size of a MountResponse: what the driver's receive limit is applied to. */
export function encodedMountResponseSize(response: MountResponse): number {
  const encoded = (providerService().service.Mount.responseSerialize as (value: unknown) => Buffer)(response);
  measuredResponses.set(response, encoded);
  return encoded.length;
}

/** Bytes of file content in a response, the figure upstream's 1 MiB sync warning is about. */
export function mountResponseContentBytes(response: Pick<MountResponse, 'files'>): number {
  return response.files.reduce((sum, f) => sum + f.contents.length, 0);
}
