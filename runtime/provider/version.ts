// What Version returns besides the API version (runtime/wire/provider-v1alpha1.ts): our runtime name
// (the version is the package's, lib/core/package-version.ts).

export const RUNTIME_NAME = 'aks-secrets-store-provider';
