import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import {
  renderSecretProviderClass,
  ResolvedIdentity,
  SecretObject,
  SecretProviderClassProps as CoreSecretProviderClassProps,
  validateSecretProviderClass,
  ValidationError,
} from '../core';

/** Props of the cdk8s SecretProviderClass: the core props, with the name optional. */
export interface SecretProviderClassProps extends Omit<CoreSecretProviderClassProps, 'name'> {
  /**
   * Name of the SecretProviderClass; pods reference it from their CSI volume.
   * @default - the construct id (which must then be a valid Kubernetes name)
   */
  readonly name?: string;
}

/**
 * A SecretProviderClass for the Azure Key Vault provider, validated when constructed (vault and
 * object names, aliases, identity mode, secretObjects) and rendered from the shared core model.
 */
export class SecretProviderClass extends Construct {
  /** Name of the SecretProviderClass. */
  public readonly name: string;
  /** Namespace it renders into: `namespace`, else the chart's namespace, else none. */
  public readonly namespace?: string;
  /** The identity mode the SPC selects (service principal mode needs a nodePublishSecretRef). */
  public readonly identity: ResolvedIdentity;
  /** The Kubernetes Secrets the driver syncs from this SPC. */
  public readonly secretObjects: readonly SecretObject[];
  /** The rendered object. */
  public readonly apiObject: ApiObject;

  constructor(scope: Construct, id: string, props: SecretProviderClassProps) {
    super(scope, id);
    this.name = props.name ?? id;
    this.namespace = props.namespace ?? Chart.of(this).namespace;
    const twin = this.node.root.node
      .findAll()
      .find(
        (c) =>
          c !== this &&
          c instanceof SecretProviderClass &&
          c.name === this.name &&
          c.namespace === this.namespace,
      );
    if (twin) {
      throw new ValidationError(
        'name',
        `SecretProviderClass "${this.name}" in namespace "${this.namespace ?? '(none)'}" is already defined at ${twin.node.path}; one would overwrite the other when applied, so give this one another name`,
      );
    }
    const coreProps: CoreSecretProviderClassProps = { ...props, name: this.name, namespace: this.namespace };
    this.identity = validateSecretProviderClass(coreProps);
    this.secretObjects = props.secretObjects ?? [];
    const { apiVersion, kind, metadata, ...rest } = renderSecretProviderClass(coreProps);
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion,
      kind,
      metadata: { ...metadata },
      ...rest,
    });
  }
}
