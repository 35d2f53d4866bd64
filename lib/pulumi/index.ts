// Pulumi components (package entry './pulumi').
export * from './component-type';
export * from './deterministic-guid';
export * from './addon-profile';
export * from './addon-identity-access';
export * from './key-vault';
export * from './key-vault-role-assignments';
export * from './workload-identity';
export * from './kube-object-resource';
export * from './self-hosted-install';
export * from './secret-store';
export * from './install-mode';
export * from './vault-id';
export * from './existing-cluster-addon';
export * from './managed-cluster-addon-client';
