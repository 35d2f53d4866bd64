// Public API of the framework-neutral model (package entry '.').
export * from './kube-object';
export * from './validation/validation-error';
export * from './duration';
export * from './key-vault-objects';
export * from './install';
export * from './validation/kube-names';
export * from './validation/key-vault-names';
export * from './identity';
export * from './synced-secrets';
export * from './secret-provider-class';
export * from './addon-profile';
export * from './key-vault-roles';
export * from './validation/input-guards';
export * from './workload-wiring';
export * from './identity-binding';
export * from './last-known-content';
