// cdk8s constructs (package entry './cdk8s').
export {};
export * from './secret-provider-class';
export * from './workload';
export * from './secret-store';
export * from './self-hosted-install';
