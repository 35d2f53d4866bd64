// Entry point of the component package: serves the components to the Pulumi engine as a provider (Construct
// builds a component, GetSchema runs Pulumi's schema analyzer on ../index.ts). The engine starts this through
// the nodejs language host (PulumiPlugin.yaml) or through pulumi-resource-aks-secrets-store.
import { componentProviderHost } from '@pulumi/pulumi/provider/experimental';
import { PACKAGE_VERSION } from '../../core/package-version';
import { PACKAGE_NAME } from '../component-type';
import { COMPONENTS } from './components';

void componentProviderHost({
  components: [...COMPONENTS],
  dirname: __dirname,
  name: PACKAGE_NAME,
  // Accepted by the provider, not yet by the options type of @pulumi/pulumi 3.248.
  ...{ version: PACKAGE_VERSION },
});
