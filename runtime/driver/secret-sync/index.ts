export * from './sync-secrets';
export * from './secret-sync-controller';
export * from './secret-sync-metrics';
export * from './secret-owners';
export * from './tls-parts';
export * from './mounted-content';
export * from './after-publish';
