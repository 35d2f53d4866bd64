import { KubeClient } from './kube-client';
import { EVENTS } from './kube-resources';
import { KubeEvent, KubeResourceObject } from './kube-types';

/** Longest Event message the API server accepts (1 KiB in core/v1 validation). */
const MAX_MESSAGE = 1024;

/** Options of {@link EventRecorder}. */
export interface EventRecorderProps {
  /** Client that creates the Events. */
  readonly client: KubeClient;
  /** `source.component` / `reportingComponent`, e.g. `csi-secrets-store-controller`. */
  readonly component: string;
  /** `source.host` (the node name). @default none */
  readonly host?: string;
  /** Called when an Event cannot be written (events are best-effort and never fail the caller). @default none */
  readonly onError?: (err: unknown) => void;
}

/** Kind of an Event. */
export type EventType = 'Normal' | 'Warning';

/**
 * Writes core/v1 Events about an object (involvedObject = kind, name, namespace, uid). Callers pass
 * messages that hold names and reasons only, never secret content or tokens.
 */
export class EventRecorder {
  private readonly props: EventRecorderProps;

  constructor(props: EventRecorderProps) {
    this.props = props;
  }

  /** Creates the Event; resolves even when the API refuses it (reported through `onError`). */
  async record(
    about: KubeResourceObject,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<KubeEvent | undefined> {
    const namespace = about.metadata.namespace || 'default';
    const now = new Date().toISOString();
    const event: KubeEvent = {
      metadata: { generateName: `${about.metadata.name ?? 'object'}.`, namespace },
      involvedObject: {
        apiVersion: about.apiVersion,
        kind: about.kind,
        name: about.metadata.name,
        namespace: about.metadata.namespace,
        uid: about.metadata.uid,
        resourceVersion: about.metadata.resourceVersion,
      },
      reason,
      message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message,
      type,
      source: { component: this.props.component, host: this.props.host },
      reportingComponent: this.props.component,
      reportingInstance: this.props.host ?? '',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      return await this.props.client.create<KubeEvent>(EVENTS, event, namespace);
    } catch (err) {
      this.props.onError?.(err);
      return undefined;
    }
  }
}
