// The self-hosted install model: plain Kubernetes objects for the Secrets Store CSI Driver + Azure provider.
export * from './names';
export * from './crds';
