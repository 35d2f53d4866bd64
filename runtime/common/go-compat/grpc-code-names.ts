// gRPC status codes by the names Go's codes.Code.String() prints ("DeadlineExceeded"), as upstream's
// metric labels, logs and the driver's "rpc error: code = ..." texts spell them.
const GO_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
] as const;

/** Go's name of gRPC status `code`; undefined for a code Go has no name for. */
export function goGrpcCodeName(code: number): string | undefined {
  return GO_CODE_NAMES[code];
}
