// cdk8s constructs (package entry './cdk8s').
export * from './names';
export * from './secret-provider-class';
export * from './secrets-store-volume';
export * from './secrets-store-mount';
export { envFromSyncedSecret } from './synced-secret-env';
export * from './workload-identity';
export * from './restart-on-rotation';
export * from './secret-store';
export * from './self-hosted-install';
