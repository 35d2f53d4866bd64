export * from './kube-api-error';
export * from './kube-config';
export * from './kube-types';
export * from './kube-resources';
export * from './kube-client';
export * from './watch-cache';
export * from './event-recorder';
