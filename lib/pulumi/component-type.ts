// Type tokens of our ComponentResources. A multi-language component package requires
// `<package.json name>:index:<ClassName>`, so every component builds its token here.
export const PACKAGE_NAME = 'aks-secrets-store';

/** `aks-secrets-store:index:<className>`. */
export function componentType(className: string): string {
  return `${PACKAGE_NAME}:index:${className}`;
}
