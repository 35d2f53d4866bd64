// This package's version as a constant, so the pure model reads no file: the default runtime image
// tag (install model), the provider's Version RPC and the driver's GetPluginInfo all report it, from
// the sources, from build/ and from the image alike. test/core/package-version.test.ts fails when it
// differs from package.json, so a version bump cannot forget it.

/** The `version` of this package's package.json. */
export const PACKAGE_VERSION = '0.1.0';

/** The same value as a function, for the runtime's callers. */
export function packageVersion(): string {
  return PACKAGE_VERSION;
}
