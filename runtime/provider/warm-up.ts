// Runs the pure parts of the Mount path once at start, before the socket is served. V8 compiles a
// function on its first call and fills its inline caches on the first few; for the Mount path (the
// request's JSON and `objects` YAML, the response's protobuf encoding, the TLS root store) that was
// tens of ms of CPU on the first Mount of a fresh provider, which under the install's 50m CPU limit is
// seconds of wall time that the first pods of a node waited for (bench/provider/cold-start.ts,
// bench/node). Paid here it is the same CPU, spent before any pod waits. Nothing is sent anywhere and
// nothing is kept: the request is made up, its results are dropped.
import { createSecureContext } from 'node:tls';
import { POD_NAME_KEY, POD_NAMESPACE_KEY, SERVICE_ACCOUNT_TOKENS_KEY } from '../wire/csi';
import { DEFAULT_PERMISSION, encodedMountResponseSize, MountResponse } from '../wire/provider-v1alpha1';
import type { CloudEnvironment } from './clouds';
import { MountRequestFields, parseMountRequest } from './parameters';

/** Objects in the made-up request: enough for V8 to see each parse site a few times. */
export const WARM_UP_NAMES: readonly string[] = ['warm-up-0', 'warm-up-1', 'warm-up-2', 'warm-up-3'];

/** The made-up workload-identity Mount the warm-up parses (unsigned token, no real vault or tenant). */
export function warmUpMountRequest(): MountRequestFields {
  const objects = WARM_UP_NAMES.map(
    (name) => `  - |\n    objectName: ${name}\n    objectType: secret\n`,
  ).join('');
  const unsignedToken = ['{"alg":"none"}', '{"aud":["api://AzureADTokenExchange"]}', '']
    .map((part) => Buffer.from(part).toString('base64url'))
    .join('.');
  return {
    attributes: JSON.stringify({
      keyvaultName: 'warm-up',
      tenantId: '00000000-0000-0000-0000-000000000000',
      clientID: '00000000-0000-0000-0000-000000000000',
      objects: `array:\n${objects}`,
      [POD_NAME_KEY]: 'warm-up',
      [POD_NAMESPACE_KEY]: 'warm-up',
      [SERVICE_ACCOUNT_TOKENS_KEY]: JSON.stringify({
        'api://AzureADTokenExchange': { token: unsignedToken, expirationTimestamp: '2000-01-01T00:00:00Z' },
      }),
    }),
    secrets: 'null',
    permission: DEFAULT_PERMISSION,
  };
}

/** Parses the made-up Mount, encodes a made-up answer and loads the TLS root store. */
export async function warmUpMountPath(defaultCloud: CloudEnvironment): Promise<void> {
  await parseMountRequest(warmUpMountRequest(), { defaultCloud, cloudFiles: { directory: '' } });
  const response: MountResponse = {
    object_version: WARM_UP_NAMES.map((id) => ({ id: `secret/${id}`, version: '0'.repeat(32) })),
    error: null,
    files: WARM_UP_NAMES.map((name) => ({ path: name, mode: 0o644, contents: Buffer.alloc(32) })),
  };
  encodedMountResponseSize(response);
  createSecureContext();
}
