// Public API of the framework-neutral model (package entry '.').
export * from './kube-object';
export * from './validation-error';
export * from './duration';
export * from './objects';
export * from './install';
export * from './kube-names';
export * from './key-vault-names';
export * from './identity';
export * from './secret-objects';
export * from './secret-provider-class';
export * from './addon-profile';
export * from './key-vault-roles';
export * from './input-types';
export * from './workload-wiring';
