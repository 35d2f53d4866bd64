// The one place that imports cdk8s-plus: cdk8s-plus-33, a peer dependency, so the user's app and these
// helpers share one copy of its classes (a second copy's Container would not type-check against ours).
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
