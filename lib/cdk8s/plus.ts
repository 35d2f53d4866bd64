import { Construct } from 'constructs';
import { Volume } from 'cdk8s-plus-33';

// The one place that imports cdk8s-plus: cdk8s-plus-33, a peer dependency, so the user's app and these
// helpers share one copy of its classes (a second copy's Container would not type-check against ours).
// The one cdk8s-plus internal we rely on is here too, pinned by test/cdk8s/plus.test.ts.
export {
  AbstractPod,
  Container,
  DaemonSet,
  Deployment,
  EnvValue,
  Pod,
  Secret,
  ServiceAccount,
  StatefulSet,
  Volume,
  Workload,
} from 'cdk8s-plus-33';
export type { ISecret, IServiceAccount, MountOptions } from 'cdk8s-plus-33';

/** A read-only CSI inline volume, as `Volume.fromCsi` renders it plus a `nodePublishSecretRef`. */
export interface CsiVolumeProps {
  /** Volume name in the pod spec. */
  readonly name: string;
  /** CSI driver name. */
  readonly driver: string;
  /** `volumeAttributes`. */
  readonly attributes: Record<string, string>;
  /**
   * Secret passed to the driver on NodePublishVolume (`nodePublishSecretRef`).
   * @default - none
   */
  readonly nodePublishSecretName?: string;
}

/**
 * A read-only CSI volume. cdk8s-plus's CsiVolumeOptions has no `nodePublishSecretRef` (up to
 * cdk8s-plus-33), so when one is needed this volume's `_toKube` (the internal every pod calls to render
 * its volumes) is wrapped to add it.
 */
export function readOnlyCsiVolume(scope: Construct, id: string, props: CsiVolumeProps): Volume {
  const volume = Volume.fromCsi(scope, id, props.driver, {
    name: props.name,
    readOnly: true,
    attributes: props.attributes,
  });
  const secretName = props.nodePublishSecretName;
  if (secretName !== undefined) {
    const render = volume._toKube.bind(volume);
    Object.defineProperty(volume, '_toKube', {
      value: () => {
        const kube = render();
        return { ...kube, csi: { ...kube.csi!, nodePublishSecretRef: { name: secretName } } };
      },
    });
  }
  return volume;
}

/** A volume's CSI driver and attributes (from the same `_toKube`), or undefined when it is not a CSI volume. */
export function csiVolumeSource(
  volume: Volume,
): { readonly driver: string; readonly attributes: Readonly<Record<string, string>> } | undefined {
  const csi = volume._toKube().csi;
  return csi ? { driver: csi.driver, attributes: csi.volumeAttributes ?? {} } : undefined;
}
