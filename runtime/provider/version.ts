// What Version returns: the API version and our runtime name (the version is the package's,
// lib/core/package-version.ts).

export const RUNTIME_NAME = 'aks-secrets-store-provider';
export const API_VERSION = 'v1alpha1';
