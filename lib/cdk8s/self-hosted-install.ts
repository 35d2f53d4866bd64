import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import {
  azureSpcAdmissionPolicy,
  azureSpcAdmissionPolicyBinding,
  InstallCapabilities,
  renderResolvedInstall,
  ResolvedInstallOptions,
  resolveInstallOptions,
  SECRETS_STORE_CSI_DRIVER_NAME,
  SelfHostedInstallOptions,
} from '../core/install';
import { AppRegistry } from './app-registry';
import type { ISecretsStoreDriver } from './construct-contracts';
import { atConstruct } from './construct-errors';
import { kubeApiObject } from './kube-api-object';

export type { ISecretsStoreDriver } from './construct-contracts';

// cdk8s front end of the install model in lib/core/install: every object is rendered there and only
// wrapped here, so the cdk8s and Pulumi installs cannot drift apart.

/** Props of SelfHostedInstall: exactly the framework-neutral SelfHostedInstallOptions. */
export type SelfHostedInstallProps = SelfHostedInstallOptions;

/**
 * Self-hosted Secrets Store CSI Driver + Azure Key Vault provider: CRDs, CSIDriver, RBAC, the
 * admission policy and both DaemonSets. Options are validated when the construct is created, so a
 * bad value fails `cdk8s synth` with a message naming the field.
 */
export class SelfHostedInstall extends Construct implements ISecretsStoreDriver {
  public readonly csiDriverName = SECRETS_STORE_CSI_DRIVER_NAME;
  public readonly selfHosted = true;
  /** The options after every check and default, as rendered. */
  public readonly options: ResolvedInstallOptions;
  /** Every object, in apply order (CRDs first). */
  public readonly apiObjects: readonly ApiObject[];

  constructor(scope: Construct, id: string, props: SelfHostedInstallProps = {}) {
    super(scope, id);
    this.options = atConstruct(this, () => resolveInstallOptions(props));
    this.apiObjects = renderResolvedInstall(this.options).map((object) => kubeApiObject(this, object));
    AppRegistry.of(this).addDriver(this);
  }

  public get capabilities(): InstallCapabilities {
    return this.options;
  }

  /** The rendered object of the given kind and name; throws if this install has none. */
  public apiObject(kind: string, name: string): ApiObject {
    const found = this.apiObjects.find((o) => o.kind === kind && o.name === name);
    if (!found) throw new Error(`SelfHostedInstall ${this.node.path} has no ${kind} named ${name}`);
    return found;
  }
}

export interface AksAddOnDriverProps {
  /**
   * Also install this project's ValidatingAdmissionPolicy for Azure SecretProviderClasses; the AKS
   * add-on ships no such policy. Needs Kubernetes >= 1.30.
   * @default true
   */
  readonly admissionPolicy?: boolean;
}

/**
 * The driver as the AKS add-on `azure-keyvault-secrets-provider` runs it: AKS already installs the
 * CRDs, CSIDriver, RBAC and both DaemonSets, so this renders nothing but (optionally) the admission
 * policy. Enable the add-on itself on the cluster (Pulumi component, az CLI or ARM).
 */
export class AksAddOnDriver extends Construct implements ISecretsStoreDriver {
  public readonly csiDriverName = SECRETS_STORE_CSI_DRIVER_NAME;
  public readonly selfHosted = false;
  public readonly apiObjects: readonly ApiObject[];

  constructor(scope: Construct, id: string, props: AksAddOnDriverProps = {}) {
    super(scope, id);
    this.apiObjects =
      (props.admissionPolicy ?? true)
        ? [azureSpcAdmissionPolicy(), azureSpcAdmissionPolicyBinding()].map((object) =>
            kubeApiObject(this, object),
          )
        : [];
    AppRegistry.of(this).addDriver(this);
  }
}
