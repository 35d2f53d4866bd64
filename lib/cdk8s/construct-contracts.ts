// The two interfaces the cdk8s constructs and their cross-construct checks (app-registry, wiring-checks)
// share. They live apart from the constructs that implement them so that the checks can name them without
// importing the constructs (which import the checks).
import { Construct, IConstruct } from 'constructs';
import type { SecretObject } from '../core';
import type { InstallCapabilities } from '../core/install';

/** A SecretProviderClass that workloads can mount: one defined in this app, or one imported by name. */
export interface ISecretProviderClass extends IConstruct {
  /** Name of the SecretProviderClass; pods reference it in their CSI volume. */
  readonly name: string;
  /** Namespace it lives in; undefined when it takes the namespace it is applied to. */
  readonly namespace?: string;
  /** Secret the volume passes as `nodePublishSecretRef` (service principal mode); undefined when none. */
  readonly nodePublishSecretName?: string;
  /**
   * The Kubernetes Secrets it syncs; undefined when not known here (an imported SPC given none), and
   * env vars from its synced Secrets are then not checked.
   */
  readonly secretObjects?: readonly SecretObject[];
}

/** What a SecretProviderClass or workload needs to know about how the driver got onto the cluster. */
export interface ISecretsStoreDriver {
  /** Name of the CSIDriver that pods reference in their CSI volumes. */
  readonly csiDriverName: string;
  /** True when this app installs the driver itself; false when AKS runs it as an add-on. */
  readonly selfHosted: boolean;
  /** The construct scope; add it as a dependency so SPCs are applied after the CRDs. */
  readonly node: Construct['node'];
  /**
   * What the install lets SecretProviderClasses use (secret sync, token requests), checked against
   * every SPC of the app at synth; undefined when not known here (the AKS add-on).
   */
  readonly capabilities?: InstallCapabilities;
}

/** A construct that creates a team's ServiceAccount for its SecretProviderClass (a SecretStore). */
export interface IServiceAccountCreator extends IConstruct {
  /** The SecretProviderClass the ServiceAccount's pods mount; names the creator in errors. */
  readonly secretProviderClass: ISecretProviderClass;
}
