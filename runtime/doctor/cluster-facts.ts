// The objects the checks read, each read once per run (several pods share a node, an install, a class).
import {
  EVENTS,
  PODS,
  SECRET_PROVIDER_CLASS_POD_STATUSES,
  SECRET_PROVIDER_CLASSES,
  SECRETS,
} from '../driver/cluster/kube/kube-resources';
import type {
  KubeEvent,
  KubeResourceObject,
  Pod,
  Secret,
  SecretProviderClass,
  SecretProviderClassPodStatus,
} from '../driver/cluster/kube/kube-types';
import {
  ClusterReader,
  DAEMON_SETS,
  NODES,
  Read,
  SERVICE_ACCOUNTS,
  STORAGE_CSI_DRIVERS,
} from './cluster-reader';
import type { DaemonSet, Node } from './daemonsets';
import { selectorText } from './daemonsets';

/** `storage.k8s.io/v1` CSIDriver. */
export interface CsiDriver extends KubeResourceObject {
  spec?: {
    podInfoOnMount?: boolean;
    requiresRepublish?: boolean;
    volumeLifecycleModes?: string[];
    tokenRequests?: Array<{ audience: string; expirationSeconds?: number }>;
    attachRequired?: boolean;
  };
}

/** A Secret as the doctor keeps it: its key names only, never a value. */
export interface SecretKeys {
  readonly name: string;
  readonly keys: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

/** The DaemonSets the checks can see, and where they looked. */
export interface DaemonSetScope {
  readonly daemonSets: readonly DaemonSet[];
  /** e.g. `all namespaces`, `namespace kube-system`. */
  readonly where: string;
  /** Set when listing everywhere was refused and a narrower look was taken. */
  readonly note?: string;
}

export class ClusterFacts {
  private readonly memo = new Map<string, Promise<unknown>>();

  constructor(
    readonly reader: ClusterReader,
    /** `--install-namespace`: where the driver and provider DaemonSets are looked for. @default everywhere */
    readonly installNamespace?: string,
  ) {}

  private once<T>(key: string, read: () => Promise<T>): Promise<T> {
    if (!this.memo.has(key)) this.memo.set(key, read());
    return this.memo.get(key) as Promise<T>;
  }

  csiDriver(name: string): Promise<Read<CsiDriver>> {
    return this.once(`csidriver/${name}`, () => this.reader.read<CsiDriver>(STORAGE_CSI_DRIVERS, name));
  }

  node(name: string): Promise<Read<Node>> {
    return this.once(`node/${name}`, () => this.reader.read<Node>(NODES, name));
  }

  /** DaemonSets in `--install-namespace`, else everywhere, else (not allowed to list everywhere) kube-system. */
  daemonSets(): Promise<Read<DaemonSetScope>> {
    return this.once('daemonsets', async (): Promise<Read<DaemonSetScope>> => {
      if (this.installNamespace) {
        const read = await this.reader.readList<DaemonSet>(DAEMON_SETS, { namespace: this.installNamespace });
        return read.ok
          ? { ok: true, value: { daemonSets: read.value, where: `namespace ${this.installNamespace}` } }
          : read;
      }
      const everywhere = await this.reader.readList<DaemonSet>(DAEMON_SETS);
      if (everywhere.ok)
        return { ok: true, value: { daemonSets: everywhere.value, where: 'all namespaces' } };
      if (everywhere.reason !== 'forbidden') return everywhere;
      const system = await this.reader.readList<DaemonSet>(DAEMON_SETS, { namespace: 'kube-system' });
      return system.ok
        ? {
            ok: true,
            value: {
              daemonSets: system.value,
              where: 'namespace kube-system',
              note: 'listing DaemonSets in all namespaces is not allowed; looked in kube-system only (--install-namespace names another)',
            },
          }
        : system;
    });
  }

