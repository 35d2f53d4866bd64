// Builds MountRequests the way the upstream driver fills them (reference upstream-driver §1.2):
// attributes = SPC parameters + pod info, secrets = JSON of the nodePublishSecretRef data or "null",
// permission = "420".
import type { MountRequest } from '../../../../runtime/wire/provider-v1alpha1';

/** Pod info the driver always adds (podInfoOnMount). */
export const POD_ATTRIBUTES = {
  secretProviderClass: 'spc1',
  'csi.storage.k8s.io/pod.name': 'app-0',
  'csi.storage.k8s.io/pod.namespace': 'team-a',
  'csi.storage.k8s.io/pod.uid': '0d4f1c9e-1111-2222-3333-444455556666',
  'csi.storage.k8s.io/serviceAccount.name': 'app',
  'csi.storage.k8s.io/ephemeral': 'false',
};

/** `objects` YAML in the upstream `array: [- |]` shape from object field maps. */
export function objectsYaml(objects: ReadonlyArray<Record<string, string | number>>): string {
  const items = objects.map((obj) => {
    const lines = Object.entries(obj).map(
      ([key, value]) => `      ${key}: ${typeof value === 'string' && value === '' ? '""' : value}`,
    );
    return `    - |\n${lines.join('\n')}`;
  });
  return `array:\n${items.join('\n')}\n`;
}

/** Options of {@link mountRequest}. */
export interface MountRequestProps {
  readonly parameters: Record<string, string>;
  /** nodePublishSecretRef data; undefined sends "null" as the v1.6 driver does. */
  readonly secrets?: Record<string, string>;
  readonly permission?: string;
  readonly targetPath?: string;
  /** Merge the pod attributes. @default true */
  readonly withPodInfo?: boolean;
}

let counter = 0;

export function mountRequest(props: MountRequestProps): MountRequest {
  counter++;
  return {
    attributes: JSON.stringify({
      ...props.parameters,
      ...(props.withPodInfo === false ? {} : POD_ATTRIBUTES),
    }),
    secrets: props.secrets === undefined ? 'null' : JSON.stringify(props.secrets),
    permission: props.permission ?? '420',
    target_path:
      props.targetPath ??
      `/var/lib/kubelet/pods/pod-${process.pid}-${counter}/volumes/kubernetes.io~csi/secrets/mount`,
    current_object_version: [],
  };
}
