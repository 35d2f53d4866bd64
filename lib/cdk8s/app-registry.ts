import { IConstruct } from 'constructs';
import type {
  ISecretProviderClass,
  ISecretsStoreDriver,
  IServiceAccountCreator,
} from './construct-contracts';

// What the constructs of one cdk8s app know of each other, for the checks that span constructs: two
// SecretProviderClasses with one name, an SPC its install cannot serve, two stores creating one ServiceAccount. Constructs register here when
// they are created; the checks read it in `node.addValidation`, at synth, when the tree is complete.

const registries = new WeakMap<IConstruct, AppRegistry>();

export class AppRegistry {
  /** The registry of the app (construct tree root) `scope` belongs to. */
  public static of(scope: IConstruct): AppRegistry {
    const root = scope.node.root;
    let registry = registries.get(root);
    if (!registry) {
      registry = new AppRegistry();
      registries.set(root, registry);
    }
    return registry;
  }

  private readonly spcsByKey = new Map<string, ISecretProviderClass[]>();
  private readonly driverList: ISecretsStoreDriver[] = [];
  private readonly serviceAccountCreators = new Map<string, IServiceAccountCreator[]>();

  private constructor() {}

  public addSecretProviderClass(spc: ISecretProviderClass): void {
    const key = spcKey(spc);
    this.spcsByKey.set(key, [...(this.spcsByKey.get(key) ?? []), spc]);
  }

  /** The SPC of the same name and namespace registered before `spc`, if any. */
  public earlierTwin(spc: ISecretProviderClass): ISecretProviderClass | undefined {
    const same = this.spcsByKey.get(spcKey(spc)) ?? [];
    const index = same.indexOf(spc);
    return index > 0 ? same[0] : undefined;
  }

  /** Records that `store` creates ServiceAccount `name` in `namespace`. */
  public addServiceAccountCreator(
    store: IServiceAccountCreator,
    namespace: string | undefined,
    name: string,
  ): void {
    const key = `${namespace ?? ''}/${name}`;
    this.serviceAccountCreators.set(key, [...(this.serviceAccountCreators.get(key) ?? []), store]);
  }

  /** The store that created the same ServiceAccount before `store`, if any. */
  public earlierServiceAccountCreator(
    store: IServiceAccountCreator,
    namespace: string | undefined,
    name: string,
  ): IServiceAccountCreator | undefined {
    const same = this.serviceAccountCreators.get(`${namespace ?? ''}/${name}`) ?? [];
    return same.indexOf(store) > 0 ? same[0] : undefined;
  }

  public addDriver(driver: ISecretsStoreDriver): void {
    this.driverList.push(driver);
  }

  /** Every driver (self-hosted install or add-on) of the app, in creation order. */
  public get drivers(): readonly ISecretsStoreDriver[] {
    return this.driverList;
  }
}

function spcKey(spc: ISecretProviderClass): string {
  return `${spc.namespace ?? ''}/${spc.name}`;
}