  /** The pods of a DaemonSet (owned by it), on `node` when given. */
  daemonSetPods(ds: DaemonSet, node?: string): Promise<Read<Pod[]>> {
    const key = `dspods/${ds.metadata.namespace}/${ds.metadata.name}/${node ?? ''}`;
    return this.once(key, async () => {
      const read = await this.reader.readList<Pod>(PODS, {
        namespace: ds.metadata.namespace,
        labelSelector: selectorText(ds),
        fieldSelector: node ? `spec.nodeName=${node}` : undefined,
      });
      if (!read.ok) return read;
      const owned = read.value.filter((pod) =>
        (pod.metadata.ownerReferences ?? []).some((o) => o.kind === 'DaemonSet' && o.uid === ds.metadata.uid),
      );
      return { ok: true, value: owned };
    });
  }

  secretProviderClass(namespace: string, name: string): Promise<Read<SecretProviderClass>> {
    return this.once(`spc/${namespace}/${name}`, () =>
      this.reader.read<SecretProviderClass>(SECRET_PROVIDER_CLASSES, name, namespace),
    );
  }

  /** SecretProviderClasses of this name in other namespaces (the classic mistake). */
  secretProviderClassesNamed(name: string): Promise<Read<SecretProviderClass[]>> {
    return this.once(`spc-named/${name}`, () =>
      this.reader.readList<SecretProviderClass>(SECRET_PROVIDER_CLASSES, {
        fieldSelector: `metadata.name=${name}`,
      }),
    );
  }

  serviceAccount(namespace: string, name: string): Promise<Read<KubeResourceObject>> {
    return this.once(`sa/${namespace}/${name}`, () => this.reader.read(SERVICE_ACCOUNTS, name, namespace));
  }

  /** A Secret's key names (values are dropped as soon as they arrive). */
  secretKeys(namespace: string, name: string): Promise<Read<SecretKeys>> {
    return this.once(`secret/${namespace}/${name}`, async (): Promise<Read<SecretKeys>> => {
      const read = await this.reader.read<Secret>(SECRETS, name, namespace);
      if (!read.ok) return read;
      return {
        ok: true,
        value: {
          name,
          keys: Object.keys({ ...(read.value.data ?? {}), ...(read.value.stringData ?? {}) }),
          labels: read.value.metadata.labels ?? {},
        },
      };
    });
  }

  podStatus(namespace: string, name: string): Promise<Read<SecretProviderClassPodStatus>> {
    return this.once(`spcps/${namespace}/${name}`, () =>
      this.reader.read<SecretProviderClassPodStatus>(SECRET_PROVIDER_CLASS_POD_STATUSES, name, namespace),
    );
  }

  /** Every SecretProviderClassPodStatus of a namespace (who has mounted what). */
  podStatuses(namespace: string): Promise<Read<SecretProviderClassPodStatus[]>> {
    return this.once(`spcps-all/${namespace}`, () =>
      this.reader.readList<SecretProviderClassPodStatus>(SECRET_PROVIDER_CLASS_POD_STATUSES, { namespace }),
    );
  }

  /** Events about one pod, newest first. */
  podEvents(namespace: string, podName: string): Promise<Read<KubeEvent[]>> {
    return this.once(`events/${namespace}/${podName}`, async (): Promise<Read<KubeEvent[]>> => {
      const read = await this.reader.readList<KubeEvent>(EVENTS, {
        namespace,
        fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${podName}`,
      });
      if (!read.ok) return read;
      return { ok: true, value: [...read.value].sort((a, b) => eventTime(b) - eventTime(a)) };
    });
  }
}

/** When an Event last happened: lastTimestamp, else the events.k8s.io eventTime, else when it was first seen or made. */
export function eventTime(e: KubeEvent): number {
  return (
    Date.parse(
      e.lastTimestamp ??
        (e.eventTime as string | undefined) ??
        e.firstTimestamp ??
        e.metadata.creationTimestamp ??
        '',
    ) || 0
  );
}
