import { randomBytes } from 'node:crypto';
import type { KubeApi } from '../../harness/rig/kube-api';

/**
 * A namespace of its own for one rig test file: created before its tests, deleted after them (the
 * apiserver is shared by every rig file of the run). Also closes `api` at the end. Returns the name.
 */
export function useTestNamespace(api: KubeApi, prefix = 'rig'): string {
  const namespace = `${prefix}-${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    await api.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    });
  });
  afterAll(async () => {
    await api.delete(`/api/v1/namespaces/${namespace}`);
    api.close();
  });
  return namespace;
}
