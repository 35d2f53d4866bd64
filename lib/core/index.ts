// Public API of the framework-neutral model (package entry '.').
export * from './kube-object';
export * from './validation-error';
export * from './duration';
export * from './objects';
export * from './install';
