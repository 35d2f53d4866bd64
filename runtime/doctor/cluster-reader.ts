// The doctor's only way to the cluster: GET and LIST through the driver's own Kubernetes client, nothing
// that writes. Reads that the doctor can do without (another namespace, a Secret) report "forbidden" or
// "unreachable" as a value, so a check is skipped and says why; the reads it needs throw CouldNotCheck,
// which ends the run with exit code 2.
import { isForbidden, isNotFound, KubeApiError } from '../driver/cluster/kube/kube-api-error';
import type { KubeClient, ListOptions } from '../driver/cluster/kube/kube-client';
import type { KubeResource } from '../driver/cluster/kube/kube-resources';
import type { KubeResourceObject } from '../driver/cluster/kube/kube-types';

/** The run cannot go on: the cluster could not be read (exit code 2). */
export class CouldNotCheck extends Error {
  constructor(
    message: string,
    /** What to do about it. */
    readonly fix: string,
  ) {
    super(message);
    this.name = 'CouldNotCheck';
  }
}

/** A read that may fail without ending the run. */
export type Read<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: 'not-found' | 'forbidden' | 'error'; readonly message: string };

export const STORAGE_CSI_DRIVERS: KubeResource = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'CSIDriver',
  plural: 'csidrivers',
  namespaced: false,
};
export const NODES: KubeResource = { apiVersion: 'v1', kind: 'Node', plural: 'nodes', namespaced: false };
export const SERVICE_ACCOUNTS: KubeResource = {
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  namespaced: true,
};
export const DAEMON_SETS: KubeResource = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  namespaced: true,
};
export const DEPLOYMENTS: KubeResource = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  plural: 'deployments',
  namespaced: true,
};
export const STATEFUL_SETS: KubeResource = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  namespaced: true,
};
export const CLUSTER_ROLE_BINDINGS: KubeResource = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  plural: 'clusterrolebindings',
  namespaced: false,
};
export const CLUSTER_ROLES: KubeResource = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  plural: 'clusterroles',
  namespaced: false,
};

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function readFailure<T>(err: unknown): Read<T> {
  if (isNotFound(err)) return { ok: false, reason: 'not-found', message: describeError(err) };
  if (isForbidden(err)) return { ok: false, reason: 'forbidden', message: describeError(err) };
  return { ok: false, reason: 'error', message: describeError(err) };
}

/** Read-only access for the checks; counts requests so the report can say how much it read. */
export class ClusterReader {
  private requests = 0;

  constructor(private readonly client: KubeClient) {}

  /** The namespace of the kubeconfig's current context. */
  get defaultNamespace(): string {
    return this.client.config.namespace;
  }

  /** The API server's URL, for the report. */
  get server(): string {
    return this.client.config.server;
  }

  /** GET requests made so far. */
  get requestCount(): number {
    return this.requests;
  }

  /** GET one object; a failure is a value. */
  async read<T extends KubeResourceObject>(
    resource: KubeResource,
    name: string,
    namespace?: string,
  ): Promise<Read<T>> {
    this.requests++;
    try {
      return { ok: true, value: await this.client.get<T>(resource, name, namespace) };
    } catch (err) {
      return readFailure<T>(err);
    }
  }

  /** LIST; a failure is a value. */
  async readList<T extends KubeResourceObject>(
    resource: KubeResource,
    options: ListOptions = {},
  ): Promise<Read<T[]>> {
    this.requests++;
    try {
      return { ok: true, value: (await this.client.list<T>(resource, options)).items };
    } catch (err) {
      return readFailure<T[]>(err);
    }
  }

  /** GET one object the run needs: absent is undefined, any other failure ends the run. */
  async find<T extends KubeResourceObject>(
    resource: KubeResource,
    name: string,
    namespace?: string,
  ): Promise<T | undefined> {
    const read = await this.read<T>(resource, name, namespace);
    if (read.ok) return read.value;
    if (read.reason === 'not-found') return undefined;
    throw this.couldNotCheck(read, `${resource.kind.toLowerCase()}s`, 'get');
  }

  /** LIST the run needs: any failure ends the run. */
  async list<T extends KubeResourceObject>(resource: KubeResource, options: ListOptions = {}): Promise<T[]> {
    const read = await this.readList<T>(resource, options);
    if (read.ok) return read.value;
    throw this.couldNotCheck(read, resource.plural, 'list');
  }

  /** GET through the API server's pod proxy (text answer), e.g. a container's /metrics. */
  async readPodProxy(namespace: string, pod: string, port: number, path: string): Promise<Read<string>> {
    this.requests++;
    try {
      const text = await this.client.getText(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(`${pod}:${port}`)}/proxy${path}`,
      );
      return { ok: true, value: text };
    } catch (err) {
      return readFailure<string>(err);
    }
  }

  private couldNotCheck(read: Read<unknown>, plural: string, verb: string): CouldNotCheck {
    const message = read.ok ? '' : read.message;
    if (!read.ok && read.reason === 'forbidden') {
      return new CouldNotCheck(
        message,
        `the doctor needs ${verb} on ${plural}: run it with a kubeconfig whose user may read the cluster (the ClusterRole in docs/troubleshooting.md)`,
      );
    }
    const transport = message.includes('transport error');
    return new CouldNotCheck(
      message,
      transport
        ? `the API server at ${this.server} did not answer: check the kubeconfig's current context, the network and \`kubectl get --raw /readyz\``
        : 'retry; if it persists, check the API server',
    );
  }
}

/** True for a KubeApiError (for callers that rethrow others). */
export function isKubeApiError(err: unknown): err is KubeApiError {
  return err instanceof KubeApiError;
}
