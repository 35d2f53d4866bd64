// The one place that imports cdk8s-plus. cdk8s-plus-27 is past its upstream support window; moving
// to a newer line (e.g. cdk8s-plus-33, whose Volume.fromCsi is identical) is a change of this line.
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
} from 'cdk8s-plus-27';
export type { ISecret, IServiceAccount, MountOptions } from 'cdk8s-plus-27';
