import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import {
  installCapabilityProblems,
  resolveSecretProviderClass,
  ResolvedIdentity,
  SecretObject,
  SecretProviderClassProps as CoreSecretProviderClassProps,
  validateDns1123Label,
  validateDns1123Subdomain,
} from '../core';
import { AppRegistry } from './app-registry';
import type { ISecretProviderClass } from './construct-contracts';
import { atConstruct } from './construct-errors';
import { wiringProblems } from './wiring-checks';

export type { ISecretProviderClass } from './construct-contracts';

/** What is known of a SecretProviderClass created elsewhere (another app, Helm, kubectl). */
export interface SecretProviderClassAttributes {
  /**
   * Its namespace.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
  /**
   * The service principal Secret it needs as the volume's `nodePublishSecretRef`.
   * @default - none (not service principal mode)
   */
  readonly servicePrincipalSecretName?: string;
  /**
   * The Secrets it syncs, so env vars read from them are checked.
   * @default - unknown: env vars from synced Secrets are not checked
   */
  readonly secretObjects?: readonly SecretObject[];
}

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
 * object names, aliases, identity mode, secretObjects) and rendered from the shared core model. What
 * depends on the rest of the app (a second SPC of the same name, an install that cannot serve this
 * one, a pod in another namespace mounting it) is checked at synth.
 */
export class SecretProviderClass extends Construct implements ISecretProviderClass {
  /** A SecretProviderClass that exists already, to mount it into workloads of this app. */
  public static fromName(
    scope: Construct,
    id: string,
    name: string,
    attributes: SecretProviderClassAttributes = {},
  ): ISecretProviderClass {
    return new ImportedSecretProviderClass(scope, id, name, attributes);
  }

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
    const coreProps: CoreSecretProviderClassProps = { ...props, name: this.name, namespace: this.namespace };
    const resolved = atConstruct(this, () => resolveSecretProviderClass(coreProps));
    this.identity = resolved.identity;
    this.secretObjects = props.secretObjects ?? [];
    const { apiVersion, kind, metadata, ...rest } = resolved.object;
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion,
      kind,
      metadata: { ...metadata },
      ...rest,
    });

    const registry = AppRegistry.of(this);
    registry.addSecretProviderClass(this);
    this.node.addValidation({ validate: () => this.crossConstructProblems(registry) });
  }

  public get nodePublishSecretName(): string | undefined {
    return this.identity.nodePublishSecretName;
  }

  private crossConstructProblems(registry: AppRegistry): string[] {
    const problems: string[] = [];
    const twin = registry.earlierTwin(this);
    if (twin) {
      problems.push(
        `name: SecretProviderClass "${this.name}" in namespace "${this.namespace ?? '(none)'}" is already defined at ${twin.node.path}; one would overwrite the other when applied, so give this one another name`,
      );
    }
    const needs = {
      identityMode: this.identity.mode,
      syncedSecretNames: this.secretObjects.map((secret) => secret.secretName),
    };
    for (const driver of registry.drivers) {
      if (driver.capabilities === undefined) continue;
      for (const problem of installCapabilityProblems(needs, driver.capabilities, driver.node.path)) {
        problems.push(`${problem.field}: ${problem.detail}`);
      }
    }
    return [...problems, ...wiringProblems(this)];
  }
}

class ImportedSecretProviderClass extends Construct implements ISecretProviderClass {
  public readonly name: string;
  public readonly namespace?: string;
  public readonly nodePublishSecretName?: string;
  public readonly secretObjects?: readonly SecretObject[];

  constructor(scope: Construct, id: string, name: string, attributes: SecretProviderClassAttributes) {
    super(scope, id);
    this.name = name;
    this.namespace = attributes.namespace ?? Chart.of(this).namespace;
    atConstruct(this, () => {
      validateDns1123Subdomain(name, 'name');
      if (this.namespace !== undefined) validateDns1123Label(this.namespace, 'namespace');
      if (attributes.servicePrincipalSecretName !== undefined) {
        validateDns1123Subdomain(
          attributes.servicePrincipalSecretName,
          'servicePrincipalSecretName',
          'Secret name',
        );
      }
    });
    this.nodePublishSecretName = attributes.servicePrincipalSecretName;
    this.secretObjects = attributes.secretObjects;
    this.node.addValidation({ validate: () => wiringProblems(this) });
  }
}
